/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.ingest;

import org.opensearch.ingest.AbstractBatchingProcessor;
import org.opensearch.ingest.ConfigurationUtils;
import org.opensearch.ingest.IngestDocument;
import org.opensearch.ingest.IngestDocumentWrapper;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import io.neuralrescore.mapper.MultiVectorValues;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.model.TokenEncoder;

/**
 * Ingest processors that encode a text field with a model at index time and write the result where a
 * {@code multi_vector} field maps it. Documents of a bulk request are encoded together, in batches of
 * {@code batch_size}, through the same length-bucketed inference as searches.
 * <ul>
 * <li>{@code late_interaction}: token vectors ({@code [[...], ...]}) of a ColBERT model or, zero-shot, a bi-encoder.
 * With {@code "format": "base64"} they are written as one base64 string of big-endian float32 values instead
 * ({@link MultiVectorValues}): the same vectors, which the document then carries through serialization, the
 * translog and the mapper as a string rather than as hundreds of thousands of JSON numbers.</li>
 * <li>{@code text_embedding}: one pooled vector of a bi-encoder ({@code [...]}).</li>
 * </ul>
 */
public final class EncodingProcessor extends AbstractBatchingProcessor {
    public static final String LATE_INTERACTION = "late_interaction";
    public static final String TEXT_EMBEDDING = "text_embedding";
    /** Values of the {@code format} option: how token vectors are written into the document. */
    public static final List<String> FORMATS = List.of("array", "base64");

    private final String type;
    private final Supplier<ModelRegistry> registry;
    private final String model;
    private final List<String> fields;
    private final String targetField;
    private final boolean ignoreMissing;
    private final boolean base64;

    EncodingProcessor(
        String type,
        String tag,
        String description,
        int batchSize,
        Supplier<ModelRegistry> registry,
        String model,
        List<String> fields,
        String targetField,
        boolean ignoreMissing,
        boolean base64
    ) {
        super(tag, description, batchSize);
        this.type = type;
        this.registry = registry;
        this.model = model;
        this.fields = fields;
        this.targetField = targetField;
        this.ignoreMissing = ignoreMissing;
        this.base64 = base64;
    }

    @Override
    public String getType() {
        return type;
    }

    @Override
    public IngestDocument execute(IngestDocument document) throws Exception {
        List<IngestDocumentWrapper> one = List.of(new IngestDocumentWrapper(0, 0, document, null));
        Exception[] failure = new Exception[1];
        subBatchExecute(one, results -> failure[0] = results.get(0).getException());
        if (failure[0] != null) {
            throw failure[0];
        }
        return document;
    }

    @Override
    protected void subBatchExecute(List<IngestDocumentWrapper> documents, Consumer<List<IngestDocumentWrapper>> handler) {
        List<String> texts = new ArrayList<>();
        List<IngestDocumentWrapper> targets = new ArrayList<>();
        for (IngestDocumentWrapper w : documents) {
            if (w.getException() != null) {
                continue;
            }
            String text = text(w.getIngestDocument());
            if (text == null) {
                if (ignoreMissing == false) {
                    w.update(
                        w.getIngestDocument(),
                        new IllegalArgumentException("[" + type + "] none of the fields " + fields + " holds text in this document")
                    );
                }
                continue;
            }
            texts.add(text);
            targets.add(w);
        }
        if (texts.isEmpty() == false) {
            try (ModelLease lease = registry.get().acquire(model)) {
                if (type.equals(LATE_INTERACTION)) {
                    List<TokenEncoder.TokenVectors> encoded = lease.as(TokenEncoder.class, type).encodeDocuments(texts);
                    for (int i = 0; i < targets.size(); i++) {
                        float[][] vectors = encoded.get(i).vectors();
                        Object value = base64 ? MultiVectorValues.encodeBase64(vectors) : toLists(vectors);
                        targets.get(i).getIngestDocument().setFieldValue(targetField, value);
                    }
                } else {
                    TextEmbedder embedder = lease.as(TextEmbedder.class, type);
                    float[][] vectors = embedder.embedDocuments(texts, embedder.manifest().maxLength());
                    for (int i = 0; i < targets.size(); i++) {
                        targets.get(i).getIngestDocument().setFieldValue(targetField, toList(vectors[i]));
                    }
                }
            } catch (Exception e) {
                for (IngestDocumentWrapper w : targets) {
                    w.update(w.getIngestDocument(), e);
                }
            }
        }
        handler.accept(documents);
    }

