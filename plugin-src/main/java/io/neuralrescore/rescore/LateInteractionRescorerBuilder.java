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
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.rescore.RescoreContext;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.stats.StatName;

import static org.opensearch.core.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code late_interaction} clause: scores the window by ColBERT MaxSim or XTR over token vectors stored at index
 * time in a {@code multi_vector} field. The query is encoded once per request, on the coordinating node.
 * <pre>
 * "late_interaction": { "model": "all-minilm-l6-v2", "query_text": "...", "field": "text_tokens",
 *                       "scoring": "colbert" | "xtr", "top_k_prime": 100, "missing_vectors": "keep" | "encode",
 *                       "text_fields": ["text"], "score_mode": "replace", "min_score": 0 }
 * </pre>
 */
public final class LateInteractionRescorerBuilder extends ModelRescorerBuilder<LateInteractionRescorerBuilder> {
    public static final String NAME = "late_interaction";
    public static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    public static final ParseField QUERY_VECTORS_FIELD = new ParseField("query_vectors");
    public static final ParseField FIELD_FIELD = new ParseField("field");
    public static final ParseField SCORING_FIELD = new ParseField("scoring");
    public static final ParseField TOP_K_PRIME_FIELD = new ParseField("top_k_prime");
    public static final ParseField MISSING_VECTORS_FIELD = new ParseField("missing_vectors");
    public static final ParseField TEXT_FIELDS_FIELD = new ParseField("text_fields");

    /** Late-interaction scoring functions. */
    public enum Scoring {
        COLBERT,
        XTR;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Scoring fromString(String v) {
            for (Scoring s : values()) {
                if (s.jsonName().equals(v)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("illegal scoring [" + v + "], must be one of [colbert, xtr]");
        }
    }

    /** What happens to a window hit without stored vectors. */
    public enum MissingVectors {
        /** keep its first-pass score; it ranks after scored hits */
        KEEP,
        /** encode its text at query time (slow: a model pass per such hit) */
        ENCODE;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static MissingVectors fromString(String v) {
            for (MissingVectors m : values()) {
                if (m.jsonName().equals(v)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("illegal missing_vectors [" + v + "], must be one of [keep, encode]");
        }
    }

    private static final ConstructingObjectParser<LateInteractionRescorerBuilder, ModelRegistry> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (args, registry) -> new LateInteractionRescorerBuilder(
            (String) args[0],
            (String) args[1],
            (float[][]) args[2],
            (String) args[3],
            registry
        )
    );
    static {
        PARSER.declareString(optionalConstructorArg(), MODEL_FIELD);
        PARSER.declareString(optionalConstructorArg(), QUERY_TEXT_FIELD);
        PARSER.declareField(optionalConstructorArg(), (p, c) -> Matrices.parse(p, NAME), QUERY_VECTORS_FIELD,
            org.opensearch.core.xcontent.ObjectParser.ValueType.VALUE_ARRAY);
        PARSER.declareString(optionalConstructorArg(), FIELD_FIELD);
        PARSER.declareString((b, v) -> b.scoring(b.clauseValue(() -> Scoring.fromString(v))), SCORING_FIELD);
        PARSER.declareInt(LateInteractionRescorerBuilder::topKPrime, TOP_K_PRIME_FIELD);
        PARSER.declareString((b, v) -> b.missingVectors(b.clauseValue(() -> MissingVectors.fromString(v))), MISSING_VECTORS_FIELD);
        PARSER.declareStringArray(LateInteractionRescorerBuilder::textFields, TEXT_FIELDS_FIELD);
        declareCombination(PARSER);
    }

    private final String queryText;
    /** Query token vectors: given by the user, or computed during rewrite. */
    private final float[][] queryVectors;
    /** Token strings of the computed query vectors, for explanations; null when vectors were given. */
    private final String[] queryTokens;
    private final Supplier<TokenEncoder.TokenVectors> pending;
    private final String field;
    private Scoring scoring = Scoring.COLBERT;
    private Integer topKPrime;
    private MissingVectors missingVectors = MissingVectors.KEEP;
    private List<String> textFields = List.of();

    public LateInteractionRescorerBuilder(String model, String queryText, float[][] queryVectors, String field, ModelRegistry registry) {
        super(model, registry);
        if (field == null || field.isBlank()) {
            throw new IllegalArgumentException("[" + NAME + "] requires a non-empty [field]");
        }
        if ((queryText == null) == (queryVectors == null)) {
            throw new IllegalArgumentException("[" + NAME + "] requires exactly one of [query_text] or [query_vectors]");
        }
        if (queryText != null && queryText.isBlank()) {
            throw new IllegalArgumentException("[" + NAME + "] requires a non-empty [query_text]");
        }
        if (queryText != null && (model == null || model.isBlank())) {
            throw new IllegalArgumentException("[" + NAME + "] [query_text] needs a [model] to encode it");
        }
        if (queryVectors != null) {
            Matrices.validate(queryVectors, NAME);
        }
        this.queryText = queryText;
        this.queryVectors = queryVectors;
        this.queryTokens = null;
        this.pending = null;
        this.field = field;
    }

    public LateInteractionRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in, registry);
        this.queryText = in.readOptionalString();
        this.queryVectors = in.readBoolean() ? Matrices.read(in) : null;
        this.queryTokens = in.readOptionalStringArray();
        this.pending = null;
        this.field = in.readString();
        this.scoring = in.readEnum(Scoring.class);
        this.topKPrime = in.readOptionalVInt();
        this.missingVectors = in.readEnum(MissingVectors.class);
        this.textFields = in.readStringList();
    }

