/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.index.IndexReader;
import org.apache.lucene.search.Query;
import org.opensearch.core.index.Index;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.mapper.TextSearchInfo;
import org.opensearch.index.mapper.ValueFetcher;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.lookup.SearchLookup;

import java.util.Map;

import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.scoring.VectorEncoding;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * {@link SingleVectorField}s for tests and benchmarks over plain Lucene indexes, resolved the way a shard resolves
 * them: through a {@link QueryShardContext} that maps the field (here a mock) and sees the shard's reader.
 */
public final class TestVectorFields {
    private TestVectorFields() {}

    /** Index name the mocked shard context reports. */
    public static final String INDEX = "idx";

    /**
     * Stand-in for the k-NN plugin's {@code knn_vector} field type (the plugin is not published for OpenSearch 3.8):
     * only the type name matters to the resolver, which then reads Lucene's float vectors.
     */
    public static final class KnnVectorFieldType extends MappedFieldType {
        public KnnVectorFieldType(String name) {
            super(name, true, false, false, TextSearchInfo.NONE, Map.of());
        }

        @Override
        public String typeName() {
            return "knn_vector";
        }

        @Override
        public ValueFetcher valueFetcher(QueryShardContext context, SearchLookup searchLookup, String format) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Query termQuery(Object value, QueryShardContext context) {
            throw new UnsupportedOperationException();
        }
    }

    /** A shard context mapping {@code type}'s name to it, over {@code reader} (may be null). */
    public static QueryShardContext context(MappedFieldType type, IndexReader reader) {
        QueryShardContext context = mock(QueryShardContext.class);
        when(context.fieldMapper(type.name())).thenReturn(type);
        when(context.index()).thenReturn(new Index(INDEX, "_na_"));
        when(context.getIndexReader()).thenReturn(reader);
        return context;
    }

    public static SingleVectorField resolve(String clause, MappedFieldType type, IndexReader reader) {
        return SingleVectorField.resolve(clause, type.name(), context(type, reader));
    }

    /** A Lucene float vector field, as the k-NN plugin's Lucene engine writes {@code knn_vector}. */
    public static SingleVectorField knnVector(String name, IndexReader reader) {
        return resolve("cosine_filter", new KnnVectorFieldType(name), reader);
    }

    /** A {@code multi_vector} field holding one vector per document. */
    public static SingleVectorField multiVector(String name, int dims, VectorEncoding encoding, String model) {
        return resolve("cosine_filter", new MultiVectorFieldMapper.MultiVectorFieldType(name, dims, encoding, model, Map.of()), null);
    }
}
