/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.apache.lucene.queries.function.FunctionScoreQuery;
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
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.rescore.CoordinatorEncoding;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder;
import io.neuralrescore.rescore.Matrices;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;

import static org.opensearch.core.xcontent.ConstructingObjectParser.constructorArg;
import static org.opensearch.core.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code late_interaction} query: ColBERT MaxSim over stored token vectors in the query phase, for the hits of an
 * inner query, so that {@code size}, {@code from}, aggregations and sorting see the late-interaction scores.
 * Scores every match (not only a window), so give it a selective inner query. XTR is rescorer-only: it needs a
 * candidate pool. Hits without vectors score {@code query_weight} times their inner score. Lucene requires
 * non-negative scores, so a negative combined score counts as 0.
 * <pre>
 * "late_interaction": { "query": { "match": { "text": "..." } }, "model": "all-minilm-l6-v2",
 *                       "query_text": "...", "field": "text_tokens", "score_mode": "replace" }
 * </pre>
 */
public final class LateInteractionQueryBuilder extends AbstractQueryBuilder<LateInteractionQueryBuilder> {
    public static final String NAME = "late_interaction";
    private static final ParseField QUERY_FIELD = new ParseField("query");
    private static final ParseField MODEL_FIELD = new ParseField("model");
    private static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    private static final ParseField QUERY_VECTORS_FIELD = new ParseField("query_vectors");
    private static final ParseField FIELD_FIELD = new ParseField("field");
    private static final ParseField SCORING_FIELD = new ParseField("scoring");
    private static final ParseField SCORE_MODE_FIELD = new ParseField("score_mode");
    private static final ParseField QUERY_WEIGHT_FIELD = new ParseField("query_weight");
    private static final ParseField RESCORE_WEIGHT_FIELD = new ParseField("rescore_weight");

