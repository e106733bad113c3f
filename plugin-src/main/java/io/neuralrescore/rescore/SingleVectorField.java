/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;
import org.opensearch.index.mapper.MappedFieldType;
import org.opensearch.index.query.QueryShardContext;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.VectorEncoding;

/**
 * One embedding per document, read from a {@code multi_vector} field (its first vector) or from a Lucene float
 * vector field such as the k-NN plugin's Lucene-engine {@code knn_vector}.
 */
public final class SingleVectorField {
    private final String name;
    private final VectorEncoding encoding; // null for Lucene vector fields
    private final int dims; // -1 when only known at read time
    private final String model; // recorded in the mapping, or null

    private SingleVectorField(String name, VectorEncoding encoding, int dims, String model) {
        this.name = name;
        this.encoding = encoding;
        this.dims = dims;
        this.model = model;
    }

    /** The field as a vector field, or an error naming what it is instead. */
    public static SingleVectorField resolve(String clause, String field, QueryShardContext context) {
        MappedFieldType ft = context.fieldMapper(field);
        if (ft == null) {
            throw new IllegalArgumentException("[" + clause + "] field [" + field + "] is not mapped in index [" + context.index().getName() + "]");
        }
        if (ft instanceof MultiVectorFieldMapper.MultiVectorFieldType mv) {
            if (mv.encoding() == VectorEncoding.BIT) {
                throw new IllegalArgumentException("[" + clause + "] field [" + field + "] has encoding [bit]; cosine needs float, float16 or int8");
            }
            return new SingleVectorField(field, mv.encoding(), mv.dims(), mv.model());
        }
        if (ft.typeName().equals("knn_vector")) {
            return new SingleVectorField(field, null, luceneDims(clause, field, context), null);
        }
        throw new IllegalArgumentException(
            "[" + clause + "] field [" + field + "] is of type [" + ft.typeName() + "] in index [" + context.index().getName()
                + "]; expected [multi_vector] or a Lucene-engine [knn_vector]"
        );
    }

    /**
     * Dimension of a Lucene vector field as the shard's segments record it, or -1 while no segment holds it. Vectors
     * that {@link org.apache.lucene.index.LeafReader#getFloatVectorValues} cannot return (byte vectors, or a k-NN engine
     * that keeps them outside Lucene's vector format) are refused here; otherwise every hit would silently read as
     * having no vector.
     */
    private static int luceneDims(String clause, String field, QueryShardContext context) {
        IndexReader reader = context.getIndexReader();
        if (reader == null) {
            return -1;
        }
        for (LeafReaderContext leaf : reader.leaves()) {
            FieldInfo info = leaf.reader().getFieldInfos().fieldInfo(field);
            if (info == null) {
                continue;
            }
            if (info.getVectorDimension() == 0) {
                throw new IllegalArgumentException(
                    "[" + clause + "] field [" + field + "] of type [knn_vector] holds no Lucene vectors in index ["
                        + context.index().getName() + "]; only Lucene-engine [knn_vector] fields can be read"
                );
            }
            if (info.getVectorEncoding() != org.apache.lucene.index.VectorEncoding.FLOAT32) {
                throw new IllegalArgumentException(
                    "[" + clause + "] field [" + field + "] of type [knn_vector] holds [" + info.getVectorEncoding().name().toLowerCase(Locale.ROOT)
                        + "] vectors; cosine needs float vectors"
                );
            }
            return info.getVectorDimension();
        }
        return -1;
    }

    public String name() {
        return name;
    }

    /** Dimension from the mapping or, for Lucene vector fields, the segments; -1 while no segment holds the field. */
    public int dims() {
        return dims;
    }

    public String model() {
        return model;
    }

    /** Reads vectors of one segment in increasing doc order. */
    public interface LeafVectors {
        /** The document's vector, or null; {@code doc} must not go backwards. */
        float[] vector(int doc) throws IOException;
    }

    public LeafVectors open(LeafReaderContext ctx) throws IOException {
        if (encoding != null) {
            BinaryDocValues values = ctx.reader().getBinaryDocValues(name);
            return doc -> {
                if (values == null || values.advanceExact(doc) == false) {
                    return null;
                }
                MultiVector m = encoding.decode(values.binaryValue());
                return m.floats()[0];
            };
        }
        FloatVectorValues values = ctx.reader().getFloatVectorValues(name);
        if (values == null) {
            return doc -> null;
        }
        KnnVectorValues.DocIndexIterator it = values.iterator();
        return doc -> {
            int at = it.docID() >= doc ? it.docID() : it.advance(doc);
            return at == doc ? values.vectorValue(it.index()).clone() : null;
        };
    }

    /** Vectors of top-level doc ids, read leaf by leaf in doc-id order; null where missing. */
    public float[][] read(IndexSearcher searcher, int[] docIds) throws IOException {
        float[][] out = new float[docIds.length][];
        Integer[] order = new Integer[docIds.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(docIds[a], docIds[b]));
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int currentLeaf = -1;
        LeafVectors vectors = null;
        int docBase = 0;
        for (int pos : order) {
            int leaf = ReaderUtil.subIndex(docIds[pos], leaves);
            if (leaf != currentLeaf) {
                currentLeaf = leaf;
                vectors = open(leaves.get(leaf));
                docBase = leaves.get(leaf).docBase;
            }
            out[pos] = vectors.vector(docIds[pos] - docBase);
        }
        return out;
    }
}
