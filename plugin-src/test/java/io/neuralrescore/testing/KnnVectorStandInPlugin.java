/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.testing;

import org.apache.lucene.document.KnnByteVectorField;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.Query;
import org.opensearch.index.mapper.FieldMapper;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.mapper.Mapper;
import org.opensearch.index.mapper.MapperParsingException;
import org.opensearch.index.mapper.ParametrizedFieldMapper;
import org.opensearch.index.mapper.ParseContext;
import org.opensearch.index.mapper.SourceValueFetcher;
import org.opensearch.index.mapper.TextSearchInfo;
import org.opensearch.index.mapper.ValueFetcher;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.plugins.MapperPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.search.lookup.SearchLookup;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Test-only stand-in for the k-NN plugin's {@code knn_vector} field with the Lucene engine, which is not published
 * for OpenSearch 3.8: {@code {"type": "knn_vector", "dimension": 384, "data_type": "float" | "byte"}} indexes each
 * value as Lucene's {@link KnnFloatVectorField} (or {@link KnnByteVectorField}) under the field's name, as that engine
 * does. Enough for the plugin, which reads the field through Lucene by its type name.
 */
public class KnnVectorStandInPlugin extends Plugin implements MapperPlugin {
    public static final String TYPE = "knn_vector";

    @Override
    public Map<String, Mapper.TypeParser> getMappers() {
        return Map.of(TYPE, new ParametrizedFieldMapper.TypeParser((n, c) -> new KnnVectorBuilder(n)));
    }

    private static KnnVectorMapper toType(FieldMapper in) {
        return (KnnVectorMapper) in;
    }

    static final class KnnVectorBuilder extends ParametrizedFieldMapper.Builder {
        private final ParametrizedFieldMapper.Parameter<Integer> dimension = ParametrizedFieldMapper.Parameter.intParam("dimension", false, m -> toType(m).fieldType().dimension, 1);
        private final ParametrizedFieldMapper.Parameter<String> dataType = ParametrizedFieldMapper.Parameter.restrictedStringParam(
            "data_type",
            false,
            m -> toType(m).fieldType().dataType,
            "float",
            "byte"
        );

        KnnVectorBuilder(String name) {
            super(name);
        }

        @Override
        protected List<ParametrizedFieldMapper.Parameter<?>> getParameters() {
            return List.of(dimension, dataType);
        }

        @Override
        public KnnVectorMapper build(Mapper.BuilderContext context) {
            return new KnnVectorMapper(
                name,
                new KnnVectorFieldType(buildFullName(context), dimension.getValue(), dataType.getValue()),
                multiFieldsBuilder.build(this, context),
                copyTo.build()
            );
        }
    }

    static final class KnnVectorFieldType extends MappedFieldType {
        final int dimension;
        final String dataType;

        KnnVectorFieldType(String name, int dimension, String dataType) {
            super(name, true, false, false, TextSearchInfo.NONE, Map.of());
            this.dimension = dimension;
            this.dataType = dataType;
        }

        @Override
        public String typeName() {
            return TYPE;
        }

        @Override
        public ValueFetcher valueFetcher(QueryShardContext context, SearchLookup searchLookup, String format) {
            return SourceValueFetcher.identity(name(), context, format);
        }

        @Override
        public Query termQuery(Object value, QueryShardContext context) {
            throw new UnsupportedOperationException("stand-in knn_vector is not searchable");
        }
    }

    static final class KnnVectorMapper extends ParametrizedFieldMapper {
        KnnVectorMapper(String simpleName, KnnVectorFieldType type, MultiFields multiFields, CopyTo copyTo) {
            super(simpleName, type, multiFields, copyTo);
        }

        @Override
        public KnnVectorFieldType fieldType() {
            return (KnnVectorFieldType) super.fieldType();
        }

        @Override
        public boolean parsesArrayValue() {
            return true;
        }

        @Override
        protected void parseCreateField(ParseContext context) throws IOException {
            List<Object> values = context.parser().list();
            KnnVectorFieldType type = fieldType();
            if (values.size() != type.dimension) {
                throw new MapperParsingException("vector of [" + type.name() + "] has dimension [" + values.size() + "], not [" + type.dimension + "]");
            }
            if (type.dataType.equals("byte")) {
                byte[] v = new byte[values.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = ((Number) values.get(i)).byteValue();
                }
                context.doc().add(new KnnByteVectorField(type.name(), v, VectorSimilarityFunction.EUCLIDEAN));
            } else {
                float[] v = new float[values.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = ((Number) values.get(i)).floatValue();
                }
                context.doc().add(new KnnFloatVectorField(type.name(), v, VectorSimilarityFunction.COSINE));
            }
        }

        @Override
        public ParametrizedFieldMapper.Builder getMergeBuilder() {
            return new KnnVectorBuilder(simpleName()).init(this);
        }

        @Override
        protected String contentType() {
            return TYPE;
        }
    }
}