    private static final ConstructingObjectParser<LateInteractionQueryBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new LateInteractionQueryBuilder(
            (QueryBuilder) args[0],
            (String) args[1],
            (String) args[2],
            (float[][]) args[3],
            (String) args[4],
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
        PARSER.declareString(optionalConstructorArg(), QUERY_TEXT_FIELD);
        PARSER.declareField(optionalConstructorArg(), (p, c) -> Matrices.parse(p, NAME), QUERY_VECTORS_FIELD,
            org.opensearch.core.xcontent.ObjectParser.ValueType.VALUE_ARRAY);
        PARSER.declareString(optionalConstructorArg(), FIELD_FIELD);
        PARSER.declareString((b, v) -> {
            if (v.equals("colbert") == false) {
                throw new IllegalArgumentException(
                    "[" + NAME + "] query supports [scoring] [colbert] only; [xtr] needs a candidate pool: use the late_interaction rescorer"
                );
            }
        }, SCORING_FIELD);
        PARSER.declareString((b, v) -> {
            try {
                b.scoreMode = ScoreMode.fromString(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("[" + NAME + "] " + e.getMessage(), e);
            }
        }, SCORE_MODE_FIELD);
        PARSER.declareFloat((b, v) -> b.queryWeight = v, QUERY_WEIGHT_FIELD);
        PARSER.declareFloat((b, v) -> b.rescoreWeight = v, RESCORE_WEIGHT_FIELD);
        declareStandardFields(PARSER);
    }

    private final QueryBuilder inner;
    private final String model;
    private final String queryText;
    private final float[][] queryVectors;
    private final String field;
    private final Supplier<TokenEncoder.TokenVectors> pending;
    private ScoreMode scoreMode = ScoreMode.REPLACE;
    private float queryWeight = 1f;
    private float rescoreWeight = 1f;
    private final ModelRegistry registry;

    public LateInteractionQueryBuilder(
        QueryBuilder inner,
        String model,
        String queryText,
        float[][] queryVectors,
        String field,
        ModelRegistry registry
    ) {
        if (inner == null) {
            throw new IllegalArgumentException("[" + NAME + "] requires an inner [query]");
        }
        if (field == null || field.isBlank()) {
            throw new IllegalArgumentException("[" + NAME + "] requires a non-empty [field]");
        }
        if ((queryText == null) == (queryVectors == null)) {
            throw new IllegalArgumentException("[" + NAME + "] requires exactly one of [query_text] or [query_vectors]");
        }
        if (queryText != null && (queryText.isBlank() || model == null || model.isBlank())) {
            throw new IllegalArgumentException("[" + NAME + "] [query_text] must be non-empty and needs a [model] to encode it");
        }
        if (queryVectors != null) {
            Matrices.validate(queryVectors, NAME);
        }
        this.inner = inner;
        this.model = model;
        this.queryText = queryText;
        this.queryVectors = queryVectors;
        this.field = field;
        this.registry = registry;
        this.pending = null;
    }

    public LateInteractionQueryBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in);
        this.inner = in.readNamedWriteable(QueryBuilder.class);
        this.model = in.readOptionalString();
        this.queryText = in.readOptionalString();
        this.queryVectors = in.readBoolean() ? Matrices.read(in) : null;
        this.field = in.readString();
        this.scoreMode = in.readEnum(ScoreMode.class);
        this.queryWeight = in.readFloat();
        this.rescoreWeight = in.readFloat();
        this.registry = registry;
        this.pending = null;
    }

    private LateInteractionQueryBuilder(LateInteractionQueryBuilder o, QueryBuilder inner, float[][] vectors, Supplier<TokenEncoder.TokenVectors> pending) {
        this.inner = inner;
        this.model = o.model;
        this.queryText = o.queryText;
        this.queryVectors = vectors;
        this.field = o.field;
        this.scoreMode = o.scoreMode;
        this.queryWeight = o.queryWeight;
        this.rescoreWeight = o.rescoreWeight;
        this.registry = o.registry;
        this.pending = pending;
        this.boost = o.boost;
        this.queryName = o.queryName;
    }

    public static LateInteractionQueryBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
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

    public LateInteractionQueryBuilder scoreMode(ScoreMode mode) {
        this.scoreMode = Objects.requireNonNull(mode);
        return this;
    }

    public LateInteractionQueryBuilder weights(float queryWeight, float rescoreWeight) {
        this.queryWeight = queryWeight;
        this.rescoreWeight = rescoreWeight;
        return this;
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        if (pending != null && queryVectors == null) {
            throw new IllegalStateException("[" + NAME + "] must be rewritten before it is sent to shards");
        }
        out.writeNamedWriteable(inner);
        out.writeOptionalString(model);
        out.writeOptionalString(queryText);
        out.writeBoolean(queryVectors != null);
        if (queryVectors != null) {
            Matrices.write(out, queryVectors);
        }
        out.writeString(field);
        out.writeEnum(scoreMode);
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
        if (queryText != null) {
            builder.field(QUERY_TEXT_FIELD.getPreferredName(), queryText);
        } else {
            builder.startArray(QUERY_VECTORS_FIELD.getPreferredName());
            for (float[] row : queryVectors) {
                builder.value(row);
            }
            builder.endArray();
        }
        builder.field(FIELD_FIELD.getPreferredName(), field);
        builder.field(SCORE_MODE_FIELD.getPreferredName(), scoreMode.jsonName());
        builder.field(QUERY_WEIGHT_FIELD.getPreferredName(), queryWeight);
        builder.field(RESCORE_WEIGHT_FIELD.getPreferredName(), rescoreWeight);
        printBoostAndQueryName(builder);
        builder.endObject();
    }

    @Override
    protected QueryBuilder doRewrite(QueryRewriteContext ctx) throws IOException {
        QueryBuilder rewrittenInner = inner.rewrite(ctx);
        if (queryVectors == null && pending != null && pending.get() != null) {
            return new LateInteractionQueryBuilder(this, rewrittenInner, pending.get().vectors(), null);
        }
        if (queryVectors == null && pending == null && registry != null && CoordinatorEncoding.onCoordinator(ctx)) {
            LateInteractionRescorerBuilder.checkTokenModel(registry, model, NAME);
            return new LateInteractionQueryBuilder(
                this,
                rewrittenInner,
                null,
                CoordinatorEncoding.register(ctx, () -> LateInteractionRescorerBuilder.encodeQueryTokens(registry, model, queryText, NAME))
            );
        }
        return rewrittenInner == inner ? this : new LateInteractionQueryBuilder(this, rewrittenInner, queryVectors, pending);
    }

    @Override
    protected Query doToQuery(QueryShardContext context) throws IOException {
        MultiVectorFieldMapper.MultiVectorFieldType type = LateInteractionRescorerBuilder.resolveMultiVectorField(NAME, field, context);
        float[][] vectors = queryVectors;
        if (vectors == null) {
            if (registry == null) {
                throw new IllegalStateException("[" + NAME + "] was built without the plugin's model registry");
            }
            LateInteractionRescorerBuilder.checkTokenModel(registry, model, NAME);
            vectors = LateInteractionRescorerBuilder.encodeQueryTokens(registry, model, queryText, NAME).vectors();
        }
        if (vectors[0].length != type.dims()) {
            throw new IllegalArgumentException(
                "[" + NAME + "] query vectors have dimension [" + vectors[0].length + "] but field [" + field + "] has dimension [" + type.dims() + "]"
            );
        }
        if (model != null && type.model() != null && type.model().equals(model) == false) {
            throw new IllegalArgumentException(
                "[" + NAME + "] field [" + field + "] holds vectors of model [" + type.model() + "], but the query uses model [" + model + "]"
            );
        }
        return new FunctionScoreQuery(
            inner.toQuery(context),
            new LateInteractionValuesSource(field, type.encoding(), new QueryTokens(vectors), scoreMode, queryWeight, rescoreWeight)
        );
    }

    @Override
    protected boolean doEquals(LateInteractionQueryBuilder o) {
        return inner.equals(o.inner)
            && Objects.equals(model, o.model)
            && Objects.equals(queryText, o.queryText)
            && Arrays.deepEquals(queryVectors, o.queryVectors)
            && field.equals(o.field)
            && scoreMode == o.scoreMode
            && queryWeight == o.queryWeight
            && rescoreWeight == o.rescoreWeight;
    }

    @Override
    protected int doHashCode() {
        return Objects.hash(inner, model, queryText, Arrays.deepHashCode(queryVectors), field, scoreMode, queryWeight, rescoreWeight);
    }

}