    private LateInteractionRescorerBuilder(
        LateInteractionRescorerBuilder other,
        float[][] vectors,
        String[] tokens,
        Supplier<TokenEncoder.TokenVectors> pending
    ) {
        super(other);
        this.queryText = other.queryText;
        this.queryVectors = vectors;
        this.queryTokens = tokens;
        this.pending = pending;
        this.field = other.field;
        this.scoring = other.scoring;
        this.topKPrime = other.topKPrime;
        this.missingVectors = other.missingVectors;
        this.textFields = other.textFields;
    }

    public static LateInteractionRescorerBuilder fromXContent(XContentParser parser, ModelRegistry registry) {
        LateInteractionRescorerBuilder b = parse(PARSER, NAME, parser, registry);
        b.checkFallback();
        return b;
    }

    @Override
    protected void doWriteClause(StreamOutput out) throws IOException {
        if (pending != null && queryVectors == null) {
            throw new IllegalStateException("[" + NAME + "] must be rewritten before it is sent to shards");
        }
        out.writeOptionalString(queryText);
        out.writeBoolean(queryVectors != null);
        if (queryVectors != null) {
            Matrices.write(out, queryVectors);
        }
        out.writeOptionalStringArray(queryTokens);
        out.writeString(field);
        out.writeEnum(scoring);
        out.writeOptionalVInt(topKPrime);
        out.writeEnum(missingVectors);
        out.writeStringCollection(textFields);
    }

