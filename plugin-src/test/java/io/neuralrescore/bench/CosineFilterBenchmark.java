/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.IOUtils;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.rescore.CosineFilterContext;
import io.neuralrescore.rescore.CosineFilterRescorer;
import io.neuralrescore.rescore.CosineFilterRescorerBuilder.Action;
import io.neuralrescore.rescore.SingleVectorField;
import io.neuralrescore.rescore.TestVectorFields;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.RescoreStats;

/**
 * The {@code cosine_filter} rescorer's work on one shard beyond the query encoding, for one window of candidates:
 * read each candidate's stored embedding (in doc-id order, leaf by leaf), cosine with the query, map through the
 * adapter's calibration, threshold, and order the window. The index: {@code docs} documents in 4 segments, in a
 * temporary folder opened with {@link MMapDirectory} as a node opens its shards, with the embedding as a
 * {@code multi_vector} doc value (in {@code source}'s encoding) or as a Lucene float vector (what the k-NN plugin's
 * Lucene engine writes for {@code knn_vector}). The adapter is the test adapter shipped for all-MiniLM-L6-v2
 * (384 -> 8 relu -> 2, linear_sigmoid).
 */
@State(Scope.Benchmark)
public class CosineFilterBenchmark {
    /** Where the embeddings are read from: multi_vector in an encoding, or a Lucene float vector field (knn_vector). */
    @Param({ "float", "int8", "float16", "knn_vector" })
    public String source;

    /** Candidates per call: the rescore window on one shard. */
    @Param({ "1000" })
    public int window;

    @Param({ "384" })
    public int dim;

    /** Documents in the index the window is drawn from. */
    @Param({ "10000" })
    public int docs;

    private Path path;
    private Directory dir;
    private DirectoryReader reader;
    private IndexSearcher searcher;
    private SingleVectorField field;
    private CosineAdapter adapter;
    private CosineAdapter.Params params;
    private float[] query;
    private ScoreDoc[] firstPass;
    private int[] docIds;
    private float[][] windowVectors;
    private CosineFilterContext context;

    @Setup
    public void setup() throws IOException {
        VectorEncoding encoding = source.equals("knn_vector") ? VectorEncoding.FLOAT : VectorEncoding.fromString(source);
        float[][] vectors = BenchData.vectors(docs, dim, 5);
        path = Files.createTempDirectory("cosine-filter-bench");
        dir = new MMapDirectory(path); // as a node's index (hybridfs maps doc values and vectors)
        try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE).setRAMBufferSizeMB(256))) {
            for (int i = 0; i < docs; i++) {
                Document doc = new Document();
                if (source.equals("knn_vector")) {
                    doc.add(new KnnFloatVectorField("v", vectors[i], VectorSimilarityFunction.COSINE));
                } else {
                    doc.add(new BinaryDocValuesField("v", new BytesRef(encoding.encode(new float[][] { vectors[i] }, dim))));
                }
                w.addDocument(doc);
                if ((i + 1) % (docs / 4) == 0) {
                    w.flush();
                }
            }
        }
        reader = DirectoryReader.open(dir);
        searcher = new IndexSearcher(reader);
        field = source.equals("knn_vector")
            ? TestVectorFields.knnVector("v", reader)
            : TestVectorFields.multiVector("v", dim, encoding, "all-minilm-l6-v2");
        adapter = CosineAdapterModel.load(
            ModelManifest.read("test-adapter", BenchData.repoRoot().resolve("models/test/test-adapter")),
            BenchData.repoRoot().resolve("models/test/test-adapter")
        ).adapter();
        query = BenchData.vectors(1, dim, 6)[0];
        params = adapter.params(query);
        // the window: distinct random docs in first-pass order (scores descending), as a shard's top hits arrive
        Random random = new Random(7);
        docIds = random.ints(0, docs).distinct().limit(window).toArray();
        firstPass = new ScoreDoc[window];
        for (int i = 0; i < window; i++) {
            firstPass[i] = new ScoreDoc(docIds[i], window - i);
        }
        windowVectors = field.read(searcher, docIds);
        // threshold at the window's median probability: half kept, half dropped
        float[] p = new float[window];
        for (int i = 0; i < window; i++) {
            p[i] = params.map(VectorMath.cosine(query, windowVectors[i]));
        }
        Arrays.sort(p);
        context = new CosineFilterContext(
            window,
            new CosineFilterContext.Options("test-adapter", "v", p[window / 2], Action.DROP, ScoreMode.REPLACE, 1f, 1f),
            field,
            query,
            params,
            new RescoreStats()
        );
    }

    @TearDown
    public void tearDown() throws IOException {
        reader.close();
        dir.close();
        IOUtils.rm(path);
    }

    /** Everything the rescorer does to a window: read, cosine, calibrate, threshold, order (plus copying the window). */
    @Benchmark
    public TopDocs rescoreWindow() throws IOException {
        ScoreDoc[] hits = new ScoreDoc[window];
        for (int i = 0; i < window; i++) {
            hits[i] = new ScoreDoc(firstPass[i].doc, firstPass[i].score);
        }
        return CosineFilterRescorer.INSTANCE.rescore(new TopDocs(new TotalHits(window, TotalHits.Relation.EQUAL_TO), hits), searcher, context);
    }

    /** Reading the window's embeddings only. */
    @Benchmark
    public float[][] readVectors() throws IOException {
        return field.read(searcher, docIds);
    }

    /** Cosine and calibration of the window's (already read) embeddings. */
    @Benchmark
    public void cosineAndCalibrate(Blackhole bh) {
        for (float[] v : windowVectors) {
            bh.consume(params.map(VectorMath.cosine(query, v)));
        }
    }

    /** The adapter's network on the query embedding: once per query and shard, not per candidate. */
    @Benchmark
    public CosineAdapter.Params adapterParams() {
        return adapter.params(query);
    }
}
