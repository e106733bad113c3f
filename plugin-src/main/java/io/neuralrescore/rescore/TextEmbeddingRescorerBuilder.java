/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.QueryRewriteContext;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.StatName;

/**
 * {@code text_embedding} clause: cosine of the query's and each hit text's embedding by a bi-encoder. The query is
 * embedded once per request, on the coordinating node during rewrite, and travels to the shards with the request.
 */
public final class TextEmbeddingRescorerBuilder extends TextModelRescorerBuilder<TextEmbeddingRescorerBuilder> {
    public static final String NAME = "text_embedding";

    @SuppressWarnings("unchecked")
    private static final ConstructingObjectParser<TextEmbeddingRescorerBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new TextEmbeddingRescorerBuilder((String) args[0], (String) args[1], (List<String>) args[2], registry)
    );
    static {
        declareFields(PARSER);
    }

    /** Query embedding computed during rewrite; null until then. Not part of the clause's JSON. */
    private final float[] queryVector;
    /** Pending embedding while the coordinator's async rewrite runs. */
    private final Supplier<float[]> pendingVector;

    public TextEmbeddingRescorerBuilder(String model, String queryText, List<String> fields, ModelRegistry registry) {
        super(model, queryText, fields, registry);
        this.queryVector = null;
        this.pendingVector = null;
    }

    public TextEmbeddingRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in, registry);
        this.queryVector = in.readBoolean() ? in.readFloatArray() : null;
        this.pendingVector = null;
    }

    private TextEmbeddingRescorerBuilder(TextEmbeddingRescorerBuilder other, float[] queryVector, Supplier<float[]> pendingVector) {
        super(other);
        this.queryVector = queryVector;
        this.pendingVector = pendingVector;
    }

    public static TextEmbeddingRescorerBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
        return parse(PARSER, NAME, parser, registry);
    }

    @Override
    protected void doWriteExtra(StreamOutput out) throws IOException {
        if (pendingVector != null && queryVector == null) {
            throw new IllegalStateException("[" + NAME + "] must be rewritten before it is sent to shards");
        }
        out.writeBoolean(queryVector != null);
        if (queryVector != null) {
            out.writeFloatArray(queryVector);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected ModelType modelType() {
        return ModelType.BI_ENCODER;
    }

    /** The query embedding, once rewrite computed it. */
    public float[] queryVector() {
        return queryVector;
    }

    @Override
    public TextEmbeddingRescorerBuilder rewrite(QueryRewriteContext ctx) {
        if (queryVector != null) {
            return this;
        }
        if (pendingVector != null) {
            float[] v = pendingVector.get();
            return v == null ? this : new TextEmbeddingRescorerBuilder(this, v, null);
        }
        if (CoordinatorEncoding.onCoordinator(ctx) == false || registry == null) {
            return this; // shards embed the query themselves in innerBuildContext
        }
        ModelManifest manifest = registry.requireType(model, modelType(), name());
        int maxLength = effectiveMaxLength(manifest);
        return new TextEmbeddingRescorerBuilder(this, null, CoordinatorEncoding.register(ctx, () -> embedQuery(maxLength)));
    }

    private float[] embedQuery(int maxLength) {
        return QueryEmbeddings.embed(registry(), model, queryText, maxLength, NAME);
    }

    @Override
    protected WindowScorer windowScorer(ModelManifest manifest, int maxLength) {
        ModelRegistry registry = registry();
        float[] query = queryVector != null ? queryVector : embedQuery(maxLength);
        if (query.length != manifest.dimension()) {
            throw new IllegalArgumentException(
                "[" + NAME + "] query vector has dimension " + query.length + " but model [" + model + "] has " + manifest.dimension()
            );
        }
        String model = this.model;
        return new WindowScorer() {
            @Override
            public float[] score(List<String> texts) {
                float[][] docs;
                try (ModelLease lease = registry.acquire(model)) {
                    docs = lease.as(TextEmbedder.class, NAME).embedDocuments(texts, maxLength);
                }
                float[] out = new float[docs.length];
                for (int i = 0; i < docs.length; i++) {
                    out[i] = VectorMath.cosine(query, docs[i]);
                }
                return out;
            }

            @Override
            public String describe() {
                return "cosine of query and text embeddings by bi-encoder [" + model + "], max_length " + maxLength;
            }
        };
    }

    @Override
    public boolean equals(Object obj) {
        return super.equals(obj) && Arrays.equals(queryVector, ((TextEmbeddingRescorerBuilder) obj).queryVector);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), Arrays.hashCode(queryVector));
    }
}
