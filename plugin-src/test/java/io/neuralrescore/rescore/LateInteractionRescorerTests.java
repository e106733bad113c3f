/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.Directory;
import org.apache.lucene.tests.index.RandomIndexWriter;
import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.rescore.LateInteractionRescorerBuilder.Scoring;
import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;

/**
 * The shard-level rescorer over a real multi-segment Lucene index: stored matrices are read back per leaf, every
 * window hit gets the score the math gives (ColBERT, or XTR over exactly the window), hits come back sorted with
 * ties by doc id, hits without vectors keep their first-pass order after the scored ones, and {@code explain}
 * reproduces each hit's score, for every encoding.
 */
public class LateInteractionRescorerTests extends OpenSearchTestCase {
    private static final String FIELD = "tok";

    private Directory dir;
    private IndexReader reader;
    private IndexSearcher searcher;
    /** Original matrices by top-level doc id; null for docs without vectors. */
    private float[][][] originals;
    private int dims;

    private void index(VectorEncoding encoding, int docs) throws IOException {
        dims = encoding == VectorEncoding.BIT ? randomIntBetween(2, 6) : randomIntBetween(4, 32);
        dir = newDirectory();
        List<float[][]> byId = new ArrayList<>();
        try (RandomIndexWriter w = new RandomIndexWriter(random(), dir, newIndexWriterConfig())) {
            for (int i = 0; i < docs; i++) {
                Document d = new Document();
                d.add(new StoredField("id", i));
                float[][] m = null;
                if (randomInt(9) > 0) {
                    m = new float[randomIntBetween(1, 12)][dims];
                    for (float[] row : m) {
                        for (int k = 0; k < dims; k++) {
                            row[k] = randomFloat() * 2 - 1;
                        }
                    }
                    d.add(new BinaryDocValuesField(FIELD, new BytesRef(encoding.encode(m, dims))));
                }
                byId.add(m);
                w.addDocument(d);
                if (rarely()) {
                    w.commit(); // several segments
                }
            }
            w.forceMerge(randomIntBetween(1, 3));
            reader = w.getReader();
        }
        searcher = newSearcher(reader, false, false, false); // no wrapping: doc ids stay those of the reader
        originals = new float[reader.maxDoc()][][];
        for (int doc = 0; doc < reader.maxDoc(); doc++) {
            int id = reader.storedFields().document(doc).getField("id").numericValue().intValue();
            originals[doc] = byId.get(id);
        }
    }

    @Override
    public void tearDown() throws Exception {
        if (reader != null) {
            reader.close();
        }
        if (dir != null) {
            dir.close();
        }
        super.tearDown();
    }

    private static float[][] randomQuery(int dims) {
        float[][] q = new float[randomIntBetween(1, 6)][dims];
        for (float[] row : q) {
            for (int k = 0; k < dims; k++) {
                row[k] = randomFloat() * 2 - 1;
            }
        }
        return q;
    }

    /** First pass: every doc in a random order with strictly decreasing scores. */
    private TopDocs firstPass() {
        List<Integer> docs = new ArrayList<>();
        for (int d = 0; d < reader.maxDoc(); d++) {
            docs.add(d);
        }
        java.util.Collections.shuffle(docs, random());
        ScoreDoc[] sd = new ScoreDoc[docs.size()];
        for (int i = 0; i < sd.length; i++) {
            sd[i] = new ScoreDoc(docs.get(i), sd.length - i);
        }
        return new TopDocs(new TotalHits(sd.length, TotalHits.Relation.EQUAL_TO), sd);
    }

    private static TopDocs copy(TopDocs td) {
        ScoreDoc[] sd = new ScoreDoc[td.scoreDocs.length];
        for (int i = 0; i < sd.length; i++) {
            sd[i] = new ScoreDoc(td.scoreDocs[i].doc, td.scoreDocs[i].score);
        }
        return new TopDocs(td.totalHits, sd);
    }