    @Override
    protected void doXContentClause(XContentBuilder builder, Params params) throws IOException {
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
        builder.field(SCORING_FIELD.getPreferredName(), scoring.jsonName());
        if (topKPrime != null) {
            builder.field(TOP_K_PRIME_FIELD.getPreferredName(), topKPrime);
        }
        builder.field(MISSING_VECTORS_FIELD.getPreferredName(), missingVectors.jsonName());
        if (textFields.isEmpty() == false) {
            builder.field(TEXT_FIELDS_FIELD.getPreferredName(), textFields);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    public LateInteractionRescorerBuilder scoring(Scoring scoring) {
        this.scoring = Objects.requireNonNull(scoring);
        return this;
    }

    public LateInteractionRescorerBuilder topKPrime(int topKPrime) {
        if (topKPrime < 1 || topKPrime > 1_000_000) {
            throw new IllegalArgumentException("[" + NAME + "] [top_k_prime] must be between 1 and 1000000, got [" + topKPrime + "]");
        }
        this.topKPrime = topKPrime;
        return this;
    }

    public LateInteractionRescorerBuilder missingVectors(MissingVectors missingVectors) {
        this.missingVectors = Objects.requireNonNull(missingVectors);
        return this;
    }

    public LateInteractionRescorerBuilder textFields(List<String> textFields) {
        this.textFields = List.copyOf(textFields);
        return this;
    }

    /** {@code missing_vectors: encode} reads text from {@code text_fields} with the clause's model. */
    void checkFallback() {
        if (missingVectors == MissingVectors.ENCODE) {
            if (textFields.isEmpty()) {
                throw new IllegalArgumentException("[" + NAME + "] [missing_vectors] [encode] needs [text_fields] to read text from");
            }
            if (model == null) {
                throw new IllegalArgumentException("[" + NAME + "] [missing_vectors] [encode] needs a [model]");
            }
        }
    }

    public String field() {
        return field;
    }

    public Scoring scoring() {
        return scoring;
    }

    public float[][] queryVectors() {
        return queryVectors;
    }

    private ModelManifest checkModel() {
        return checkTokenModel(registry(), model, NAME);
    }

    /** Checks that {@code model} can encode tokens (a colbert or bi_encoder model); returns its manifest. */
    public static ModelManifest checkTokenModel(ModelRegistry registry, String model, String clause) {
        ModelManifest manifest = registry.manifest(model);
        if (manifest.type() != ModelType.COLBERT && manifest.type() != ModelType.BI_ENCODER) {
            throw new IllegalArgumentException(
                "[" + clause + "] model [" + model + "] is a [" + manifest.type().jsonName()
                    + "] model, but [" + clause + "] needs a [colbert] or [bi_encoder] model"
            );
        }
        return manifest;
    }

    /** Query token vectors of {@code text} by {@code model}. */
    public static TokenEncoder.TokenVectors encodeQueryTokens(ModelRegistry registry, String model, String text, String clause) {
        try (ModelLease lease = registry.acquire(model)) {
            TokenEncoder.TokenVectors v = lease.as(TokenEncoder.class, clause).encodeQuery(text);
            registry.stats().increment(StatName.QUERY_ENCODINGS);
            return v;
        }
    }

    @Override
    public LateInteractionRescorerBuilder rewrite(QueryRewriteContext ctx) {
        if (queryVectors != null) {
            return this;
        }
        if (pending != null) {
            TokenEncoder.TokenVectors v = pending.get();
            return v == null ? this : new LateInteractionRescorerBuilder(this, v.vectors(), v.tokens(), null);
        }
        if (CoordinatorEncoding.onCoordinator(ctx) == false || registry == null) {
            return this; // shards encode the query themselves
        }
        checkModel();
        return new LateInteractionRescorerBuilder(this, null, null, CoordinatorEncoding.register(ctx, this::encodeQuery));
    }

    private TokenEncoder.TokenVectors encodeQuery() {
        return encodeQueryTokens(registry(), model, queryText, NAME);
    }

    @Override
    protected RescoreContext innerBuildContext(int windowSize, QueryShardContext context) throws IOException {
        checkFallback();
        MultiVectorFieldMapper.MultiVectorFieldType type = resolveMultiVectorField(NAME, field, context);
        if (model != null) {
            checkModel();
            if (type.model() != null && type.model().equals(model) == false) {
                throw new IllegalArgumentException(
                    "[" + NAME + "] field [" + field + "] holds vectors of model [" + type.model() + "], but the clause uses model [" + model + "]"
                );
            }
        }
        float[][] vectors = queryVectors;
        String[] tokens = queryTokens;
        if (vectors == null) {
            TokenEncoder.TokenVectors v = encodeQuery();
            vectors = v.vectors();
            tokens = v.tokens();
        }
        if (vectors[0].length != type.dims()) {
            throw new IllegalArgumentException(
                "[" + NAME + "] query vectors have dimension [" + vectors[0].length + "] but field [" + field + "] has dimension [" + type.dims() + "]"
            );
        }
        for (String f : textFields) {
            MappedFieldType ft = context.fieldMapper(f);
            if (ft == null || TextModelRescorerBuilder.TEXT_FIELD_TYPES.contains(ft.typeName()) == false) {
                throw new IllegalArgumentException("[" + NAME + "] [text_fields] entry [" + f + "] is not a text field in index [" + context.index().getName() + "]");
            }
        }
        LateInteractionContext.Fallback fallback = missingVectors == MissingVectors.ENCODE ? documentEncoder() : null;
        return new LateInteractionContext(
            windowSize,
            new LateInteractionContext.Options(field, type.encoding(), scoring, topKPrime == null ? windowSize : topKPrime, scoreMode, queryWeight, rescoreWeight, minScore, model),
            new QueryTokens(vectors),
            tokens,
            fallback,
            textFields,
            registry().stats()
        );
    }

    private LateInteractionContext.Fallback documentEncoder() {
        ModelRegistry registry = registry();
        String model = this.model;
        return texts -> {
            try (ModelLease lease = registry.acquire(model)) {
                return lease.as(TokenEncoder.class, NAME).encodeDocuments(texts).stream().map(TokenEncoder.TokenVectors::vectors).toList();
            }
        };
    }

    /** The named field as a multi_vector field type, or an error saying why not. */
    public static MultiVectorFieldMapper.MultiVectorFieldType resolveMultiVectorField(String clause, String field, QueryShardContext context) {
        MappedFieldType ft = context.fieldMapper(field);
        if (ft == null) {
            throw new IllegalArgumentException("[" + clause + "] field [" + field + "] is not mapped in index [" + context.index().getName() + "]");
        }
        if (ft instanceof MultiVectorFieldMapper.MultiVectorFieldType mv) {
            return mv;
        }
        throw new IllegalArgumentException(
            "[" + clause + "] field [" + field + "] is of type [" + ft.typeName() + "] in index [" + context.index().getName()
                + "], not [" + MultiVectorFieldMapper.CONTENT_TYPE + "]"
        );
    }

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        LateInteractionRescorerBuilder o = (LateInteractionRescorerBuilder) obj;
        return Objects.equals(queryText, o.queryText)
            && Arrays.deepEquals(queryVectors, o.queryVectors)
            && Arrays.equals(queryTokens, o.queryTokens)
            && field.equals(o.field)
            && scoring == o.scoring
            && Objects.equals(topKPrime, o.topKPrime)
            && missingVectors == o.missingVectors
            && textFields.equals(o.textFields);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
            super.hashCode(), queryText, Arrays.deepHashCode(queryVectors), Arrays.hashCode(queryTokens), field, scoring, topKPrime, missingVectors, textFields
        );
    }
}
