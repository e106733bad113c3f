/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;
import org.junit.After;
import org.junit.Before;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.rescore.CosineFilterRescorerBuilder.Action;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;
import io.neuralrescore.testing.TestModels;

/**
 * The {@code cosine_filter} rescorer on one shard's window, against a brute-force reading of the contract: hits at or
 * above the threshold first by combined score (ties by doc id); then, for {@code demote}, the hits below it by score;
 * then hits without a vector and hits past the window in first-pass order; hits below the threshold under
 * {@code drop} last, scored negative infinity (the plugin's search filter removes them). Scores are the adapter's
 * calibrated probability of each cosine, combined by {@code score_mode}.
 */
public class CosineFilterRescorerTests extends OpenSearchTestCase {
    private static final int DIM = 16;
    private static final String ADAPTER = "test-adapter-tiny-bi";

    private Directory dir;
    private DirectoryReader reader;
    private IndexSearcher searcher;
    private float[][] vectors; // by doc id (no merges, one thread: doc ids follow insertion order)
    private CosineAdapterModel adapter;

    @Before
    public void buildIndex() throws IOException {
        adapter = CosineAdapterModel.load(TestModels.manifest(ADAPTER), TestModels.testModels().resolve(ADAPTER));
        dir = new ByteBuffersDirectory();
        int n = between(20, 120);
        vectors = new float[n][];
        try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
            for (int i = 0; i < n; i++) {
                Document doc = new Document();
                if (i % 7 != 3) { // some hits have no vector
                    vectors[i] = new float[DIM];
                    for (int d = 0; d < DIM; d++) {
                        vectors[i][d] = (float) random().nextGaussian();
                    }
                    doc.add(new KnnFloatVectorField("knn", vectors[i], VectorSimilarityFunction.COSINE));
                    doc.add(new BinaryDocValuesField("mv", new BytesRef(VectorEncoding.FLOAT.encode(new float[][] { vectors[i] }, DIM))));
                }
                w.addDocument(doc);
                if (rarely()) {
                    w.flush();
                }
            }
        }
        reader = DirectoryReader.open(dir);
        searcher = new IndexSearcher(reader);
    }

    @After
    public void closeIndex() throws IOException {
        reader.close();
        dir.close();
    }

    private SingleVectorField randomField() {
        return randomBoolean() ? TestVectorFields.knnVector("knn", reader) : TestVectorFields.multiVector("mv", DIM, VectorEncoding.FLOAT, "tiny-bi");
    }

    /** A query embedding close to one of the documents, so that probabilities spread over (0, 1). */
    private float[] randomQuery() {
        float[] base = vectors[0];
        float[] q = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            q[d] = base[d] + (float) random().nextGaussian() * 0.8f;
        }
        return q;
    }

    /** First-pass hits: every doc, random scores, sorted as a shard's top docs are. */
    private TopDocs firstPass() {
        List<ScoreDoc> hits = new ArrayList<>();
        for (int doc = 0; doc < vectors.length; doc++) {
            hits.add(new ScoreDoc(doc, randomFrom(1f, randomFloat() * 10)));
        }
        hits.sort(WindowOrdering.BY_SCORE_THEN_DOC);
        return new TopDocs(new TotalHits(hits.size(), TotalHits.Relation.EQUAL_TO), hits.toArray(new ScoreDoc[0]));
    }

    private static TopDocs copy(TopDocs in) {
        ScoreDoc[] docs = new ScoreDoc[in.scoreDocs.length];
        for (int i = 0; i < docs.length; i++) {
            docs[i] = new ScoreDoc(in.scoreDocs[i].doc, in.scoreDocs[i].score);
        }
        return new TopDocs(in.totalHits, docs);
    }

    private CosineFilterContext context(int window, float threshold, Action action, ScoreMode mode, float qw, float rw, float[] q, RescoreStats stats) {
        return new CosineFilterContext(
            window,
            new CosineFilterContext.Options(ADAPTER, randomFrom("knn", "mv"), threshold, action, mode, qw, rw),
            randomField(),
            q,
            adapter.adapter().params(q),
            stats
        );
    }

    /** The calibrated probability of a doc for query q, computed here from the vectors as indexed. */
    private float probability(float[] q, int doc) {
        return adapter.adapter().params(q).map(VectorMath.cosine(q, vectors[doc]));
    }

    public void testOrderingAndScoresAgainstBruteForce() throws IOException {
        for (int run = 0; run < 50; run++) {
            float[] q = randomQuery();
            TopDocs in = firstPass();
            int window = randomBoolean() ? in.scoreDocs.length : between(1, in.scoreDocs.length);
            Action action = randomFrom(Action.values());
            ScoreMode mode = randomFrom(ScoreMode.REPLACE, ScoreMode.TOTAL, ScoreMode.MULTIPLY, ScoreMode.MAX);
            float qw = randomFrom(1f, 0.5f, 0f);
            float rw = randomFrom(1f, 2f);
            // sometimes exactly one doc's probability: that doc is kept
            int atThreshold = -1;
            float threshold = randomFloat();
            if (randomBoolean()) {
                int i = between(0, window - 1);
                if (vectors[in.scoreDocs[i].doc] != null) {
                    atThreshold = in.scoreDocs[i].doc;
                    threshold = probability(q, atThreshold);
                }
            }
            RescoreStats stats = new RescoreStats();
            CosineFilterContext ctx = context(window, threshold, action, mode, qw, rw, q, stats);

            List<ScoreDoc> kept = new ArrayList<>();
            List<ScoreDoc> below = new ArrayList<>();
            List<Integer> unscored = new ArrayList<>();
            for (int i = 0; i < window; i++) {
                ScoreDoc sd = in.scoreDocs[i];
                if (vectors[sd.doc] == null) {
                    unscored.add(sd.doc);
                    continue;
                }
                float p = probability(q, sd.doc);
                ScoreDoc combined = new ScoreDoc(sd.doc, mode.combine(sd.score, qw, p, rw) + 0f);
                (p >= threshold ? kept : below).add(combined);
            }
            Comparator<ScoreDoc> order = WindowOrdering.BY_SCORE_THEN_DOC;
            kept.sort(order);
            below.sort(order);

            TopDocs out = CosineFilterRescorer.INSTANCE.rescore(copy(in), searcher, ctx);
            assertEquals("every hit comes back", in.scoreDocs.length, out.scoreDocs.length);
            assertEquals(in.totalHits, out.totalHits);
            int k = 0;
            for (ScoreDoc want : kept) {
                ScoreDoc got = out.scoreDocs[k++];
                assertEquals("kept rank " + k, want.doc, got.doc);
                assertEquals("score of doc " + want.doc, want.score, got.score, 0f);
            }
            if (atThreshold >= 0) {
                int t = atThreshold;
                assertTrue("doc " + t + " with p == threshold is kept", kept.stream().anyMatch(sd -> sd.doc == t));
            }
            if (action == Action.DEMOTE) {
                for (ScoreDoc want : below) {
                    ScoreDoc got = out.scoreDocs[k++];
                    assertEquals("demoted", want.doc, got.doc);
                    assertTrue("demoted score never above its combined score", got.score <= want.score);
                }
            }
            for (int doc : unscored) {
                assertEquals("hit without a vector, first-pass order", doc, out.scoreDocs[k++].doc);
            }
            for (int i = window; i < in.scoreDocs.length; i++) {
                assertEquals("past the window, first-pass order", in.scoreDocs[i].doc, out.scoreDocs[k++].doc);
            }
            if (action == Action.DROP) {
                List<Integer> dropped = below.stream().map(sd -> sd.doc).sorted().toList();
                for (int doc : dropped) {
                    ScoreDoc got = out.scoreDocs[k++];
                    assertEquals("dropped, by doc id", doc, got.doc);
                    assertEquals(WindowOrdering.DROPPED, got.score, 0f);
                }
            }
            assertEquals(out.scoreDocs.length, k);
            for (int i = 1; i < out.scoreDocs.length; i++) {
                assertTrue("sorted for the coordinator's merge at " + i, out.scoreDocs[i - 1].score >= out.scoreDocs[i].score);
            }
            int scored = kept.size() + below.size();
            assertEquals(scored, stats.get(StatName.RESCORED_DOCS));
            assertEquals(unscored.size(), stats.get(StatName.UNSCORED_DOCS));
            assertEquals(action == Action.DROP ? below.size() : 0, stats.get(StatName.MIN_SCORE_DROPPED));
            assertEquals(1, stats.get(StatName.RESCORE_REQUESTS));
        }
    }

    /** Threshold 0 keeps every hit with a vector; threshold 1 keeps only hits calibrated to certainty. */
    public void testThresholdBounds() throws IOException {
        float[] q = randomQuery();
        TopDocs in = firstPass();
        TopDocs all = CosineFilterRescorer.INSTANCE.rescore(copy(in), searcher, context(in.scoreDocs.length, 0f, Action.DROP, ScoreMode.REPLACE, 1f, 1f, q, new RescoreStats()));
        for (ScoreDoc sd : all.scoreDocs) {
            assertNotEquals("threshold 0 drops nothing", WindowOrdering.DROPPED, sd.score, 0f);
        }
        TopDocs none = CosineFilterRescorer.INSTANCE.rescore(copy(in), searcher, context(in.scoreDocs.length, 1f, Action.DROP, ScoreMode.REPLACE, 1f, 1f, q, new RescoreStats()));
        for (ScoreDoc sd : none.scoreDocs) {
            if (vectors[sd.doc] != null && probability(q, sd.doc) < 1f) {
                assertEquals(WindowOrdering.DROPPED, sd.score, 0f);
            }
        }
    }

    public void testExplain() throws IOException {
        float[] q = randomQuery();
        TopDocs in = firstPass();
        int window = in.scoreDocs.length - 2;
        // the threshold between two probabilities, so both sides have hits
        List<Float> ps = new ArrayList<>();
        for (int i = 0; i < window; i++) {
            if (vectors[in.scoreDocs[i].doc] != null) {
                ps.add(probability(q, in.scoreDocs[i].doc));
            }
        }
        ps.sort(null);
        float threshold = ps.get(ps.size() / 2);
        for (Action action : Action.values()) {
            CosineFilterContext ctx = context(window, threshold, action, ScoreMode.TOTAL, 0.5f, 2f, q, new RescoreStats());
            TopDocs out = CosineFilterRescorer.INSTANCE.rescore(copy(in), searcher, ctx);
            for (ScoreDoc first : in.scoreDocs) {
                int doc = first.doc;
                Explanation source = Explanation.match(first.score, "first pass");
                Explanation e = CosineFilterRescorer.INSTANCE.explain(doc, searcher, ctx, source);
                boolean inWindow = false;
                for (int i = 0; i < window; i++) {
                    inWindow |= in.scoreDocs[i].doc == doc;
                }
                if (inWindow == false) {
                    assertEquals("[cosine_filter] did not rescore this hit: outside the rescore window; first-pass score kept", e.getDescription());
                    assertEquals(first.score, e.getValue().floatValue(), 0f);
                    continue;
                }
                if (vectors[doc] == null) {
                    assertEquals(
                        "[cosine_filter] did not rescore this hit: no vector in field [" + ctx.options().field() + "]; first-pass score kept",
                        e.getDescription()
                    );
                    continue;
                }
                float cos = VectorMath.cosine(q, vectors[doc]);
                float p = probability(q, doc);
                String t = "[" + threshold + "]";
                Explanation calibrated;
                if (p >= threshold) {
                    assertTrue(e.isMatch());
                    assertEquals("[cosine_filter] calibrated relevance at or above threshold " + t + ": kept", e.getDescription());
                    Explanation combined = e.getDetails()[0];
                    assertEquals("[cosine_filter], score_mode [total] of:", combined.getDescription());
                    assertEquals(0.5f * first.score + 2f * p, e.getValue().floatValue(), 1e-5f);
                    float returned = -1;
                    for (ScoreDoc sd : out.scoreDocs) {
                        if (sd.doc == doc) {
                            returned = sd.score;
                        }
                    }
                    assertEquals("explained score is the returned score", returned, e.getValue().floatValue(), 1e-5f);
                    calibrated = combined.getDetails()[1].getDetails()[0];
                } else if (action == Action.DROP) {
                    assertFalse(e.isMatch());
                    assertEquals("[cosine_filter] calibrated relevance below threshold " + t + ": dropped", e.getDescription());
                    calibrated = e.getDetails()[0];
                } else {
                    assertTrue(e.isMatch());
                    assertEquals("[cosine_filter] calibrated relevance below threshold " + t + ": demoted", e.getDescription());
                    calibrated = e.getDetails()[0].getDetails()[1].getDetails()[0];
                }
                assertEquals(p, calibrated.getValue().floatValue(), 0f);
                assertEquals("calibrated relevance by adapter [" + ADAPTER + "]: " + ctx.params().describe(), calibrated.getDescription());
                assertEquals(cos, calibrated.getDetails()[0].getValue().floatValue(), 0f);
                assertEquals(
                    "cosine of query and document embeddings, field [" + ctx.options().field() + "]",
                    calibrated.getDetails()[0].getDescription()
                );
            }
        }
    }

    public void testEmptyWindow() throws IOException {
        TopDocs empty = new TopDocs(new TotalHits(0, TotalHits.Relation.EQUAL_TO), new ScoreDoc[0]);
        assertSame(empty, CosineFilterRescorer.INSTANCE.rescore(empty, searcher, context(10, 0.5f, Action.DROP, ScoreMode.REPLACE, 1f, 1f, randomQuery(), new RescoreStats())));
    }

    /** The shipped adapter maps exactly as its own parameters say: the context computes them once per shard. */
    public void testContextHoldsTheQueryParameters() {
        float[] q = randomQuery();
        CosineFilterContext ctx = context(10, 0.5f, Action.DEMOTE, ScoreMode.REPLACE, 1f, 1f, q, new RescoreStats());
        CosineAdapter.Params p = adapter.adapter().params(q);
        assertEquals(p, ctx.params());
        assertSame(q, ctx.query());
        assertSame(CosineFilterRescorer.INSTANCE, ctx.rescorer());
    }
}
