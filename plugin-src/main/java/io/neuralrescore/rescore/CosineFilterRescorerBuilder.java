/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.ParseField;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.rescore.RescoreContext;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.scoring.CosineAdapter;

import static org.opensearch.core.xcontent.ConstructingObjectParser.constructorArg;
import static org.opensearch.core.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code cosine_filter} clause: maps each hit's cosine similarity to a calibrated relevance probability with a
 * Cosine Adapter (a query-dependent monotonic function), then applies one global threshold: hits below it are
 * dropped or demoted. The calibrated probability is the model score for {@code score_mode}.
 * <pre>
 * "cosine_filter": { "model": "all-minilm-l6-v2", "adapter": "minilm-cosine-adapter-v1", "query_text": "...",
 *                    "field": "embedding", "threshold": 0.5, "action": "drop" | "demote" }
 * </pre>
 */
public final class CosineFilterRescorerBuilder extends ModelRescorerBuilder<CosineFilterRescorerBuilder> {
    public static final String NAME = "cosine_filter";
    public static final ParseField ADAPTER_FIELD = new ParseField("adapter");
    public static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    public static final ParseField QUERY_VECTOR_FIELD = new ParseField("query_vector");
    public static final ParseField FIELD_FIELD = new ParseField("field");
    public static final ParseField THRESHOLD_FIELD = new ParseField("threshold");
    public static final ParseField ACTION_FIELD = new ParseField("action");

    /** What happens to hits below the threshold. */
    public enum Action {
        DROP,
        DEMOTE;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Action fromString(String v) {
            for (Action a : values()) {
                if (a.jsonName().equals(v)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("illegal action [" + v + "], must be one of [drop, demote]");
        }
    }

    private static final ConstructingObjectParser<CosineFilterRescorerBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new CosineFilterRescorerBuilder(
            (String) args[0],
            (String) args[1],
            (String) args[2],
            args[3],
            (String) args[4],
            (Float) args[5],
            registry
        )
    );
    static {
        PARSER.declareString(optionalConstructorArg(), MODEL_FIELD);
        PARSER.declareString(constructorArg(), ADAPTER_FIELD);
        PARSER.declareString(optionalConstructorArg(), QUERY_TEXT_FIELD);
        PARSER.declareFloatArray(optionalConstructorArg(), QUERY_VECTOR_FIELD);
        PARSER.declareString(constructorArg(), FIELD_FIELD);
        PARSER.declareFloat(constructorArg(), THRESHOLD_FIELD);
        PARSER.declareString((b, v) -> b.action(b.clauseValue(() -> Action.fromString(v))), ACTION_FIELD);
        declareCombination(PARSER, false);
    }

    private final String adapter;
    private final String queryText;
    private final float[] queryVector;
    private final Supplier<float[]> pending;
    private final String field;
    private final float threshold;
    private Action action = Action.DROP;

    public CosineFilterRescorerBuilder(
        String model,
        String adapter,
        String queryText,
        Object queryVector,
        String field,
        Float threshold,
        ModelRegistry registry
    ) {
        super(model, registry);
        CosineFilterArgs.check(NAME, model, adapter, queryText, queryVector, field, threshold);
        this.adapter = adapter;
        this.queryText = queryText;
        this.queryVector = CosineFilterArgs.vector(queryVector);
        this.pending = null;
        this.field = field;
        this.threshold = threshold;
    }

