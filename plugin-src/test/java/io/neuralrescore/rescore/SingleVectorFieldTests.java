/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnByteVectorField;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.Field;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.opensearch.index.mapper.KeywordFieldMapper;
import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.mapper.MultiVectorFieldMapper;
import io.neuralrescore.scoring.VectorEncoding;

/**
 * Reading one embedding per hit: from a Lucene float vector field (what the k-NN plugin's Lucene engine writes for
 * {@code knn_vector}; the k-NN plugin itself is not published for OpenSearch 3.8, so the field is written with
 * Lucene's {@link KnnFloatVectorField}) and from a {@code multi_vector} field in each encoding, over several
 * segments, with hits missing vectors, asked for in any order.
 */
public class SingleVectorFieldTests extends OpenSearchTestCase {
    private static final String KNN = "knn";
    private static final String MV = "mv";

    /** A multi-segment index: doc i holds {@code vectors[i]} in both fields (null: neither), its ordinal in "ord". */
    private static final class Fixture implements AutoCloseable {
        final Directory dir = new ByteBuffersDirectory();
        final float[][] vectors;
        final VectorEncoding encoding;
        final DirectoryReader reader;
        /** Vector of each top-level doc id, as indexed. */
        final float[][] byDocId;

        Fixture(int n, int dim, VectorEncoding encoding, double missing) throws IOException {
            this.encoding = encoding;
            vectors = new float[n][];
            IndexWriterConfig config = new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE);
            VectorSimilarityFunction similarity = randomFrom(VectorSimilarityFunction.COSINE, VectorSimilarityFunction.EUCLIDEAN);
            try (IndexWriter w = new IndexWriter(dir, config)) {
                for (int i = 0; i < n; i++) {
                    Document doc = new Document();
                    doc.add(new NumericDocValuesField("ord", i));
                    if (random().nextDouble() >= missing) {
                        vectors[i] = randomVector(dim);
                        doc.add(new KnnFloatVectorField(KNN, vectors[i], similarity));
                        doc.add(new BinaryDocValuesField(MV, new BytesRef(encoding.encode(new float[][] { vectors[i] }, dim))));
                    }
                    w.addDocument(doc);
                    if (rarely()) {
                        w.flush(); // a new segment
                    }
                }
            }
            reader = DirectoryReader.open(dir);
            byDocId = new float[reader.maxDoc()][];
            for (LeafReaderContext leaf : reader.leaves()) {
                NumericDocValues ord = leaf.reader().getNumericDocValues("ord");
                for (int d = 0; d < leaf.reader().maxDoc(); d++) {
                    assertTrue(ord.advanceExact(d));
                    byDocId[leaf.docBase + d] = vectors[(int) ord.longValue()];
                }
            }
        }

        /** What the multi_vector field gives back for a vector: its encoding's round trip. */
        float[] decoded(float[] v) {
            return v == null ? null : encoding.decode(new BytesRef(encoding.encode(new float[][] { v }, v.length))).floats()[0];
        }

