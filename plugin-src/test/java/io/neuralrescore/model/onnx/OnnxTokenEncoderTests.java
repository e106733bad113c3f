/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import org.opensearch.test.OpenSearchTestCase;
import org.junit.AfterClass;
import org.junit.BeforeClass;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.testing.TestModels;

/**
 * Token encoders end to end through ONNX Runtime: the ColBERT-style {@code tiny-colbert} against the MaxSim scores
 * of its {@code expected.tsv} (written by the Python reference of models/MANIFEST.md), and the shipped MiniLM
 * bi-encoder used zero-shot.
 */
public class OnnxTokenEncoderTests extends OpenSearchTestCase {
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

    private static float norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return (float) Math.sqrt(s);
    }

    public void testColbertMatchesReferenceMaxSim() throws Exception {
        List<Map<String, String>> rows = TestModels.expected("tiny-colbert");
        List<String> documents = new ArrayList<>();
        for (Map<String, String> row : rows) {
            documents.add(row.get("document"));
        }
        try (ModelLease lease = registry.acquire("tiny-colbert")) {
            TokenEncoder encoder = lease.as(TokenEncoder.class, "test");
            assertEquals(8, encoder.tokenDimension());
            // all documents in one call: batching and padding must not change any vector
            List<TokenEncoder.TokenVectors> docs = encoder.encodeDocuments(documents);
            for (int i = 0; i < rows.size(); i++) {
                Map<String, String> row = rows.get(i);
                TokenEncoder.TokenVectors q = encoder.encodeQuery(row.get("query"));
                assertEquals("query vectors: every position, [MASK]s included", 32, q.vectors().length);
                TokenEncoder.TokenVectors d = docs.get(i);
                long kept = TestModels.longs(row.get("document_kept")).length
                    - java.util.Arrays.stream(TestModels.longs(row.get("document_kept"))).filter(k -> k == 0).count();
                assertEquals("document vectors: the skiplist drops punctuation", kept, d.vectors().length);
                for (float[] v : d.vectors()) {
                    assertEquals(1f, norm(v), 1e-4f);
                }
                float maxSim = LateInteraction.colbert(new QueryTokens(q.vectors()), MultiVector.ofFloats(d.vectors()));
                assertEquals("row " + row.get("id") + " [" + row.get("query") + "]", Float.parseFloat(row.get("maxsim")), maxSim, 1e-3f);
            }
        }
    }

    public void testBiEncoderServesZeroShotTokens() throws Exception {
        try (ModelLease lease = registry.acquire("all-minilm-l6-v2")) {
            TokenEncoder encoder = lease.as(TokenEncoder.class, "test");
            assertEquals(384, encoder.tokenDimension());
            TokenEncoder.TokenVectors q = encoder.encodeQuery("how do vaccines work?");
            // no marker, no [MASK] augmentation, query punctuation kept: [CLS] how do vaccines work ? [SEP]
            assertArrayEquals(new String[] { "[CLS]", "how", "do", "vaccines", "work", "?", "[SEP]" }, q.tokens());
            List<TokenEncoder.TokenVectors> d = encoder.encodeDocuments(List.of("Vaccines, in short, train immunity.", "Bananas."));
            assertArrayEquals(new String[] { "[CLS]", "vaccines", "in", "short", "train", "immunity", "[SEP]" }, d.get(0).tokens());
            assertArrayEquals(new String[] { "[CLS]", "bananas", "[SEP]" }, d.get(1).tokens());
            for (TokenEncoder.TokenVectors tv : List.of(q, d.get(0), d.get(1))) {
                assertEquals(tv.tokens().length, tv.vectors().length);
                for (float[] v : tv.vectors()) {
                    assertEquals(384, v.length);
                    assertEquals(1f, norm(v), 1e-4f);
                }
            }
            QueryTokens query = new QueryTokens(q.vectors());
            float vaccines = LateInteraction.colbert(query, MultiVector.ofFloats(d.get(0).vectors()));
            float bananas = LateInteraction.colbert(query, MultiVector.ofFloats(d.get(1).vectors()));
            assertTrue(vaccines + " > " + bananas, vaccines > bananas);
        }
    }
}
