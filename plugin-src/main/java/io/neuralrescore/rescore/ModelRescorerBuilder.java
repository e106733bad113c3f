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
import org.opensearch.search.rescore.RescorerBuilder;

import java.io.IOException;
import java.util.Objects;
import java.util.function.Supplier;

import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.scoring.ScoreMode;

/**
 * What every model-backed rescore clause of the plugin shares: the model and how its score combines with the
 * first-pass score ({@code score_mode}, {@code query_weight}, {@code rescore_weight}, {@code min_score}).
 * Subclasses add their own options and say how a shard scores its window.
 */
public abstract class ModelRescorerBuilder<RB extends ModelRescorerBuilder<RB>> extends RescorerBuilder<RB> {
    public static final ParseField MODEL_FIELD = new ParseField("model");
    public static final ParseField SCORE_MODE_FIELD = new ParseField("score_mode");
    public static final ParseField QUERY_WEIGHT_FIELD = new ParseField("query_weight");
    public static final ParseField RESCORE_WEIGHT_FIELD = new ParseField("rescore_weight");
    public static final ParseField MIN_SCORE_FIELD = new ParseField("min_score");

    public static final ScoreMode DEFAULT_SCORE_MODE = ScoreMode.REPLACE;
    public static final float DEFAULT_QUERY_WEIGHT = 1.0f;
    public static final float DEFAULT_RESCORE_WEIGHT = 1.0f;

    /** Model id; may be null for clauses that work from supplied vectors. */
    protected final String model;
    protected ScoreMode scoreMode = DEFAULT_SCORE_MODE;
    protected float queryWeight = DEFAULT_QUERY_WEIGHT;
    protected float rescoreWeight = DEFAULT_RESCORE_WEIGHT;
    protected Float minScore;
    /** Node services; absent in builders made by tests of serialization only. */
    protected final ModelRegistry registry;

    protected ModelRescorerBuilder(String model, ModelRegistry registry) {
        this.model = model;
        this.registry = registry;
    }

    protected ModelRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in);
        this.model = in.readOptionalString();
        this.scoreMode = in.readEnum(ScoreMode.class);
        this.queryWeight = in.readFloat();
        this.rescoreWeight = in.readFloat();
        this.minScore = in.readOptionalFloat();
        this.registry = registry;
    }

    /** Copies the shared options of {@code other}; subclasses use it to build rewritten copies. */
    protected ModelRescorerBuilder(ModelRescorerBuilder<?> other) {
        this.windowSize = other.windowSize;
        this.model = other.model;
        this.scoreMode = other.scoreMode;
        this.queryWeight = other.queryWeight;
        this.rescoreWeight = other.rescoreWeight;
        this.minScore = other.minScore;
        this.registry = other.registry;
    }

    /** Declares the combination options on a subclass's parser. */
    protected static <B extends ModelRescorerBuilder<B>> void declareCombination(ConstructingObjectParser<B, ModelRegistry> parser) {
        declareCombination(parser, true);
    }

    /** As above; clauses with their own cut-off (a threshold) leave out {@code min_score}. */
    protected static <B extends ModelRescorerBuilder<B>> void declareCombination(
        ConstructingObjectParser<B, ModelRegistry> parser,
        boolean withMinScore
    ) {
        parser.declareString((b, v) -> b.scoreMode(b.clauseValue(() -> ScoreMode.fromString(v))), SCORE_MODE_FIELD);
        parser.declareFloat(ModelRescorerBuilder::queryWeight, QUERY_WEIGHT_FIELD);
        parser.declareFloat(ModelRescorerBuilder::rescoreWeight, RESCORE_WEIGHT_FIELD);
        if (withMinScore) {
            parser.declareFloat(ModelRescorerBuilder::minScore, MIN_SCORE_FIELD);
        }
    }

    /**
     * Parses with {@code parser}, surfacing the clause's own validation message instead of the parser's generic
     * "Failed to build" wrapper, so a 400 says what is wrong.
     */
    protected static <B> B parse(ConstructingObjectParser<B, ModelRegistry> parser, String clause, XContentParser xContent, ModelRegistry registry) {
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
    protected <T> T clauseValue(Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + name() + "] " + e.getMessage(), e);
        }
    }

    /** Clause name, as registered. */
    public abstract String name();

    @Override
    public String getWriteableName() {
        return name();
    }

    @Override
    protected final void doWriteTo(StreamOutput out) throws IOException {
        out.writeOptionalString(model);
        out.writeEnum(scoreMode);
        out.writeFloat(queryWeight);
        out.writeFloat(rescoreWeight);
        out.writeOptionalFloat(minScore);
        doWriteClause(out);
    }

    /** Subclass state beyond the shared options. */
    protected abstract void doWriteClause(StreamOutput out) throws IOException;

    @Override
    protected final void doXContent(XContentBuilder builder, Params params) throws IOException {
        builder.startObject(name());
        if (model != null) {
            builder.field(MODEL_FIELD.getPreferredName(), model);
        }
        doXContentClause(builder, params);
        builder.field(SCORE_MODE_FIELD.getPreferredName(), scoreMode.jsonName());
        builder.field(QUERY_WEIGHT_FIELD.getPreferredName(), queryWeight);
        builder.field(RESCORE_WEIGHT_FIELD.getPreferredName(), rescoreWeight);
        if (minScore != null) {
            builder.field(MIN_SCORE_FIELD.getPreferredName(), minScore);
        }
        builder.endObject();
    }

    /** Subclass fields of the clause's JSON. */
    protected abstract void doXContentClause(XContentBuilder builder, Params params) throws IOException;

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
    public RB minScore(float minScore) {
        checkFinite("min_score", minScore);
        this.minScore = minScore;
        return (RB) this;
    }

    protected void checkFinite(String field, float value) {
        if (Float.isFinite(value) == false) {
            throw new IllegalArgumentException("[" + name() + "] [" + field + "] must be a finite number, got [" + value + "]");
        }
    }

    public String model() {
        return model;
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

    public Float minScore() {
        return minScore;
    }

    /** Whether the clause may drop hits, which the search filter then removes from the response. */
    public boolean dropsHits() {
        return minScore != null;
    }

    protected ModelRegistry registry() {
        if (registry == null) {
            throw new IllegalStateException("[" + name() + "] was built without the plugin's model registry");
        }
        return registry;
    }

    @Override
    public boolean equals(Object obj) {
        if (super.equals(obj) == false) {
            return false;
        }
        ModelRescorerBuilder<?> other = (ModelRescorerBuilder<?>) obj;
        return Objects.equals(model, other.model)
            && scoreMode == other.scoreMode
            && queryWeight == other.queryWeight
            && rescoreWeight == other.rescoreWeight
            && Objects.equals(minScore, other.minScore);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), model, scoreMode, queryWeight, rescoreWeight, minScore);
    }
}