    private LateInteractionContext context(
        int window,
        VectorEncoding encoding,
        Scoring scoring,
        int kPrime,
        float[][] query,
        ScoreMode mode,
        Float minScore,
        RescoreStats stats
    ) {
        return new LateInteractionContext(
            window,
            new LateInteractionContext.Options(FIELD, encoding, scoring, kPrime, mode, 0.5f, 2f, minScore, "m"),
            new QueryTokens(query),
            null,
            null,
            List.of(),
            stats
        );
    }

    private MultiVector stored(VectorEncoding encoding, int doc) {
        return originals[doc] == null ? null : encoding.decode(new BytesRef(encoding.encode(originals[doc], dims)));
    }

    public void testRescoreMatchesTheMathForEveryEncodingAndScoring() throws IOException {
        for (VectorEncoding encoding : VectorEncoding.values()) {
            for (Scoring scoring : Scoring.values()) {
                index(encoding, randomIntBetween(5, 60));
                float[][] query = randomQuery(dims);
                QueryTokens q = new QueryTokens(query);
                TopDocs first = firstPass();
                int window = randomIntBetween(1, first.scoreDocs.length + 3);
                int kPrime = randomIntBetween(1, 40);
                ScoreMode mode = randomFrom(ScoreMode.REPLACE, ScoreMode.TOTAL, ScoreMode.MAX);
                RescoreStats stats = new RescoreStats();
                LateInteractionContext ctx = context(window, encoding, scoring, kPrime, query, mode, null, stats);
                TopDocs out = LateInteractionRescorer.INSTANCE.rescore(copy(first), searcher, ctx);
                String where = encoding + " " + scoring + " window " + window;

                // expected model scores: XTR over exactly the window's docs that have vectors
                int w = Math.min(window, first.scoreDocs.length);
                Map<Integer, Float> firstScore = new HashMap<>();
                MultiVector[] pool = new MultiVector[w];
                for (int i = 0; i < w; i++) {
                    pool[i] = stored(encoding, first.scoreDocs[i].doc);
                    firstScore.put(first.scoreDocs[i].doc, first.scoreDocs[i].score);
                }
                LateInteraction.Detail[] xtr = LateInteraction.xtr(q, pool, kPrime);
                Map<Integer, Float> expected = new HashMap<>();
                int withVectors = 0;
                for (int i = 0; i < w; i++) {
                    int doc = first.scoreDocs[i].doc;
                    if (pool[i] == null) {
                        continue;
                    }
                    withVectors++;
                    float model = scoring == Scoring.XTR ? xtr[i].score() : LateInteraction.colbert(q, pool[i]);
                    expected.put(doc, mode.combine(firstScore.get(doc), 0.5f, model, 2f));
                }

                assertEquals(where, first.scoreDocs.length, out.scoreDocs.length);
                for (int i = 0; i < out.scoreDocs.length; i++) {
                    ScoreDoc sd = out.scoreDocs[i];
                    if (i < withVectors) {
                        assertTrue(where + ": scored hits first", expected.containsKey(sd.doc));
                        assertEquals(where + " doc " + sd.doc, expected.get(sd.doc), sd.score, 1e-5f * Math.max(1, Math.abs(sd.score)));
                    } else {
                        assertFalse(where + ": then the rest", expected.containsKey(sd.doc));
                    }
                    if (i > 0) {
                        ScoreDoc prev = out.scoreDocs[i - 1];
                        assertTrue(where + ": sorted", prev.score >= sd.score);
                        if (prev.score == sd.score && i < withVectors) {
                            assertTrue(where + ": ties by doc id", prev.doc < sd.doc);
                        }
                    }
                }
                // the unscored tail keeps first-pass order
                List<Integer> tail = new ArrayList<>();
                for (int i = withVectors; i < out.scoreDocs.length; i++) {
                    tail.add(out.scoreDocs[i].doc);
                }
                List<Integer> wantTail = new ArrayList<>();
                for (ScoreDoc sd : first.scoreDocs) {
                    if (expected.containsKey(sd.doc) == false) {
                        wantTail.add(sd.doc);
                    }
                }
                assertEquals(where, wantTail, tail);
                assertEquals(withVectors, stats.get(StatName.RESCORED_DOCS));
                assertEquals(w - withVectors, stats.get(StatName.UNSCORED_DOCS));

                // explain gives each hit's score back, with per-query-token lines
                for (ScoreDoc sd : out.scoreDocs) {
                    Explanation source = Explanation.match(firstScore.getOrDefault(sd.doc, 0f), "first pass");
                    Explanation e = LateInteractionRescorer.INSTANCE.explain(sd.doc, searcher, ctx, source);
                    if (expected.containsKey(sd.doc)) {
                        assertEquals(where + " explain of doc " + sd.doc, sd.score, e.getValue().floatValue(), 1e-5f * Math.max(1, Math.abs(sd.score)));
                        String text = e.toString();
                        assertTrue(text, text.contains(scoring == Scoring.XTR ? "xtr score: mean over " + query.length : "colbert maxsim: sum over " + query.length));
                        assertTrue(text, text.contains("query token [#") && (text.contains("-> document token #") || text.contains("-> imputed")));
                    } else {
                        assertTrue(e.toString(), e.getDescription().startsWith("[late_interaction] did not rescore this hit: "));
                    }
                }
                reader.close();
                dir.close();
                reader = null;
                dir = null;
            }
        }
    }

