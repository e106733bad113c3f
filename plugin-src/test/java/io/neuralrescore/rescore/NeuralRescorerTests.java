/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;

/**
 * The rescorer's ordering, min_score, combination and explanations, over a real Lucene index whose documents carry a
 * {@code _source} stored field the way OpenSearch writes it, with a fake scorer in place of a model.
 */
public class NeuralRescorerTests extends OpenSearchTestCase {
    private static final String CLAUSE = "cross_encoder";

    /** Raw score per text, as the test decides; records every window it was asked to score. */
    static final class FakeScorer implements WindowScorer {
        final Map<String, Float> rawScores;
        final List<List<String>> calls = new ArrayList<>();

        FakeScorer(Map<String, Float> rawScores) {
            this.rawScores = rawScores;
        }

        @Override
        public float[] score(List<String> texts) {
            calls.add(List.copyOf(texts));
            float[] out = new float[texts.size()];
            for (int i = 0; i < out.length; i++) {
                Float raw = rawScores.get(texts.get(i));
                assertNotNull("the test gave no score for text [" + texts.get(i) + "]", raw);
                out[i] = raw;
            }
            return out;
        }

        @Override
        public String describe() {
            return "fake scorer";
        }
    }

    private Directory dir;
    private DirectoryReader reader;
    private IndexSearcher searcher;
    private RescoreStats stats;

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

