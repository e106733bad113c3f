/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.ingest;

import org.opensearch.OpenSearchParseException;
import org.opensearch.ingest.IngestDocument;
import org.opensearch.ingest.IngestDocumentWrapper;
import org.opensearch.test.OpenSearchTestCase;
import org.junit.AfterClass;
import org.junit.BeforeClass;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.mapper.MultiVectorValues;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.testing.TestModels;

/**
 * The {@code late_interaction} ingest processor: what it writes (the model's document token vectors of the joined
 * fields, as nested lists the {@code multi_vector} mapper takes), batching across a bulk request, missing text,
 * and the model checks of its factory.
 */
public class EncodingProcessorTests extends OpenSearchTestCase {
    private static ModelRegistry registry;

    @BeforeClass
    public static void createRegistry() {
        registry = TestModels.registry(new BatchLimits(4096, 16));
    }

    @AfterClass
    public static void closeRegistry() {
        if (registry != null) {
            registry.close();
            registry = null;
        }
    }

    private static EncodingProcessor processor(String type, Map<String, Object> config) throws Exception {
        return (EncodingProcessor) new EncodingProcessor.Factory(type, () -> registry).create(Map.of(), "tag", null, new HashMap<>(config));
    }

    private static IngestDocument doc(Map<String, Object> source) {
        return new IngestDocument("idx", "1", null, null, null, new HashMap<>(source));
    }

    private static float[][] documentTokens(String model, String text) {
        try (ModelLease lease = registry.acquire(model)) {
            return lease.as(TokenEncoder.class, "test").encodeDocuments(List.of(text)).get(0).vectors();
        }
    }

    @SuppressWarnings("unchecked")
    private static float[][] written(IngestDocument d, String field) {
        List<List<Float>> rows = (List<List<Float>>) d.getFieldValue(field, List.class);
        float[][] m = new float[rows.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[rows.get(i).size()];
            for (int k = 0; k < m[i].length; k++) {
                m[i][k] = rows.get(i).get(k);
            }
        }
        return m;
    }

    public void testWritesTheModelsDocumentTokens() throws Exception {
        EncodingProcessor p = processor("late_interaction", Map.of("model", "tiny-colbert", "fields", List.of("title", "body.text"), "target_field", "tok"));
        assertEquals("late_interaction", p.getType());
        IngestDocument d = doc(Map.of("title", "Vaccines", "body", Map.of("text", "train the immune system.")));
        p.execute(d);
        // fields joined with one space, as the rescorer's fallback reads text_fields
        assertArrayEquals(documentTokens("tiny-colbert", "Vaccines train the immune system."), written(d, "tok"));
    }

    public void testBase64FormatWritesTheSameVectorsAsOneString() throws Exception {
        EncodingProcessor p = processor(
            "late_interaction",
            Map.of("model", "tiny-colbert", "field", "text", "target_field", "tok", "format", "base64")
        );
        IngestDocument d = doc(Map.of("text", "Vaccines train the immune system."));
        p.execute(d);
        float[][] want = documentTokens("tiny-colbert", "Vaccines train the immune system.");
        String value = d.getFieldValue("tok", String.class);
        assertArrayEquals(want, MultiVectorValues.decodeBase64("tok", value, want[0].length));
        // the copy a verbose _simulate or a later processor makes keeps it
        assertEquals(value, new IngestDocument(d).getFieldValue("tok", String.class));
    }

    public void testBatchOfDocumentsWithAndWithoutText() throws Exception {
        EncodingProcessor strict = processor(
            "late_interaction",
            Map.of("model", "tiny-colbert", "field", "text", "target_field", "tok", "batch_size", 4)
        );
        List<String> texts = List.of("Bananas are rich in potassium.", "", "Paris is the capital of France.", "x");
        List<IngestDocumentWrapper> docs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            docs.add(new IngestDocumentWrapper(i, 0, doc(texts.get(i).isEmpty() ? Map.of("other", 1) : Map.of("text", texts.get(i))), null));
        }
        List<IngestDocumentWrapper> out = new ArrayList<>();
        strict.batchExecute(docs, out::addAll);
        assertEquals(4, out.size());
        for (IngestDocumentWrapper w : out) {
            String text = texts.get(w.getSlot());
            if (text.isEmpty()) {
                assertEquals(
                    "[late_interaction] none of the fields [text] holds text in this document",
                    w.getException().getMessage()
                );
            } else {
                assertNull(w.getException());
                // encoded together, yet each doc gets its own vectors (float model: batching changes nothing)
                float[][] want = documentTokens("tiny-colbert", text);
                float[][] got = written(w.getIngestDocument(), "tok");
                assertEquals(want.length, got.length);
                for (int t = 0; t < want.length; t++) {
                    assertArrayEquals(want[t], got[t], 1e-5f);
                }
            }
        }

        EncodingProcessor lenient = processor(
            "late_interaction",
            Map.of("model", "tiny-colbert", "field", "text", "target_field", "tok", "ignore_missing", true)
        );
        IngestDocument empty = doc(Map.of("other", 1));
        lenient.execute(empty);
        assertFalse(empty.hasField("tok"));
    }

    public void testFactoryChecksTheModel() {
        OpenSearchParseException e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("late_interaction", Map.of("model", "tiny-ce", "field", "text", "target_field", "tok"))
        );
        assertEquals("[model] model [tiny-ce] is a [cross_encoder] model; [late_interaction] needs a [colbert] or [bi_encoder] model", e.getMessage());
        e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("text_embedding", Map.of("model", "tiny-colbert", "field", "text", "target_field", "v"))
        );
        assertEquals("[model] model [tiny-colbert] is a [colbert] model; [text_embedding] needs a [bi_encoder] model", e.getMessage());
        e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("late_interaction", Map.of("model", "no-such-model", "field", "text", "target_field", "tok"))
        );
        assertTrue(e.getMessage(), e.getMessage().contains("unknown model [no-such-model]"));
        e = expectThrows(OpenSearchParseException.class, () -> processor("late_interaction", Map.of("model", "tiny-colbert", "field", "text")));
        assertEquals("[target_field] required property is missing", e.getMessage());
        e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("late_interaction", Map.of("model", "tiny-colbert", "fields", List.of(), "target_field", "tok"))
        );
        assertEquals("[fields] must name at least one field", e.getMessage());
        e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("late_interaction", Map.of("model", "tiny-colbert", "field", "text", "target_field", "tok", "format", "hex"))
        );
        assertEquals("[format] must be one of [array, base64], got [hex]", e.getMessage());
        e = expectThrows(
            OpenSearchParseException.class,
            () -> processor("text_embedding", Map.of("model", "tiny-bi", "field", "text", "target_field", "v", "format", "base64"))
        );
        assertEquals(
            "[format] [base64] is for the token vectors of [late_interaction] (multi_vector fields); [text_embedding] writes an array"
                + " of numbers, as knn_vector fields take",
            e.getMessage()
        );
    }
}