    public void testMinScoreDropsHits() throws IOException {
        index(VectorEncoding.FLOAT, 20);
        float[][] query = randomQuery(dims);
        QueryTokens q = new QueryTokens(query);
        TopDocs first = firstPass();
        List<Float> models = new ArrayList<>();
        for (ScoreDoc sd : first.scoreDocs) {
            MultiVector v = stored(VectorEncoding.FLOAT, sd.doc);
            if (v != null) {
                models.add(LateInteraction.colbert(q, v));
            }
        }
        models.sort(null);
        float threshold = models.get(models.size() / 2);
        long passing = models.stream().filter(m -> m >= threshold).count();
        RescoreStats stats = new RescoreStats();
        TopDocs out = LateInteractionRescorer.INSTANCE.rescore(
            copy(first),
            searcher,
            context(100, VectorEncoding.FLOAT, Scoring.COLBERT, 10, query, ScoreMode.REPLACE, threshold, stats)
        );
        int dropped = 0;
        for (int i = 0; i < out.scoreDocs.length; i++) {
            if (out.scoreDocs[i].score == WindowOrdering.DROPPED) {
                dropped++;
            } else {
                assertEquals("dropped hits come last", 0, dropped);
            }
        }
        assertEquals(models.size() - passing, dropped);
        assertEquals(models.size() - passing, stats.get(StatName.MIN_SCORE_DROPPED));
    }

    public void testEmptyTopDocs() throws IOException {
        index(VectorEncoding.INT8, 3);
        TopDocs empty = new TopDocs(new TotalHits(0, TotalHits.Relation.EQUAL_TO), new ScoreDoc[0]);
        assertSame(
            empty,
            LateInteractionRescorer.INSTANCE.rescore(
                empty,
                searcher,
                context(10, VectorEncoding.INT8, Scoring.XTR, 10, randomQuery(dims), ScoreMode.REPLACE, null, new RescoreStats())
            )
        );
    }

    public void testMultiVectorReaderReadsEveryLeaf() throws IOException {
        VectorEncoding encoding = randomFrom(VectorEncoding.values());
        index(encoding, 40);
        int[] docs = new int[reader.maxDoc()];
        for (int i = 0; i < docs.length; i++) {
            docs[i] = i;
        }
        // any order in, same order out
        for (int i = docs.length - 1; i > 0; i--) {
            int j = randomInt(i);
            int t = docs[i];
            docs[i] = docs[j];
            docs[j] = t;
        }
        MultiVector[] read = MultiVectorReader.read(searcher, docs, FIELD, encoding);
        for (int i = 0; i < docs.length; i++) {
            MultiVector want = stored(encoding, docs[i]);
            if (want == null) {
                assertNull(read[i]);
            } else if (encoding == VectorEncoding.BIT) {
                assertArrayEquals(want.bits(), read[i].bits());
            } else {
                assertArrayEquals(want.floats(), read[i].floats());
            }
        }
        assertTrue(Arrays.stream(MultiVectorReader.read(searcher, docs, "no_such_field", encoding)).allMatch(v -> v == null));
    }
}