    /** Indexes one document per source (null: a document without {@code _source}); doc ids follow the list order. */
    private void index(List<String> sources) throws IOException {
        dir = newDirectory();
        // no merges, so doc ids stay in insertion order; random flushes spread the docs over several segments
        try (IndexWriter w = new IndexWriter(dir, newIndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
            for (int i = 0; i < sources.size(); i++) {
                Document doc = new Document();
                doc.add(new StoredField("key", i));
                if (sources.get(i) != null) {
                    doc.add(new StoredField("_source", new BytesRef(sources.get(i).getBytes(StandardCharsets.UTF_8))));
                }
                w.addDocument(doc);
                if (rarely()) {
                    w.flush();
                }
            }
        }
        reader = DirectoryReader.open(dir);
        for (int i = 0; i < sources.size(); i++) {
            assertEquals("doc ids follow insertion order", i, reader.storedFields().document(i).getField("key").numericValue().intValue());
        }
        searcher = new IndexSearcher(reader);
        stats = new RescoreStats();
    }

    private TextRescoreContext context(int window, FakeScorer scorer, TextRescoreContext.Options options) {
        return new TextRescoreContext(window, options, scorer, stats);
    }

    private static TextRescoreContext.Options options(
        List<String> fields,
        ScoreMode mode,
        float queryWeight,
        float rescoreWeight,
        Normalization normalize,
        Float minScore
    ) {
        return new TextRescoreContext.Options(CLAUSE, "m", fields, mode, queryWeight, rescoreWeight, normalize, minScore);
    }

    private static TextRescoreContext.Options replace(List<String> fields) {
        return options(fields, ScoreMode.REPLACE, 1f, 1f, Normalization.NONE, null);
    }

    private static TopDocs topDocs(float... scoresByDoc) {
        // first-pass order: by score desc, ties by doc id, as a shard's collector returns them
        Integer[] order = new Integer[scoresByDoc.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int cmp = Float.compare(scoresByDoc[b], scoresByDoc[a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        ScoreDoc[] docs = new ScoreDoc[order.length];
        for (int i = 0; i < order.length; i++) {
            docs[i] = new ScoreDoc(order[i], scoresByDoc[order[i]]);
        }
        return new TopDocs(new TotalHits(docs.length, TotalHits.Relation.EQUAL_TO), docs);
    }

    private static int[] docs(TopDocs td) {
        return Arrays.stream(td.scoreDocs).mapToInt(sd -> sd.doc).toArray();
    }

    private static float[] scores(TopDocs td) {
        float[] out = new float[td.scoreDocs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = td.scoreDocs[i].score;
        }
        return out;
    }

    private static String text(String t) {
        return "{\"title\": \"" + t + "\"}";
    }

    // ---- ordering --------------------------------------------------------------------------------------------------

    public void testOnlyTheWindowIsScored() throws IOException {
        index(List.of(text("a"), text("b"), text("c"), text("d"), text("e"), text("f")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 1f, "b", 3f, "c", 2f, "d", 100f, "e", 100f, "f", 100f));
        TextRescoreContext ctx = context(3, scorer, replace(List.of("title")));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(60, 50, 40, 30, 20, 10), searcher, ctx);

        assertEquals("one call, the window's texts in first-pass order", List.of(List.of("a", "b", "c")), scorer.calls);
        assertEquals(Set.of(0, 1, 2), ctx.getRescoredDocs());
        assertArrayEquals(new int[] { 1, 2, 0, 3, 4, 5 }, docs(out));
        // past the window: first-pass scores would outrank the rescored hits, so they are lowered just below
        float below1 = Math.nextDown(1f);
        assertArrayEquals(
            new float[] { 3f, 2f, 1f, below1, Math.nextDown(below1), Math.nextDown(Math.nextDown(below1)) },
            scores(out),
            0f
        );
        assertEquals(new TotalHits(6, TotalHits.Relation.EQUAL_TO), out.totalHits);
        assertEquals(1, stats.get(StatName.RESCORE_REQUESTS));
        assertEquals(3, stats.get(StatName.RESCORED_DOCS));
    }

    public void testScoresLoweredOnlyWhenNeeded() throws IOException {
        index(List.of(text("a"), text("b"), text("c"), text("d")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 50f, "b", 40f));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(4, 3, 2, 1), searcher, context(2, scorer, replace(List.of("title"))));
        assertArrayEquals(new int[] { 0, 1, 2, 3 }, docs(out));
        assertArrayEquals("first-pass scores below the rescored ones are kept", new float[] { 50f, 40f, 2f, 1f }, scores(out), 0f);
    }

    public void testTiesBrokenByDocId() throws IOException {
        index(List.of(text("a"), text("b"), text("c"), text("d")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 5f, "b", 7f, "c", 5f, "d", 7f));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(1, 4, 2, 3), searcher, context(10, scorer, replace(List.of("title"))));
        assertArrayEquals(new int[] { 1, 3, 0, 2 }, docs(out));
        assertArrayEquals(new float[] { 7f, 7f, 5f, 5f }, scores(out), 0f);
    }

    public void testHitsWithoutTextFollowScoredHitsInFirstPassOrder() throws IOException {
        index(
            Arrays.asList(
                text("a"),
                "{\"body\": \"not the field\"}",
                text("c"),
                null, // no _source at all
                "{\"title\": \"   \"}",
                "{\"title\": null}",
                "{\"title\": {\"nested\": \"object, not text\"}}",
                "{\"title\": []}",
                text("i")
            )
        );
        FakeScorer scorer = new FakeScorer(Map.of("a", -1f, "c", -2f, "i", 0f));
        TextRescoreContext ctx = context(9, scorer, replace(List.of("title")));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(9, 8, 7, 6, 5, 4, 3, 2, 1), searcher, ctx);
        assertEquals(List.of(List.of("a", "c", "i")), scorer.calls);
        assertArrayEquals(new int[] { 8, 0, 2, 1, 3, 4, 5, 6, 7 }, docs(out));
        float c = -2f;
        float[] expected = new float[9];
        expected[0] = 0f;
        expected[1] = -1f;
        expected[2] = c;
        for (int i = 3; i < 9; i++) {
            c = Math.nextDown(c);
            expected[i] = c;
        }
        assertArrayEquals(expected, scores(out), 0f);
        assertEquals("they count as rescored: inside the window", Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8), ctx.getRescoredDocs());
        assertEquals(3, stats.get(StatName.RESCORED_DOCS));
    }

    public void testNoTextAnywhereKeepsFirstPass() throws IOException {
        index(List.of("{}", "{}", "{}"));
        FakeScorer scorer = new FakeScorer(Map.of());
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(3, 2, 1), searcher, context(2, scorer, replace(List.of("title"))));
        assertEquals("the scorer is not called for nothing", List.of(), scorer.calls);
        assertArrayEquals(new int[] { 0, 1, 2 }, docs(out));
        assertArrayEquals(new float[] { 3, 2, 1 }, scores(out), 0f);
    }

    public void testEmptyAndNullTopDocs() throws IOException {
        index(List.of(text("a")));
        TopDocs empty = new TopDocs(new TotalHits(0, TotalHits.Relation.EQUAL_TO), new ScoreDoc[0]);
        FakeScorer scorer = new FakeScorer(Map.of());
        assertSame(empty, NeuralRescorer.INSTANCE.rescore(empty, searcher, context(10, scorer, replace(List.of("title")))));
        assertNull(NeuralRescorer.INSTANCE.rescore(null, searcher, context(10, scorer, replace(List.of("title")))));
        assertEquals(List.of(), scorer.calls);
    }

    // ---- min_score -------------------------------------------------------------------------------------------------

    public void testMinScoreDropsToTheEnd() throws IOException {
        index(List.of(text("a"), text("b"), text("c"), text("d"), text("e")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 0.1f, "b", 0.9f, "c", 0.5f, "d", 0.49f));
        TextRescoreContext.Options opt = options(List.of("title"), ScoreMode.REPLACE, 1f, 1f, Normalization.NONE, 0.5f);
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(5, 4, 3, 2, 1), searcher, context(4, scorer, opt));
        // b, c pass (c equals min_score); e is past the window; a and d dropped, ordered by doc id
        assertArrayEquals(new int[] { 1, 2, 4, 0, 3 }, docs(out));
        assertArrayEquals(new float[] { 0.9f, 0.5f, Math.nextDown(0.5f), NeuralRescorer.DROPPED, NeuralRescorer.DROPPED }, scores(out), 0f);
        assertEquals(2, stats.get(StatName.MIN_SCORE_DROPPED));
    }

    public void testMinScoreComparesTheNormalizedScoreBeforeWeights() throws IOException {
        index(List.of(text("a"), text("b")));
        // sigmoid(0) = 0.5 passes min_score 0.5 even though the weighted score is 0.05; sigmoid(-0.1) does not
        FakeScorer scorer = new FakeScorer(Map.of("a", 0f, "b", -0.1f));
        TextRescoreContext.Options opt = options(List.of("title"), ScoreMode.REPLACE, 1f, 0.1f, Normalization.SIGMOID, 0.5f);
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(2, 1), searcher, context(2, scorer, opt));
        assertArrayEquals(new int[] { 0, 1 }, docs(out));
        assertArrayEquals(new float[] { 0.05f, NeuralRescorer.DROPPED }, scores(out), 1e-7f);
    }

    public void testNaNModelScoreIsDropped() throws IOException {
        index(List.of(text("a"), text("b")));
        FakeScorer scorer = new FakeScorer(Map.of("a", Float.NaN, "b", 1f));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(2, 1), searcher, context(2, scorer, replace(List.of("title"))));
        assertArrayEquals(new int[] { 1, 0 }, docs(out));
        assertArrayEquals(new float[] { 1f, NeuralRescorer.DROPPED }, scores(out), 0f);
    }

    public void testAlreadyDroppedHitsStayDropped() throws IOException {
        index(List.of(text("a"), text("b"), text("c"), text("d"), text("e")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 1f, "c", 3f, "d", 2f));
        // an earlier rescorer dropped b (inside this window) and e (past it)
        ScoreDoc[] in = {
            new ScoreDoc(2, 9f),
            new ScoreDoc(0, 8f),
            new ScoreDoc(1, NeuralRescorer.DROPPED),
            new ScoreDoc(3, 7f),
            new ScoreDoc(4, NeuralRescorer.DROPPED) };
        TextRescoreContext ctx = context(4, scorer, replace(List.of("title")));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(new TopDocs(new TotalHits(5, TotalHits.Relation.EQUAL_TO), in), searcher, ctx);
        assertEquals("a dropped hit is not scored again", List.of(List.of("c", "a", "d")), scorer.calls);
        assertEquals(Set.of(2, 0, 3), ctx.getRescoredDocs());
        assertArrayEquals(new int[] { 2, 3, 0, 1, 4 }, docs(out));
        assertArrayEquals(new float[] { 3f, 2f, 1f, NeuralRescorer.DROPPED, NeuralRescorer.DROPPED }, scores(out), 0f);
    }

    // ---- combination -----------------------------------------------------------------------------------------------

    public void testScoreModesAndWeights() throws IOException {
        index(List.of(text("a"), text("b")));
        // first pass: a 2, b 1; raw model: a 1, b 4; query_weight 3, rescore_weight 0.5
        // weighted: a (6, 0.5), b (3, 2)
        Map<ScoreMode, float[]> expected = Map.of(
            ScoreMode.REPLACE,
            new float[] { 0.5f, 2f },
            ScoreMode.TOTAL,
            new float[] { 6.5f, 5f },
            ScoreMode.MULTIPLY,
            new float[] { 3f, 6f },
            ScoreMode.AVG,
            new float[] { 3.25f, 2.5f },
            ScoreMode.MAX,
            new float[] { 6f, 3f },
            ScoreMode.MIN,
            new float[] { 0.5f, 2f }
        );
        for (ScoreMode mode : ScoreMode.values()) {
            FakeScorer scorer = new FakeScorer(Map.of("a", 1f, "b", 4f));
            TextRescoreContext.Options opt = options(List.of("title"), mode, 3f, 0.5f, Normalization.NONE, null);
            TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(2, 1), searcher, context(2, scorer, opt));
            Map<Integer, Float> byDoc = new HashMap<>();
            for (ScoreDoc sd : out.scoreDocs) {
                byDoc.put(sd.doc, sd.score);
            }
            assertEquals(mode + " a", expected.get(mode)[0], byDoc.get(0), 0f);
            assertEquals(mode + " b", expected.get(mode)[1], byDoc.get(1), 0f);
            assertSorted(out);
        }
    }

    public void testSigmoidAppliedBeforeWeighting() throws IOException {
        index(List.of(text("a")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 0f));
        TextRescoreContext.Options opt = options(List.of("title"), ScoreMode.TOTAL, 1f, 4f, Normalization.SIGMOID, null);
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(10), searcher, context(1, scorer, opt));
        assertEquals("10 + 4 * sigmoid(0)", 12f, out.scoreDocs[0].score, 0f);
    }

    // ---- texts -----------------------------------------------------------------------------------------------------

    public void testFieldsJoinedMultiValuedAndDottedPaths() throws IOException {
        index(
            List.of(
                "{\"title\": \"Hello\", \"body\": [\"one\", \"\", \"two\", [\"three\"]], \"meta\": {\"author\": {\"name\": \"Ann\"}},"
                    + " \"flat.key\": \"dotted\", \"n\": 5}",
                "{\"authors\": [{\"name\": \"A\"}, {\"name\": \"B\"}, {\"other\": \"C\"}], \"body\": \"only body\"}",
                "{\"meta\": {\"author\": {\"name\": [\"X\", \"Y\"]}}, \"title\": \"T\"}"
            )
        );
        FakeScorer scorer = new FakeScorer(Map.of("Hello one two three Ann dotted 5", 1f, "only body A B", 2f, "T X Y", 3f));
        List<String> fields = List.of("title", "body", "meta.author.name", "authors.name", "flat.key", "n");
        NeuralRescorer.INSTANCE.rescore(topDocs(3, 2, 1), searcher, context(3, scorer, replace(fields)));
        // fields in the clause's order, values in source order, separated by single spaces; blanks skipped
        assertEquals(List.of(List.of("Hello one two three Ann dotted 5", "only body A B", "T X Y")), scorer.calls);
    }

    // ---- explain ---------------------------------------------------------------------------------------------------

    private static Explanation firstPass(float score) {
        return Explanation.match(score, "first pass");
    }

    public void testExplainRescoredReplace() throws IOException {
        index(List.of(text("a"), text("b")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 2f, "b", 1f));
        TextRescoreContext ctx = context(2, scorer, options(List.of("title"), ScoreMode.REPLACE, 1f, 3f, Normalization.NONE, null));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(5, 4), searcher, ctx);
        Explanation e = NeuralRescorer.INSTANCE.explain(0, searcher, ctx, firstPass(5f));
        assertEquals(
            "6.0 = [cross_encoder] model [m], score_mode [replace]: weighted model score replaces the first-pass score\n"
                + "  6.0 = product of:\n"
                + "    2.0 = raw score: fake scorer\n"
                + "    3.0 = rescore_weight\n",
            e.toString()
        );
        assertEquals("explain agrees with the rescored score", out.scoreDocs[0].score, e.getValue().floatValue(), 0f);
    }

    public void testExplainRescoredTotalWithSigmoid() throws IOException {
        index(List.of(text("a")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 0f));
        TextRescoreContext ctx = context(1, scorer, options(List.of("title"), ScoreMode.TOTAL, 0.5f, 4f, Normalization.SIGMOID, 0.1f));
        TopDocs out = NeuralRescorer.INSTANCE.rescore(topDocs(2f), searcher, ctx);
        Explanation e = NeuralRescorer.INSTANCE.explain(0, searcher, ctx, firstPass(2f));
        assertTrue(e.isMatch());
        assertEquals(
            "3.0 = [cross_encoder] model [m], score_mode [total] of:\n"
                + "  1.0 = product of:\n"
                + "    2.0 = first pass\n"
                + "    0.5 = query_weight\n"
                + "  2.0 = product of:\n"
                + "    0.5 = normalized model score (sigmoid of raw score)\n"
                + "      0.0 = raw score: fake scorer\n"
                + "    4.0 = rescore_weight\n",
            e.toString()
        );
        assertEquals(out.scoreDocs[0].score, e.getValue().floatValue(), 0f);
    }

    public void testExplainDropped() throws IOException {
        index(List.of(text("a"), text("b")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 0.25f, "b", 1f));
        TextRescoreContext ctx = context(2, scorer, options(List.of("title"), ScoreMode.TOTAL, 1f, 1f, Normalization.NONE, 0.5f));
        NeuralRescorer.INSTANCE.rescore(topDocs(2, 1), searcher, ctx);
        Explanation e = NeuralRescorer.INSTANCE.explain(0, searcher, ctx, firstPass(2f));
        assertFalse(e.isMatch());
        assertEquals("[cross_encoder] dropped this hit: model score [0.25] is below min_score [0.5]", e.getDescription());
        assertEquals(1, e.getDetails().length);
        assertEquals("raw score: fake scorer", e.getDetails()[0].getDescription());
    }

    public void testExplainNoText() throws IOException {
        index(List.of("{\"other\": \"x\"}"));
        FakeScorer scorer = new FakeScorer(Map.of());
        TextRescoreContext ctx = context(1, scorer, replace(List.of("title", "body")));
        NeuralRescorer.INSTANCE.rescore(topDocs(2f), searcher, ctx);
        Explanation source = firstPass(2f);
        Explanation e = NeuralRescorer.INSTANCE.explain(0, searcher, ctx, source);
        assertTrue(e.isMatch());
        assertEquals(2f, e.getValue().floatValue(), 0f);
        assertEquals("[cross_encoder] did not rescore this hit: no text in fields [title, body]; first-pass score kept", e.getDescription());
        assertArrayEquals(new Explanation[] { source }, e.getDetails());
        assertEquals(List.of(), scorer.calls);
    }

    public void testExplainOutsideWindow() throws IOException {
        index(List.of(text("a"), text("b")));
        FakeScorer scorer = new FakeScorer(Map.of("a", 10f, "b", 1f));
        TextRescoreContext ctx = context(1, scorer, replace(List.of("title")));
        NeuralRescorer.INSTANCE.rescore(topDocs(2, 1), searcher, ctx);
        Explanation source = firstPass(1f);
        Explanation e = NeuralRescorer.INSTANCE.explain(1, searcher, ctx, source);
        assertTrue(e.isMatch());
        assertEquals(1f, e.getValue().floatValue(), 0f);
        assertEquals("[cross_encoder] did not rescore this hit: outside the rescore window; first-pass score kept", e.getDescription());
        assertArrayEquals(new Explanation[] { source }, e.getDetails());
        assertEquals("explain scored nothing more", 1, scorer.calls.size());
    }

    public void testExplainWithoutSourceExplanation() throws IOException {
        index(List.of(text("a")));
        TextRescoreContext ctx = context(1, new FakeScorer(Map.of("a", 1f)), replace(List.of("title")));
        Explanation e = NeuralRescorer.INSTANCE.explain(0, searcher, ctx, null);
        assertFalse(e.isMatch());
        assertEquals("nothing matched", e.getDescription());
    }

    // ---- random, against the contract -------------------------------------------------------------------------------

    private static void assertSorted(TopDocs out) {
        for (int i = 1; i < out.scoreDocs.length; i++) {
            ScoreDoc a = out.scoreDocs[i - 1];
            ScoreDoc b = out.scoreDocs[i];
            // Float.compare, as the rescorer sorts: 0.0 ranks above -0.0 (MULTIPLY of 0 and a negative score gives -0.0)
            int cmp = Float.compare(a.score, b.score);
            assertTrue("sorted by score desc, ties by doc id, at " + i + ": " + a + " then " + b, cmp > 0 || (cmp == 0 && a.doc < b.doc));
        }
    }

    public void testRandomAgainstContract() throws IOException {
        int n = between(1, 60);
        List<String> sources = new ArrayList<>();
        String[] texts = new String[n];
        Map<String, Float> raw = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (rarely()) {
                sources.add(randomBoolean() ? null : "{\"other\": \"x\"}");
            } else {
                texts[i] = "doc " + i;
                raw.put(texts[i], randomBoolean() ? randomFloat() * 10 - 5 : randomFrom(0f, 1f, -1f));
                sources.add(text(texts[i]));
            }
        }
        index(sources);
        for (int run = 0; run < 30; run++) {
            float[] firstPassByDoc = new float[n];
            for (int i = 0; i < n; i++) {
                firstPassByDoc[i] = randomBoolean() ? between(0, 5) : randomFloat() * 10;
            }
            TopDocs in = topDocs(firstPassByDoc);
            // an earlier rescorer may have dropped some hits: they sit at the end, by doc id
            int alreadyDropped = rarely() ? between(1, n) : 0;
            List<ScoreDoc> kept = new ArrayList<>(Arrays.asList(in.scoreDocs).subList(0, n - alreadyDropped));
            List<ScoreDoc> droppedBefore = new ArrayList<>(Arrays.asList(in.scoreDocs).subList(n - alreadyDropped, n));
            droppedBefore.sort((a, b) -> Integer.compare(a.doc, b.doc));
            for (ScoreDoc sd : droppedBefore) {
                sd.score = NeuralRescorer.DROPPED;
            }
            kept.addAll(droppedBefore);
            ScoreDoc[] inDocs = kept.toArray(new ScoreDoc[0]);
            ScoreDoc[] original = new ScoreDoc[n];
            for (int i = 0; i < n; i++) {
                original[i] = new ScoreDoc(inDocs[i].doc, inDocs[i].score);
            }

            int window = between(1, n + 5);
            ScoreMode mode = randomFrom(ScoreMode.values());
            float qw = randomFrom(1f, 0.5f, 2f, 0f);
            float rw = randomFrom(1f, 0.5f, 3f);
            Normalization norm = randomFrom(Normalization.values());
            Float minScore = randomBoolean() ? null : (norm == Normalization.SIGMOID ? randomFloat() : randomFloat() * 6 - 3);
            FakeScorer scorer = new FakeScorer(raw);
            TextRescoreContext ctx = context(window, scorer, options(List.of("title"), mode, qw, rw, norm, minScore));
            TopDocs out = NeuralRescorer.INSTANCE.rescore(new TopDocs(in.totalHits, inDocs), searcher, ctx);

            // brute force: classify every input hit
            List<ScoreDoc> expectScored = new ArrayList<>();
            List<ScoreDoc> expectTail = new ArrayList<>();
            Set<Integer> expectDropped = new HashSet<>();
            List<String> expectTexts = new ArrayList<>();
            int w = Math.min(window, n);
            for (int i = 0; i < n; i++) {
                ScoreDoc sd = original[i];
                if (sd.score == NeuralRescorer.DROPPED) {
                    expectDropped.add(sd.doc);
                } else if (i >= w || texts[sd.doc] == null) {
                    expectTail.add(sd);
                } else {
                    expectTexts.add(texts[sd.doc]);
                    double normalized = norm == Normalization.SIGMOID ? 1.0 / (1.0 + Math.exp(-raw.get(texts[sd.doc]))) : raw.get(texts[sd.doc]);
                    float nf = (float) normalized;
                    if (minScore != null && nf < minScore) {
                        expectDropped.add(sd.doc);
                    } else {
                        expectScored.add(new ScoreDoc(sd.doc, mode.combine(sd.score, qw, nf, rw) + 0.0f)); // -0.0 counts as 0.0, as in WindowOrdering
                    }
                }
            }
            expectScored.sort((a, b) -> {
                int cmp = Float.compare(b.score, a.score);
                return cmp != 0 ? cmp : Integer.compare(a.doc, b.doc);
            });
            String ctxMsg = "run " + run + " window " + window + " mode " + mode + " norm " + norm + " min " + minScore;

            assertEquals(ctxMsg, n, out.scoreDocs.length);
            assertSorted(out);
            assertEquals(ctxMsg, expectTexts.isEmpty() ? List.of() : List.of(expectTexts), scorer.calls);
            int k = 0;
            for (ScoreDoc want : expectScored) {
                ScoreDoc got = out.scoreDocs[k++];
                assertEquals(ctxMsg, want.doc, got.doc);
                assertEquals(ctxMsg, want.score, got.score, 0f);
            }
            float previous = k == 0 ? Float.POSITIVE_INFINITY : out.scoreDocs[k - 1].score;
            for (ScoreDoc want : expectTail) {
                ScoreDoc got = out.scoreDocs[k++];
                assertEquals(ctxMsg + ": unscored hits in first-pass order", want.doc, got.doc);
                if (want.score < previous) {
                    assertEquals(ctxMsg + ": first-pass score kept when it fits", want.score, got.score, 0f);
                } else {
                    assertEquals(ctxMsg + ": lowered just below the hit before", Math.nextDown(previous), got.score, 0f);
                }
                assertNotEquals(NeuralRescorer.DROPPED, got.score);
                previous = got.score;
            }
            Set<Integer> gotDropped = new HashSet<>();
            for (; k < n; k++) {
                assertEquals(ctxMsg, NeuralRescorer.DROPPED, out.scoreDocs[k].score, 0f);
                gotDropped.add(out.scoreDocs[k].doc);
            }
            assertEquals(ctxMsg, expectDropped, gotDropped);

            // explain agrees with the rescored scores
            for (int j = 0; j < expectScored.size(); j++) {
                int doc = expectScored.get(j).doc;
                float first = 0;
                for (ScoreDoc sd : original) {
                    if (sd.doc == doc) {
                        first = sd.score;
                    }
                }
                Explanation e = NeuralRescorer.INSTANCE.explain(doc, searcher, ctx, firstPass(first));
                assertEquals(ctxMsg + " explain of doc " + doc, expectScored.get(j).score, e.getValue().floatValue(), 0f);
            }
        }
    }
}
