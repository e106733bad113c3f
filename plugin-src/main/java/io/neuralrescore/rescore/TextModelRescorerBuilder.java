/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.ParseField;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParseException;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.rescore.RescoreContext;
import org.opensearch.search.rescore.RescorerBuilder;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.scoring.ScoreMode;

import static org.opensearch.core.xcontent.ConstructingObjectParser.constructorArg;

/**
 * Shared shape of rescore clauses that score the text of the hits with a model: the model, the query text, the
 * source fields to read, and how the model score combines with the first-pass score. Subclasses say which model
 * type they need and how a window of texts is scored.
 */
public abstract class TextModelRescorerBuilder<RB extends TextModelRescorerBuilder<RB>> extends RescorerBuilder<RB> {
    public static final ParseField MODEL_FIELD = new ParseField("model");
    public static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    public static final ParseField FIELDS_FIELD = new ParseField("fields");
    public static final ParseField MAX_LENGTH_FIELD = new ParseField("max_length");
    public static final ParseField SCORE_MODE_FIELD = new ParseField("score_mode");
    public static final ParseField QUERY_WEIGHT_FIELD = new ParseField("query_weight");
    public static final ParseField RESCORE_WEIGHT_FIELD = new ParseField("rescore_weight");
    public static final ParseField NORMALIZE_FIELD = new ParseField("normalize");
    public static final ParseField MIN_SCORE_FIELD = new ParseField("min_score");

    public static final ScoreMode DEFAULT_SCORE_MODE = ScoreMode.REPLACE;
    public static final float DEFAULT_QUERY_WEIGHT = 1.0f;
    public static final float DEFAULT_RESCORE_WEIGHT = 1.0f;
    public static final Normalization DEFAULT_NORMALIZE = Normalization.NONE;

    /** Field types whose source values are text a model can read. */
    static final Set<String> TEXT_FIELD_TYPES = Set.of("text", "match_only_text", "keyword", "wildcard");

    protected final String model;
    protected final String queryText;
    protected final List<String> fields;
    protected Integer maxLength;
    protected ScoreMode scoreMode = DEFAULT_SCORE_MODE;
    protected float queryWeight = DEFAULT_QUERY_WEIGHT;
    protected float rescoreWeight = DEFAULT_RESCORE_WEIGHT;
    protected Normalization normalize = DEFAULT_NORMALIZE;
    protected Float minScore;
    /** Node services; absent in builders made by tests of serialization only. */
    protected final ModelRegistry registry;

