/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.QueryRewriteContext;

import java.io.IOException;
import java.util.List;

import io.neuralrescore.model.CrossEncoder;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;

/**
 * {@code cross_encoder} clause: scores each (query, hit text) pair jointly with a cross-encoder.
 * <pre>
 * "rescore": { "window_size": 100,
 *   "cross_encoder": { "model": "my-ce", "query_text": "...", "fields": ["title", "text"], "normalize": "sigmoid" } }
 * </pre>
 */
public final class CrossEncoderRescorerBuilder extends TextModelRescorerBuilder<CrossEncoderRescorerBuilder> {
    public static final String NAME = "cross_encoder";

    @SuppressWarnings("unchecked")
    private static final ConstructingObjectParser<CrossEncoderRescorerBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new CrossEncoderRescorerBuilder((String) args[0], (String) args[1], (List<String>) args[2], registry)
    );
    static {
        declareFields(PARSER);
    }

    public CrossEncoderRescorerBuilder(String model, String queryText, List<String> fields, ModelRegistry registry) {
        super(model, queryText, fields, registry);
    }

    public CrossEncoderRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in, registry);
    }

    public static CrossEncoderRescorerBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
        return parse(PARSER, NAME, parser, registry);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected ModelType modelType() {
        return ModelType.CROSS_ENCODER;
    }

    /** On the coordinator, rejects an unknown or mistyped model before any shard works. */
    @Override
    public CrossEncoderRescorerBuilder rewrite(QueryRewriteContext ctx) {
        if (ctx.convertToCoordinatorContext() != null && registry != null) {
            registry.requireType(model, modelType(), name());
        }
        return this;
    }

    @Override
    protected WindowScorer windowScorer(ModelManifest manifest, int maxLength) {
        ModelRegistry registry = registry();
        String model = this.model;
        String query = this.queryText;
        return new WindowScorer() {
            @Override
            public float[] score(List<String> texts) {
                try (ModelLease lease = registry.acquire(model)) {
                    return lease.as(CrossEncoder.class, NAME).score(query, texts, maxLength);
                }
            }

            @Override
            public String describe() {
                return "cross-encoder [" + model + "] logit of (query, text), max_length " + maxLength;
            }
        };
    }
}
