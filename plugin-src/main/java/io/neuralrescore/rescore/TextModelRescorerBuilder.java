/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.ParseField;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ConstructingObjectParser;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.rescore.RescoreContext;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.scoring.Normalization;

import static org.opensearch.core.xcontent.ConstructingObjectParser.constructorArg;

/**
 * Shared shape of rescore clauses that score the text of the hits with a model: the model, the query text, the
 * source fields to read, and how the model score combines with the first-pass score. Subclasses say which model
 * type they need and how a window of texts is scored.
 */
public abstract class TextModelRescorerBuilder<RB extends TextModelRescorerBuilder<RB>> extends ModelRescorerBuilder<RB> {
    public static final ParseField QUERY_TEXT_FIELD = new ParseField("query_text");
    public static final ParseField FIELDS_FIELD = new ParseField("fields");
    public static final ParseField MAX_LENGTH_FIELD = new ParseField("max_length");
    public static final ParseField NORMALIZE_FIELD = new ParseField("normalize");

    public static final Normalization DEFAULT_NORMALIZE = Normalization.NONE;

    /** Field types whose source values are text a model can read. */
    static final Set<String> TEXT_FIELD_TYPES = Set.of("text", "match_only_text", "keyword", "wildcard");

    protected final String queryText;
    protected final List<String> fields;
    protected Integer maxLength;
    protected Normalization normalize = DEFAULT_NORMALIZE;

    protected TextModelRescorerBuilder(String model, String queryText, List<String> fields, ModelRegistry registry) {
        super(model, registry);
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
        this.queryText = queryText;
        this.fields = List.copyOf(fields);
    }

    protected TextModelRescorerBuilder(StreamInput in, ModelRegistry registry) throws IOException {
        super(in, registry);
        this.queryText = in.readString();
        this.fields = in.readStringList();
        this.maxLength = in.readOptionalVInt();
        this.normalize = in.readEnum(Normalization.class);
    }

    /** Copies every clause option of {@code other}; subclasses use it to build rewritten copies. */
    protected TextModelRescorerBuilder(TextModelRescorerBuilder<?> other) {
        super(other);
        this.queryText = other.queryText;
        this.fields = other.fields;
        this.maxLength = other.maxLength;
        this.normalize = other.normalize;
    }

    /** Declares every field on a subclass's parser; the constructor args are model, query_text, fields. */
    protected static <B extends TextModelRescorerBuilder<B>> void declareFields(ConstructingObjectParser<B, ModelRegistry> parser) {
        parser.declareString(constructorArg(), MODEL_FIELD);
        parser.declareString(constructorArg(), QUERY_TEXT_FIELD);
        parser.declareStringArray(constructorArg(), FIELDS_FIELD);
        parser.declareInt(TextModelRescorerBuilder::maxLength, MAX_LENGTH_FIELD);
        parser.declareString((b, v) -> b.normalize(b.clauseValue(() -> Normalization.fromString(v))), NORMALIZE_FIELD);
        declareCombination(parser);
    }

    /** Model type the clause needs. */
    protected abstract ModelType modelType();

    @Override
    protected final void doWriteClause(StreamOutput out) throws IOException {
        out.writeString(queryText);
        out.writeStringCollection(fields);
        out.writeOptionalVInt(maxLength);
        out.writeEnum(normalize);
        doWriteExtra(out);
    }

    /** Subclass state beyond the shared fields. */
    protected void doWriteExtra(StreamOutput out) throws IOException {}

    @Override
    protected final void doXContentClause(XContentBuilder builder, Params params) throws IOException {
        builder.field(QUERY_TEXT_FIELD.getPreferredName(), queryText);
        builder.field(FIELDS_FIELD.getPreferredName(), fields);
        if (maxLength != null) {
            builder.field(MAX_LENGTH_FIELD.getPreferredName(), maxLength);
        }
        builder.field(NORMALIZE_FIELD.getPreferredName(), normalize.jsonName());
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
    public RB normalize(Normalization normalize) {
        this.normalize = Objects.requireNonNull(normalize);
        return (RB) this;
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

    public Normalization normalize() {
        return normalize;
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
        return Objects.equals(queryText, other.queryText)
            && Objects.equals(fields, other.fields)
            && Objects.equals(maxLength, other.maxLength)
            && normalize == other.normalize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), queryText, fields, maxLength, normalize);
    }
}
