/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.search.Query;
import org.apache.lucene.util.BytesRef;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.mapper.MapperParsingException;
import org.opensearch.index.mapper.ParametrizedFieldMapper;
import org.opensearch.index.mapper.ParseContext;
import org.opensearch.index.mapper.SourceValueFetcher;
import org.opensearch.index.mapper.TextSearchInfo;
import org.opensearch.index.mapper.ValueFetcher;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.index.query.QueryShardException;
import org.opensearch.search.lookup.SearchLookup;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import io.neuralrescore.scoring.VectorEncoding;

/**
 * {@code multi_vector} field: one matrix of token vectors per document (late interaction), or a single vector,
 * stored in binary doc values in the chosen encoding. Not searchable by itself; the plugin's rescorer and queries
 * read it.
 * <pre>
 * "tokens": { "type": "multi_vector", "dims": 384, "encoding": "int8", "model": "all-minilm-l6-v2" }
 * </pre>
 * Values: an array of arrays of numbers (one per token), one array of numbers (a single vector), or a base64 string
 * of big-endian float32 values, the token vectors concatenated ({@link MultiVectorValues}).
 */
public final class MultiVectorFieldMapper extends ParametrizedFieldMapper {
    public static final String CONTENT_TYPE = "multi_vector";
    public static final int MAX_DIMS = 4096;

    private static MultiVectorFieldMapper toType(org.opensearch.index.mapper.FieldMapper in) {
        return (MultiVectorFieldMapper) in;
    }

    /** Mapping parameters. */
    public static final class Builder extends ParametrizedFieldMapper.Builder {
        private final Parameter<Integer> dims = Parameter.intParam("dims", false, m -> toType(m).fieldType().dims(), -1)
            .setValidator(d -> {
                // -1 is "not given": build() then says [dims] is required rather than "got [-1]"
                if (d != -1 && (d < 1 || d > MAX_DIMS)) {
                    throw new MapperParsingException("[dims] must be between 1 and " + MAX_DIMS + ", got [" + d + "]");
                }
            });
        private final Parameter<String> encoding = Parameter.restrictedStringParam(
            "encoding",
            false,
            m -> toType(m).fieldType().encoding().jsonName(),
            "float",
            "float16",
            "int8",
            "bit"
        );
        private final Parameter<String> model = Parameter.stringParam("model", false, m -> toType(m).fieldType().model(), null)
            .acceptsNull();
        private final Parameter<Map<String, String>> meta = Parameter.metaParam();

        public Builder(String name) {
            super(name);
        }

        @Override
        protected List<Parameter<?>> getParameters() {
            return List.of(dims, encoding, model, meta);
        }

        @Override
        public MultiVectorFieldMapper build(BuilderContext context) {
            if (dims.getValue() == -1) {
                throw new MapperParsingException("[dims] is required for field [" + name + "] of type [" + CONTENT_TYPE + "]");
            }
            MultiVectorFieldType type = new MultiVectorFieldType(
                buildFullName(context),
                dims.getValue(),
                VectorEncoding.fromString(encoding.getValue()),
                model.getValue(),
                meta.getValue()
            );
            return new MultiVectorFieldMapper(name, type, multiFieldsBuilder.build(this, context), copyTo.build());
        }
    }

    public static final TypeParser PARSER = new TypeParser((n, c) -> new Builder(n));

    /** Field type: dimension, encoding and, optionally, the model that produced the vectors. */
    public static final class MultiVectorFieldType extends MappedFieldType {
        private final int dims;
        private final VectorEncoding encoding;
        private final String model;

        public MultiVectorFieldType(String name, int dims, VectorEncoding encoding, String model, Map<String, String> meta) {
            super(name, false, false, true, TextSearchInfo.NONE, meta);
            this.dims = dims;
            this.encoding = encoding;
            this.model = model;
        }

        public int dims() {
            return dims;
        }

        public VectorEncoding encoding() {
            return encoding;
        }

        /** Model id recorded in the mapping, or null. */
        public String model() {
            return model;
        }

        @Override
        public String typeName() {
            return CONTENT_TYPE;
        }

        @Override
        public ValueFetcher valueFetcher(QueryShardContext context, SearchLookup searchLookup, String format) {
            return SourceValueFetcher.identity(name(), context, format);
        }

        @Override
        public Query termQuery(Object value, QueryShardContext context) {
            throw new QueryShardException(
                context,
                "field [" + name() + "] of type [" + CONTENT_TYPE + "] is not searchable; use the late_interaction rescorer or query"
            );
        }
    }

    private MultiVectorFieldMapper(String simpleName, MultiVectorFieldType type, MultiFields multiFields, CopyTo copyTo) {
        super(simpleName, type, multiFields, copyTo);
    }

    @Override
    public MultiVectorFieldType fieldType() {
        return (MultiVectorFieldType) super.fieldType();
    }

    @Override
    public boolean parsesArrayValue() {
        return true;
    }

    @Override
    protected void parseCreateField(ParseContext context) throws IOException {
        String name = fieldType().name();
        XContentParser parser = context.parser();
        float[][] tokens;
        switch (parser.currentToken()) {
            case VALUE_NULL -> {
                return;
            }
            case START_ARRAY -> tokens = MultiVectorValues.parse(name, parser, fieldType().dims());
            case VALUE_STRING -> tokens = MultiVectorValues.decodeBase64(name, parser.text(), fieldType().dims());
            default -> throw new MapperParsingException(
                "field [" + name + "] of type [" + CONTENT_TYPE + "] takes an array of vectors or a base64 string, got ["
                    + parser.currentToken() + "]"
            );
        }
        if (tokens == null) {
            return;
        }
        if (context.doc().getField(name) != null) {
            throw new MapperParsingException("field [" + name + "] of type [" + CONTENT_TYPE + "] takes one value per document");
        }
        byte[] encoded;
        try {
            encoded = fieldType().encoding().encode(tokens, fieldType().dims());
        } catch (IllegalArgumentException e) {
            throw new MapperParsingException("field [" + name + "]: " + e.getMessage());
        }
        context.doc().add(new BinaryDocValuesField(name, new BytesRef(encoded)));
    }

    @Override
    public ParametrizedFieldMapper.Builder getMergeBuilder() {
        return new Builder(simpleName()).init(this);
    }

    @Override
    protected String contentType() {
        return CONTENT_TYPE;
    }
}