        @Override
        public void close() throws IOException {
            reader.close();
            dir.close();
        }
    }

    private static float[] randomVector(int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = randomFloat() * 2 - 1;
        }
        v[0] = 0.5f + randomFloat(); // never the zero vector (cosine similarity refuses it)
        return v;
    }

    /** Random distinct doc ids in random order, as a rescore window hands them over. */
    private static int[] randomWindow(int maxDoc) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < maxDoc; i++) {
            all.add(i);
        }
        Collections.shuffle(all, random());
        return all.subList(0, between(1, maxDoc)).stream().mapToInt(Integer::intValue).toArray();
    }

    public void testReadsLuceneFloatVectorsLikeKnnVector() throws IOException {
        for (int run = 0; run < 20; run++) {
            int dim = between(1, 64);
            try (Fixture f = new Fixture(between(1, 300), dim, VectorEncoding.FLOAT, randomFrom(0.0, 0.2, 0.9))) {
                SingleVectorField field = TestVectorFields.knnVector(KNN, f.reader);
                assertEquals(KNN, field.name());
                assertNull("knn_vector mappings name no model", field.model());
                boolean anyVector = false;
                for (float[] v : f.vectors) {
                    anyVector |= v != null;
                }
                assertEquals("dimension from the segments", anyVector ? dim : -1, field.dims());
                int[] window = randomWindow(f.reader.maxDoc());
                float[][] read = field.read(new IndexSearcher(f.reader), window);
                Map<float[], Boolean> distinct = new IdentityHashMap<>();
                for (int i = 0; i < window.length; i++) {
                    float[] want = f.byDocId[window[i]];
                    if (want == null) {
                        assertNull("doc " + window[i], read[i]);
                    } else {
                        assertArrayEquals("doc " + window[i], want, read[i], 0f);
                        // Lucene reuses its vector buffer: every hit must hold its own copy
                        assertNull("doc " + window[i] + " shares its array", distinct.put(read[i], true));
                    }
                }
            }
        }
    }

    public void testReadsMultiVectorFieldInEveryFloatEncoding() throws IOException {
        for (VectorEncoding encoding : new VectorEncoding[] { VectorEncoding.FLOAT, VectorEncoding.FLOAT16, VectorEncoding.INT8 }) {
            for (int run = 0; run < 5; run++) {
                int dim = between(1, 64);
                try (Fixture f = new Fixture(between(1, 200), dim, encoding, 0.2)) {
                    SingleVectorField field = TestVectorFields.multiVector(MV, dim, encoding, "enc");
                    assertEquals(dim, field.dims());
                    assertEquals("enc", field.model());
                    int[] window = randomWindow(f.reader.maxDoc());
                    float[][] read = field.read(new IndexSearcher(f.reader), window);
                    for (int i = 0; i < window.length; i++) {
                        float[] want = f.decoded(f.byDocId[window[i]]);
                        if (want == null) {
                            assertNull(encoding + " doc " + window[i], read[i]);
                        } else {
                            assertArrayEquals(encoding + " doc " + window[i], want, read[i], 0f);
                        }
                    }
                }
            }
        }
    }

    /** A multi_vector value with several token vectors (a late-interaction field): the first one is the embedding. */
    public void testMultiVectorTakesTheFirstVector() throws IOException {
        try (Directory dir = new ByteBuffersDirectory()) {
            try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig())) {
                Document doc = new Document();
                float[][] tokens = { { 1, 2, 3 }, { 4, 5, 6 } };
                doc.add(new BinaryDocValuesField(MV, new BytesRef(VectorEncoding.FLOAT.encode(tokens, 3))));
                w.addDocument(doc);
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                float[][] read = TestVectorFields.multiVector(MV, 3, VectorEncoding.FLOAT, null).read(new IndexSearcher(reader), new int[] { 0 });
                assertArrayEquals(new float[] { 1, 2, 3 }, read[0], 0f);
            }
        }
    }

    /** Leaf readers only move forward: a hit without a vector between two with one is skipped correctly. */
    public void testLeafReaderForwardOnly() throws IOException {
        try (Fixture f = new Fixture(50, 4, VectorEncoding.FLOAT, 0.5)) {
            for (SingleVectorField field : List.of(TestVectorFields.knnVector(KNN, f.reader), TestVectorFields.multiVector(MV, 4, VectorEncoding.FLOAT, null))) {
                for (LeafReaderContext leaf : f.reader.leaves()) {
                    SingleVectorField.LeafVectors vectors = field.open(leaf);
                    for (int d = 0; d < leaf.reader().maxDoc(); d += between(1, 3)) {
                        float[] want = f.byDocId[leaf.docBase + d];
                        float[] got = vectors.vector(d);
                        if (want == null) {
                            assertNull(got);
                        } else {
                            assertArrayEquals(want, got, 0f);
                            assertArrayEquals("asking twice for the same doc", want, vectors.vector(d), 0f);
                        }
                    }
                }
            }
        }
    }

    /** Segments without the field (or an index without any) read as "no vector", not as an error. */
    public void testSegmentsWithoutTheField() throws IOException {
        try (Directory dir = new ByteBuffersDirectory()) {
            try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
                Document doc = new Document();
                doc.add(new StringField("other", "x", Field.Store.NO));
                w.addDocument(doc);
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                SingleVectorField knn = TestVectorFields.knnVector(KNN, reader);
                assertEquals(-1, knn.dims());
                assertNull(knn.read(new IndexSearcher(reader), new int[] { 0 })[0]);
                assertNull(TestVectorFields.multiVector(MV, 3, VectorEncoding.INT8, null).read(new IndexSearcher(reader), new int[] { 0 })[0]);
            }
        }
        // no reader at all (a context without a searcher): dimension unknown, nothing refused
        assertEquals(-1, TestVectorFields.knnVector(KNN, null).dims());
    }

    // ---- resolution errors -------------------------------------------------------------------------------------

    public void testFieldsThatAreNotVectorFields() {
        KeywordFieldMapper.KeywordFieldType keyword = new KeywordFieldMapper.KeywordFieldType("tag");
        assertEquals(
            "[cosine_filter] field [tag] is of type [keyword] in index [idx]; expected [multi_vector] or a Lucene-engine [knn_vector]",
            expectThrows(IllegalArgumentException.class, () -> TestVectorFields.resolve("cosine_filter", keyword, null)).getMessage()
        );
        assertEquals(
            "[relevance_filter] field [nope] is not mapped in index [idx]",
            expectThrows(
                IllegalArgumentException.class,
                () -> SingleVectorField.resolve("relevance_filter", "nope", TestVectorFields.context(keyword, null))
            ).getMessage()
        );
        MultiVectorFieldMapper.MultiVectorFieldType bits = new MultiVectorFieldMapper.MultiVectorFieldType("b", 64, VectorEncoding.BIT, null, Map.of());
        assertEquals(
            "[cosine_filter] field [b] has encoding [bit]; cosine needs float, float16 or int8",
            expectThrows(IllegalArgumentException.class, () -> TestVectorFields.resolve("cosine_filter", bits, null)).getMessage()
        );
    }

    /** Byte vectors, or a knn_vector whose engine keeps vectors outside Lucene's format, would read as "no vector" for every hit. */
    public void testKnnVectorsTheReaderCannotRead() throws IOException {
        try (Directory dir = new ByteBuffersDirectory()) {
            try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig())) {
                Document doc = new Document();
                doc.add(new KnnByteVectorField("bytes", new byte[] { 1, 2, 3 }, VectorSimilarityFunction.EUCLIDEAN));
                doc.add(new BinaryDocValuesField("native", new BytesRef(new byte[] { 1, 2, 3, 4 })));
                w.addDocument(doc);
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                assertEquals(
                    "[cosine_filter] field [bytes] of type [knn_vector] holds [byte] vectors; cosine needs float vectors",
                    expectThrows(IllegalArgumentException.class, () -> TestVectorFields.knnVector("bytes", reader)).getMessage()
                );
                assertEquals(
                    "[relevance_filter] field [native] of type [knn_vector] holds no Lucene vectors in index [idx];"
                        + " only Lucene-engine [knn_vector] fields can be read",
                    expectThrows(
                        IllegalArgumentException.class,
                        () -> TestVectorFields.resolve("relevance_filter", new TestVectorFields.KnnVectorFieldType("native"), reader)
                    ).getMessage()
                );
            }
        }
    }
}