    protected TextModelRescorerBuilder(String model, String queryText, List<String> fields, ModelRegistry registry) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("[" + name() + "] requires a non-empty [model]");
        }
        if (queryText == null || queryText.isBlank()) {
            throw new IllegalArgumentException("[" + name() + "] requires a non-empty [query_text]");
        }
        if (fields == null || fields.isEmpty()) {
            throw new IllegalArgumentException("[" + name() + "] requires at least one field in [fields]");
        }
        for (String f : fields) {
            if (f == null || f.isBlank()) {
                throw new IllegalArgumentException("[" + name() + "] [fields] must not contain empty field names");
            }
        }
        this.model = model;
        this.queryText = queryText;
        this.fields = List.copyOf(fields);
        this.registry = registry;
    }

    protected TextModelRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in);
        this.model = in.readString();
        this.queryText = in.readString();
        this.fields = in.readStringList();
        this.maxLength = in.readOptionalVInt();
        this.scoreMode = in.readEnum(ScoreMode.class);
        this.queryWeight = in.readFloat();
        this.rescoreWeight = in.readFloat();
        this.normalize = in.readEnum(Normalization.class);
        this.minScore = in.readOptionalFloat();
        this.registry = registry;
    }

    /** Copies every clause option of {@code other}; subclasses use it to build rewritten copies. */
    protected TextModelRescorerBuilder(TextModelRescorerBuilder<?> other) {
        this.windowSize = other.windowSize;
        this.model = other.model;
        this.queryText = other.queryText;
        this.fields = other.fields;
        this.maxLength = other.maxLength;
        this.scoreMode = other.scoreMode;
        this.queryWeight = other.queryWeight;
        this.rescoreWeight = other.rescoreWeight;
        this.normalize = other.normalize;
        this.minScore = other.minScore;
        this.registry = other.registry;
    }

    /** Declares every shared field on a subclass's parser; the constructor args are model, query_text, fields. */
    @SuppressWarnings("unchecked")
    protected static <B extends TextModelRescorerBuilder<B>> void declareFields(ConstructingObjectParser<B, ModelRegistry> parser) {
        parser.declareString(constructorArg(), MODEL_FIELD);
        parser.declareString(constructorArg(), QUERY_TEXT_FIELD);
        parser.declareStringArray(constructorArg(), FIELDS_FIELD);
        parser.declareInt(TextModelRescorerBuilder::maxLength, MAX_LENGTH_FIELD);
        parser.declareString((b, v) -> b.scoreMode(b.clauseValue(() -> ScoreMode.fromString(v))), SCORE_MODE_FIELD);
        parser.declareFloat(TextModelRescorerBuilder::queryWeight, QUERY_WEIGHT_FIELD);
        parser.declareFloat(TextModelRescorerBuilder::rescoreWeight, RESCORE_WEIGHT_FIELD);
        parser.declareString((b, v) -> b.normalize(b.clauseValue(() -> Normalization.fromString(v))), NORMALIZE_FIELD);
        parser.declareFloat(TextModelRescorerBuilder::minScore, MIN_SCORE_FIELD);
    }

    /**
     * Parses with {@code parser}, surfacing our own validation message instead of the parser's generic
     * "Failed to build" wrapper, so a 400 says what is wrong.
     */
    protected static <B> B parse(
        ConstructingObjectParser<B, ModelRegistry> parser,
        String clause,
        XContentParser xContent,
        ModelRegistry registry
    ) {
        try {
            return parser.apply(xContent, registry);
        } catch (XContentParseException e) {
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException iae && String.valueOf(iae.getMessage()).startsWith("[" + clause + "]")) {
                    throw iae;
                }
            }
            throw e;
        }
    }

    /** Runs a value parser, prefixing its error with the clause name so the 400 names the clause. */
    protected <T> T clauseValue(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + name() + "] " + e.getMessage(), e);
        }
    }

    /** Clause name, as registered. */
    public abstract String name();

    /** Model type the clause needs. */
    protected abstract ModelType modelType();

    @Override
    public String getWriteableName() {
        return name();
    }

    @Override
    protected final void doWriteTo(StreamOutput out) throws IOException {
        out.writeString(model);
        out.writeString(queryText);
        out.writeStringCollection(fields);
        out.writeOptionalVInt(maxLength);
        out.writeEnum(scoreMode);
        out.writeFloat(queryWeight);
        out.writeFloat(rescoreWeight);
        out.writeEnum(normalize);
        out.writeOptionalFloat(minScore);
        doWriteExtra(out);
    }

    /** Subclass state beyond the shared fields. */
    protected void doWriteExtra(StreamOutput out) throws IOException {}

    @Override
    protected final void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(name());
        builder.field(MODEL_FIELD.getPreferredName(), model);
        builder.field(QUERY_TEXT_FIELD.getPreferredName(), queryText);
        builder.field(FIELDS_FIELD.getPreferredName(), fields);
        if (maxLength != null) {
            builder.field(MAX_LENGTH_FIELD.getPreferredName(), maxLength);
        }
        builder.field(SCORE_MODE_FIELD.getPreferredName(), scoreMode.jsonName());
        builder.field(QUERY_WEIGHT_FIELD.getPreferredName(), queryWeight);
        builder.field(RESCORE_WEIGHT_FIELD.getPreferredName(), rescoreWeight);
        builder.field(NORMALIZE_FIELD.getPreferredName(), normalize.jsonName());
        if (minScore != null) {
            builder.field(MIN_SCORE_FIELD.getPreferredName(), minScore);
        }
        builder.endObject();
    }

    @SuppressWarnings("unchecked")
    public RB maxLength(int maxLength) {
        if (maxLength < 2 || maxLength > 8192) {
            throw new IllegalArgumentException("[" + name() + "] [max_length] must be between 2 and 8192, got [" + maxLength + "]");
        }
        this.maxLength = maxLength;
        return (RB) this;
    }

    @SuppressWarnings("unchecked")
    public RB scoreMode(ScoreMode scoreMode) {
        this.scoreMode = Objects.requireNonNull(scoreMode);
        return (RB) this;
    }

    @SuppressWarnings("unchecked")
    public RB queryWeight(float queryWeight) {
        checkFinite("query_weight", queryWeight);
        this.queryWeight = queryWeight;
        return (RB) this;
    }

    @SuppressWarnings("unchecked")
    public RB rescoreWeight(float rescoreWeight) {
        checkFinite("rescore_weight", rescoreWeight);
        this.rescoreWeight = rescoreWeight;
        return (RB) this;
    }

    @SuppressWarnings("unchecked")
    public RB normalize(Normalization normalize) {
        this.normalize = Objects.requireNonNull(normalize);
        return (RB) this;
    }

    @SuppressWarnings("unchecked")
    public RB minScore(float minScore) {
        checkFinite("min_score", minScore);
        this.minScore = minScore;
        return (RB) this;
    }

    private void checkFinite(String field, float value) {
        if (Float.isFinite(value) == false) {
            throw new IllegalArgumentException("[" + name() + "] [" + field + "] must be a finite number, got [" + value + "]");
        }
    }

    public String model() {
        return model;
    }

    public String queryText() {
        return queryText;
    }

    public List<String> fields() {
        return fields;
    }

    public Integer maxLength() {
        return maxLength;
    }

    public ScoreMode scoreMode() {
        return scoreMode;
    }

    public float queryWeight() {
        return queryWeight;
    }

    public float rescoreWeight() {
        return rescoreWeight;
    }

    public Normalization normalize() {
        return normalize;
    }

    public Float minScore() {
        return minScore;
    }

    protected ModelRegistry registry() {
        if (registry == null) {
            throw new IllegalStateException("[" + name() + "] was built without the plugin's model registry");
        }
        return registry;
    }

    /** Validates model and fields against this shard, then builds the shard's context. */
    @Override
    protected final RescoreContext innerBuildContext(int windowSize, QueryShardContext context) throws IOException {
        ModelManifest manifest = registry().requireType(model, modelType(), name());
        int effectiveMaxLength = effectiveMaxLength(manifest);
        for (String field : fields) {
            MappedFieldType type = context.fieldMapper(field);
            if (type == null) {
                throw new IllegalArgumentException(
                    "[" + name() + "] field [" + field + "] is not mapped in index [" + context.index().getName() + "]"
                );
            }
            if (TEXT_FIELD_TYPES.contains(type.typeName()) == false) {
                throw new IllegalArgumentException(
                    "["
                        + name()
                        + "] field ["
                        + field
                        + "] is of type ["
                        + type.typeName()
                        + "] in index ["
                        + context.index().getName()
                        + "]; only text fields can be rescored "
                        + TEXT_FIELD_TYPES.stream().sorted().toList()
                );
            }
        }
        TextRescoreContext.Options options = new TextRescoreContext.Options(
            name(),
            model,
            fields,
            scoreMode,
            queryWeight,
            rescoreWeight,
            normalize,
            minScore
        );
        return new TextRescoreContext(windowSize, options, windowScorer(manifest, effectiveMaxLength), registry().stats());
    }

    /** Max tokens per input: the clause's, else the model's; never above the model's. */
    protected int effectiveMaxLength(ModelManifest manifest) {
        if (maxLength == null) {
            return manifest.maxLength();
        }
        if (maxLength > manifest.maxLength()) {
            throw new IllegalArgumentException(
                "["
                    + name()
                    + "] [max_length] is ["
                    + maxLength
                    + "] but model ["
                    + model
                    + "] accepts at most ["
                    + manifest.maxLength()
                    + "] tokens"
            );
        }
        return maxLength;
    }

    /** Scores a window's texts with the model on this node. */
    protected abstract WindowScorer windowScorer(ModelManifest manifest, int maxLength);

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        TextModelRescorerBuilder<?> other = (TextModelRescorerBuilder<?>) obj;
        return Objects.equals(model, other.model)
            && Objects.equals(queryText, other.queryText)
            && Objects.equals(fields, other.fields)
            && Objects.equals(maxLength, other.maxLength)
            && scoreMode == other.scoreMode
            && queryWeight == other.queryWeight
            && rescoreWeight == other.rescoreWeight
            && normalize == other.normalize
            && Objects.equals(minScore, other.minScore);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), model, queryText, fields, maxLength, scoreMode, queryWeight, rescoreWeight, normalize, minScore);
    }
}