    public CosineFilterRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in, registry);
        this.adapter = in.readString();
        this.queryText = in.readOptionalString();
        this.queryVector = in.readBoolean() ? in.readFloatArray() : null;
        this.pending = null;
        this.field = in.readString();
        this.threshold = in.readFloat();
        this.action = in.readEnum(Action.class);
    }

    private CosineFilterRescorerBuilder(CosineFilterRescorerBuilder o, float[] vector, Supplier<float[]> pending) {
        super(o);
        this.adapter = o.adapter;
        this.queryText = o.queryText;
        this.queryVector = vector;
        this.pending = pending;
        this.field = o.field;
        this.threshold = o.threshold;
        this.action = o.action;
    }

    public static CosineFilterRescorerBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
        return parse(PARSER, NAME, parser, registry);
    }

    public CosineFilterRescorerBuilder action(Action action) {
        this.action = Objects.requireNonNull(action);
        return this;
    }

    public Action action() {
        return action;
    }

    @Override
    public boolean dropsHits() {
        return action == Action.DROP;
    }

    public float threshold() {
        return threshold;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected void doWriteClause(StreamOutput out) throws IOException {
        if (pending != null && queryVector == null) {
            throw new IllegalStateException("[" + NAME + "] must be rewritten before it is sent to shards");
        }
        out.writeString(adapter);
        out.writeOptionalString(queryText);
        out.writeBoolean(queryVector != null);
        if (queryVector != null) {
            out.writeFloatArray(queryVector);
        }
        out.writeString(field);
        out.writeFloat(threshold);
        out.writeEnum(action);
    }

    @Override
    protected void doXContentClause(XContentBuilder builder, Params params) throws IOException {
        builder.field(ADAPTER_FIELD.getPreferredName(), adapter);
        if (queryText != null) {
            builder.field(QUERY_TEXT_FIELD.getPreferredName(), queryText);
        } else if (queryVector != null) {
            builder.field(QUERY_VECTOR_FIELD.getPreferredName(), queryVector);
        }
        builder.field(FIELD_FIELD.getPreferredName(), field);
        builder.field(THRESHOLD_FIELD.getPreferredName(), threshold);
        builder.field(ACTION_FIELD.getPreferredName(), action.jsonName());
    }

    @Override
    public CosineFilterRescorerBuilder rewrite(QueryRewriteContext ctx) {
        if (queryVector != null) {
            return this;
        }
        if (pending != null) {
            float[] v = pending.get();
            return v == null ? this : new CosineFilterRescorerBuilder(this, v, null);
        }
        if (CoordinatorEncoding.onCoordinator(ctx) == false || registry == null) {
            return this;
        }
        CosineFilterArgs.checkModels(NAME, registry, model, adapter);
        ModelManifest manifest = registry.manifest(model);
        return new CosineFilterRescorerBuilder(
            this,
            null,
            CoordinatorEncoding.register(ctx, () -> QueryEmbeddings.embed(registry, model, queryText, manifest.maxLength(), NAME))
        );
    }

    @Override
    protected RescoreContext innerBuildContext(int windowSize, QueryShardContext context) throws IOException {
        ModelRegistry registry = registry();
        CosineAdapterModel adapterModel = CosineFilterArgs.checkModels(NAME, registry, model, adapter);
        SingleVectorField vectors = SingleVectorField.resolve(NAME, field, context);
        float[] q = queryVector != null
            ? queryVector
            : QueryEmbeddings.embed(registry, model, queryText, registry.manifest(model).maxLength(), NAME);
        CosineFilterArgs.checkField(NAME, adapterModel, vectors, q.length);
        CosineAdapter.Params params = adapterModel.adapter().params(q);
        return new CosineFilterContext(
            windowSize,
            new CosineFilterContext.Options(adapter, field, threshold, action, scoreMode, queryWeight, rescoreWeight),
            vectors,
            q,
            params,
            registry.stats()
        );
    }

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        CosineFilterRescorerBuilder o = (CosineFilterRescorerBuilder) obj;
        return adapter.equals(o.adapter)
            && Objects.equals(queryText, o.queryText)
            && Arrays.equals(queryVector, o.queryVector)
            && field.equals(o.field)
            && threshold == o.threshold
            && action == o.action;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), adapter, queryText, Arrays.hashCode(queryVector), field, threshold, action);
    }

    /** Validation shared by the {@code cosine_filter} rescorer and the {@code relevance_filter} query. */
    public static final class CosineFilterArgs {
        private CosineFilterArgs() {}

        public static void check(String clause, String model, String adapter, String queryText, Object queryVector, String field, Float threshold) {
            if (adapter == null || adapter.isBlank()) {
                throw new IllegalArgumentException("[" + clause + "] requires a non-empty [adapter]");
            }
            if (field == null || field.isBlank()) {
                throw new IllegalArgumentException("[" + clause + "] requires a non-empty [field]");
            }
            if ((queryText == null) == (queryVector == null)) {
                throw new IllegalArgumentException("[" + clause + "] requires exactly one of [query_text] or [query_vector]");
            }
            if (queryText != null && (queryText.isBlank() || model == null || model.isBlank())) {
                throw new IllegalArgumentException("[" + clause + "] [query_text] must be non-empty and needs a [model] to embed it");
            }
            float[] v = vector(queryVector);
            if (v != null) {
                if (v.length == 0) {
                    throw new IllegalArgumentException("[" + clause + "] [query_vector] must not be empty");
                }
                for (float x : v) {
                    if (Float.isFinite(x) == false) {
                        throw new IllegalArgumentException("[" + clause + "] [query_vector] must hold finite numbers");
                    }
                }
            }
            if (threshold == null || (threshold >= 0f && threshold <= 1f) == false) {
                throw new IllegalArgumentException("[" + clause + "] [threshold] must be between 0 and 1, got [" + threshold + "]");
            }
        }

        /** Accepts the parser's List of Floats or a float[]. */
        public static float[] vector(Object value) {
            if (value == null || value instanceof float[]) {
                return (float[]) value;
            }
            java.util.List<?> list = (java.util.List<?>) value;
            float[] out = new float[list.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = ((Number) list.get(i)).floatValue();
            }
            return out;
        }

        /** The adapter as loaded, after checking it is an adapter trained for {@code model} (when given). */
        public static CosineAdapterModel checkModels(String clause, ModelRegistry registry, String model, String adapter) {
            registry.requireType(adapter, ModelType.COSINE_ADAPTER, clause);
            if (model != null) {
                registry.requireType(model, ModelType.BI_ENCODER, clause);
            }
            try (ModelLease lease = registry.acquire(adapter)) {
                CosineAdapterModel a = lease.as(CosineAdapterModel.class, clause);
                if (model != null && a.embeddingModel().equals(model) == false) {
                    throw new IllegalArgumentException(
                        "[" + clause + "] adapter [" + adapter + "] was trained for embedding model [" + a.embeddingModel() + "], not [" + model + "]"
                    );
                }
                return a; // adapters hold no native resources; the registry keeps it cached
            }
        }

        public static void checkField(String clause, CosineAdapterModel adapter, SingleVectorField field, int queryDims) {
            int dims = adapter.adapter().inputDim();
            if (queryDims != dims) {
                throw new IllegalArgumentException(
                    "[" + clause + "] query vector has dimension [" + queryDims + "] but adapter [" + adapter.manifest().id() + "] takes [" + dims + "]"
                );
            }
            if (field.dims() != -1 && field.dims() != dims) {
                throw new IllegalArgumentException(
                    "[" + clause + "] field [" + field.name() + "] has dimension [" + field.dims() + "] but adapter [" + adapter.manifest().id() + "] takes [" + dims + "]"
                );
            }
            if (field.model() != null && field.model().equals(adapter.embeddingModel()) == false) {
                throw new IllegalArgumentException(
                    "[" + clause + "] field [" + field.name() + "] holds embeddings of model [" + field.model() + "] but adapter ["
                        + adapter.manifest().id() + "] was trained for [" + adapter.embeddingModel() + "]"
                );
            }
        }
    }
}