    private String text(IngestDocument doc) {
        StringBuilder sb = new StringBuilder();
        for (String field : fields) {
            if (doc.hasField(field, true) == false) {
                continue;
            }
            Object v = doc.getFieldValue(field, Object.class, true);
            append(sb, v);
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static void append(StringBuilder sb, Object v) {
        if (v == null || v instanceof Map<?, ?>) {
            return;
        }
        if (v instanceof Collection<?> c) {
            for (Object o : c) {
                append(sb, o);
            }
            return;
        }
        String s = v.toString();
        if (s.isBlank() == false) {
            if (sb.isEmpty() == false) {
                sb.append(' ');
            }
            sb.append(s);
        }
    }

    private static List<Float> toList(float[] v) {
        List<Float> out = new ArrayList<>(v.length);
        for (float f : v) {
            out.add(f);
        }
        return out;
    }

    private static List<List<Float>> toLists(float[][] m) {
        List<List<Float>> out = new ArrayList<>(m.length);
        for (float[] v : m) {
            out.add(toList(v));
        }
        return out;
    }

    /** Factory of both processor types; checks the model when the pipeline is created. */
    public static final class Factory extends AbstractBatchingProcessor.Factory {
        private final String type;
        private final Supplier<ModelRegistry> registry;

        public Factory(String type, Supplier<ModelRegistry> registry) {
            super(type);
            this.type = type;
            this.registry = registry;
        }

        @Override
        protected AbstractBatchingProcessor newProcessor(String tag, String description, int batchSize, Map<String, Object> config) {
            String model = ConfigurationUtils.readStringProperty(type, tag, config, "model");
            List<String> fields;
            if (config.containsKey("fields")) {
                fields = ConfigurationUtils.readList(type, tag, config, "fields");
            } else {
                fields = List.of(ConfigurationUtils.readStringProperty(type, tag, config, "field"));
            }
            if (fields.isEmpty()) {
                throw ConfigurationUtils.newConfigurationException(type, tag, "fields", "must name at least one field");
            }
            String target = ConfigurationUtils.readStringProperty(type, tag, config, "target_field");
            boolean ignoreMissing = ConfigurationUtils.readBooleanProperty(type, tag, config, "ignore_missing", false);
            String format = ConfigurationUtils.readStringProperty(type, tag, config, "format", FORMATS.get(0));
            if (FORMATS.contains(format) == false) {
                throw ConfigurationUtils.newConfigurationException(type, tag, "format", "must be one of " + FORMATS + ", got [" + format + "]");
            }
            if (format.equals("base64") && type.equals(LATE_INTERACTION) == false) {
                throw ConfigurationUtils.newConfigurationException(
                    type,
                    tag,
                    "format",
                    "[base64] is for the token vectors of [" + LATE_INTERACTION + "] (multi_vector fields); ["
                        + type + "] writes an array of numbers, as knn_vector fields take"
                );
            }
            try {
                ModelManifest manifest = registry.get().manifest(model);
                boolean ok = type.equals(LATE_INTERACTION)
                    ? manifest.type() == ModelType.COLBERT || manifest.type() == ModelType.BI_ENCODER
                    : manifest.type() == ModelType.BI_ENCODER;
                if (ok == false) {
                    throw new IllegalArgumentException(
                        "model [" + model + "] is a [" + manifest.type().jsonName() + "] model; [" + type + "] needs "
                            + (type.equals(LATE_INTERACTION) ? "a [colbert] or [bi_encoder] model" : "a [bi_encoder] model")
                    );
                }
            } catch (IllegalArgumentException e) {
                throw ConfigurationUtils.newConfigurationException(type, tag, "model", e.getMessage());
            }
            return new EncodingProcessor(
                type,
                tag,
                description,
                batchSize,
                registry,
                model,
                fields,
                target,
                ignoreMissing,
                format.equals("base64")
            );
        }
    }
}
