/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.apache.lucene.search.Query;
import org.opensearch.core.ParseField;
import org.opensearch.core.common.ParsingException;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;

import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.rescore.CoordinatorEncoding;
import io.neuralrescore.rescore.CosineFilterRescorerBuilder.CosineFilterArgs;
import io.neuralrescore.rescore.QueryEmbeddings;
import io.neuralrescore.rescore.SingleVectorField;
import io.neuralrescore.scoring.ScoreMode;

import static org.opensearch.core.xcontent.ConstructingObjectParser.constructorArg;
import static org.opensearch.core.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code relevance_filter} query: keeps the inner query's hits whose calibrated relevance (Cosine Adapter) reaches
 * the threshold, in the query phase, so {@code hits.total} and aggregations count only relevant hits — which a
 * rescorer cannot do. Scores are the inner query's unless {@code score_mode} combines them with the calibrated
 * relevance.
 * <pre>
 * "relevance_filter": { "query": { ... }, "model": "all-minilm-l6-v2", "adapter": "minilm-cosine-adapter-v1",
 *                       "query_text": "...", "field": "embedding", "threshold": 0.5 }
 * </pre>
 */
public final class RelevanceFilterQueryBuilder extends AbstractQueryBuilder<RelevanceFilterQueryBuilder> {
    public static final String NAME = "relevance_filter";
    private static final ParseField QUERY_FIELD = new ParseField("query");
    private static final ParseField MODEL_FIELD = new ParseField("model");
    private static final ParseField ADAPTER_FIELD = new ParseField("adapter");
    private static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    private static final ParseField QUERY_VECTOR_FIELD = new ParseField("query_vector");
    private static final ParseField FIELD_FIELD = new ParseField("field");
    private static final ParseField THRESHOLD_FIELD = new ParseField("threshold");
    private static final ParseField SCORE_MODE_FIELD = new ParseField("score_mode");
    private static final ParseField QUERY_WEIGHT_FIELD = new ParseField("query_weight");
    private static final ParseField RESCORE_WEIGHT_FIELD = new ParseField("rescore_weight");

    private static final ConstructingObjectParser<RelevanceFilterQueryBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new RelevanceFilterQueryBuilder(
            (QueryBuilder) args[0],
            (String) args[1],
            (String) args[2],
            (String) args[3],
            args[4],
            (String) args[5],
            (Float) args[6],
            registry
        )
    );
    static {
        PARSER.declareObject(constructorArg(), (p, c) -> {
            try {
                return parseInnerQueryBuilder(p);
            } catch (IOException e) {
                throw new ParsingException(p.getTokenLocation(), "could not parse inner query", e);
            }
        }, QUERY_FIELD);
        PARSER.declareString(optionalConstructorArg(), MODEL_FIELD);
        PARSER.declareString(constructorArg(), ADAPTER_FIELD);
        PARSER.declareString(optionalConstructorArg(), QUERY_TEXT_FIELD);
        PARSER.declareFloatArray(optionalConstructorArg(), QUERY_VECTOR_FIELD);
        PARSER.declareString(constructorArg(), FIELD_FIELD);
        PARSER.declareFloat(constructorArg(), THRESHOLD_FIELD);
        PARSER.declareString((b, v) -> {
            try {
                b.scoreMode = ScoreMode.fromString(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("[" + NAME + "] " + e.getMessage(), e);
            }
        }, SCORE_MODE_FIELD);
        PARSER.declareFloat((b, v) -> b.queryWeight = finite(QUERY_WEIGHT_FIELD, v), QUERY_WEIGHT_FIELD);
        PARSER.declareFloat((b, v) -> b.rescoreWeight = finite(RESCORE_WEIGHT_FIELD, v), RESCORE_WEIGHT_FIELD);
        declareStandardFields(PARSER);
    }

    private final QueryBuilder inner;
    private final String model;
    private final String adapter;
    private final String queryText;
    private final float[] queryVector;
    private final Supplier<float[]> pending;
    private final String field;
    private final float threshold;
    private ScoreMode scoreMode; // null: keep the inner score
    private float queryWeight = 1f;
    private float rescoreWeight = 1f;
    private final ModelRegistry registry;

    public RelevanceFilterQueryBuilder(
        QueryBuilder inner,
        String model,
        String adapter,
        String queryText,
        Object queryVector,
        String field,
        Float threshold,
        ModelRegistry registry
    ) {
        if (inner == null) {
            throw new IllegalArgumentException("[" + NAME + "] requires an inner [query]");
        }
        CosineFilterArgs.check(NAME, model, adapter, queryText, queryVector, field, threshold);
        this.inner = inner;
        this.model = model;
        this.adapter = adapter;
        this.queryText = queryText;
        this.queryVector = CosineFilterArgs.vector(queryVector);
        this.pending = null;
        this.field = field;
        this.threshold = threshold;
        this.registry = registry;
    }

    public RelevanceFilterQueryBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in);
        this.inner = in.readNamedWriteable(QueryBuilder.class);
        this.model = in.readOptionalString();
        this.adapter = in.readString();
        this.queryText = in.readOptionalString();
        this.queryVector = in.readBoolean() ? in.readFloatArray() : null;
        this.pending = null;
        this.field = in.readString();
        this.threshold = in.readFloat();
        this.scoreMode = in.readBoolean() ? in.readEnum(ScoreMode.class) : null;
        this.queryWeight = in.readFloat();
        this.rescoreWeight = in.readFloat();
        this.registry = registry;
    }

    private RelevanceFilterQueryBuilder(RelevanceFilterQueryBuilder o, QueryBuilder inner, float[] vector, Supplier<float[]> pending) {
        this.inner = inner;
        this.model = o.model;
        this.adapter = o.adapter;
        this.queryText = o.queryText;
        this.queryVector = vector;
        this.pending = pending;
        this.field = o.field;
        this.threshold = o.threshold;
        this.scoreMode = o.scoreMode;
        this.queryWeight = o.queryWeight;
        this.rescoreWeight = o.rescoreWeight;
        this.registry = o.registry;
        this.boost = o.boost;
        this.queryName = o.queryName;
    }

    public static RelevanceFilterQueryBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
        try {
            return PARSER.apply(parser, registry);
        } catch (org.opensearch.core.xcontent.XContentParseException e) {
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException iae && String.valueOf(iae.getMessage()).startsWith("[" + NAME + "]")) {
                    throw iae;
                }
            }
            throw e;
        }
    }

    public RelevanceFilterQueryBuilder scoreMode(ScoreMode mode, float queryWeight, float rescoreWeight) {
        this.queryWeight = finite(QUERY_WEIGHT_FIELD, queryWeight);
        this.rescoreWeight = finite(RESCORE_WEIGHT_FIELD, rescoreWeight);
        this.scoreMode = mode;
        return this;
    }

    /** Scores must stay finite: a NaN or infinite weight would reach Lucene as a NaN or infinite score. */
    private static float finite(ParseField field, float value) {
        if (Float.isFinite(value) == false) {
            throw new IllegalArgumentException("[" + NAME + "] [" + field.getPreferredName() + "] must be a finite number, got [" + value + "]");
        }
        return value;
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        if (pending != null && queryVector == null) {
            throw new IllegalStateException("[" + NAME + "] must be rewritten before it is sent to shards");
        }
        out.writeNamedWriteable(inner);
        out.writeOptionalString(model);
        out.writeString(adapter);
        out.writeOptionalString(queryText);
        out.writeBoolean(queryVector != null);
        if (queryVector != null) {
            out.writeFloatArray(queryVector);
        }
        out.writeString(field);
        out.writeFloat(threshold);
        out.writeBoolean(scoreMode != null);
        if (scoreMode != null) {
            out.writeEnum(scoreMode);
        }
        out.writeFloat(queryWeight);
        out.writeFloat(rescoreWeight);
    }

    @Override
    protected void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(NAME);
        builder.field(QUERY_FIELD.getPreferredName(), inner);
        if (model != null) {
            builder.field(MODEL_FIELD.getPreferredName(), model);
        }
        builder.field(ADAPTER_FIELD.getPreferredName(), adapter);
        if (queryText != null) {
            builder.field(QUERY_TEXT_FIELD.getPreferredName(), queryText);
        } else if (queryVector != null) {
            builder.field(QUERY_VECTOR_FIELD.getPreferredName(), queryVector);
        }
        builder.field(FIELD_FIELD.getPreferredName(), field);
        builder.field(THRESHOLD_FIELD.getPreferredName(), threshold);
        if (scoreMode != null) {
            builder.field(SCORE_MODE_FIELD.getPreferredName(), scoreMode.jsonName());
        }
        // weights without a score mode have no effect, but are part of the clause (equals, wire): keep them round-tripping
        if (scoreMode != null || queryWeight != 1f || rescoreWeight != 1f) {
            builder.field(QUERY_WEIGHT_FIELD.getPreferredName(), queryWeight);
            builder.field(RESCORE_WEIGHT_FIELD.getPreferredName(), rescoreWeight);
        }
        printBoostAndQueryName(builder);
        builder.endObject();
    }

    @Override
    protected QueryBuilder doRewrite(QueryRewriteContext ctx) throws IOException {
        QueryBuilder rewrittenInner = inner.rewrite(ctx);
        if (queryVector == null && pending != null && pending.get() != null) {
            return new RelevanceFilterQueryBuilder(this, rewrittenInner, pending.get(), null);
        }
        if (queryVector == null && pending == null && registry != null && CoordinatorEncoding.onCoordinator(ctx)) {
            CosineFilterArgs.checkModels(NAME, registry, model, adapter);
            int maxLength = registry.manifest(model).maxLength();
            return new RelevanceFilterQueryBuilder(
                this,
                rewrittenInner,
                null,
                CoordinatorEncoding.register(ctx, () -> QueryEmbeddings.embed(registry, model, queryText, maxLength, NAME))
            );
        }
        return rewrittenInner == inner ? this : new RelevanceFilterQueryBuilder(this, rewrittenInner, queryVector, pending);
    }

    @Override
    protected Query doToQuery(QueryShardContext context) throws IOException {
        if (registry == null) {
            throw new IllegalStateException("[" + NAME + "] was built without the plugin's model registry");
        }
        CosineAdapterModel adapterModel = CosineFilterArgs.checkModels(NAME, registry, model, adapter);
        SingleVectorField vectors = SingleVectorField.resolve(NAME, field, context);
        float[] q = queryVector != null ? queryVector : QueryEmbeddings.embed(registry, model, queryText, registry.manifest(model).maxLength(), NAME);
        CosineFilterArgs.checkField(NAME, adapterModel, vectors, q.length);
        return new RelevanceFilterQuery(
            inner.toQuery(context),
            vectors,
            q,
            adapterModel.adapter().params(q),
            threshold,
            scoreMode,
            queryWeight,
            rescoreWeight
        );
    }

    @Override
    protected boolean doEquals(RelevanceFilterQueryBuilder o) {
        return inner.equals(o.inner)
            && Objects.equals(model, o.model)
            && adapter.equals(o.adapter)
            && Objects.equals(queryText, o.queryText)
            && Arrays.equals(queryVector, o.queryVector)
            && field.equals(o.field)
            && threshold == o.threshold
            && scoreMode == o.scoreMode
            && queryWeight == o.queryWeight
            && rescoreWeight == o.rescoreWeight;
    }

    @Override
    protected int doHashCode() {
        return Objects.hash(inner, model, adapter, queryText, Arrays.hashCode(queryVector), field, threshold, scoreMode, queryWeight, rescoreWeight);
    }
}
