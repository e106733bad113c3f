/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.SortedNumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.tests.search.QueryUtils;
import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;
import org.junit.After;
import org.junit.Before;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.rescore.SingleVectorField;
import io.neuralrescore.rescore.TestVectorFields;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.testing.TestModels;

/**
 * The Lucene query behind {@code relevance_filter}: it matches exactly the inner query's hits whose calibrated
 * relevance reaches the threshold (so counts are right), keeps or combines the inner score, and explains itself.
 */
public class RelevanceFilterQueryTests extends OpenSearchTestCase {
    private static final int DIM = 16;

    private Directory dir;
    private DirectoryReader reader;
    private IndexSearcher searcher;
    private float[][] vectors; // by doc id
    private String[] tags;
    private long[] years;
    private CosineAdapter adapter;

    @Before
    public void buildIndex() throws IOException {
        adapter = CosineAdapterModel.load(TestModels.manifest("test-adapter-tiny-bi"), TestModels.testModels().resolve("test-adapter-tiny-bi"))
            .adapter();
        dir = new ByteBuffersDirectory();
        int n = between(30, 200);
        vectors = new float[n][];
        tags = new String[n];
        years = new long[n];
        try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
            for (int i = 0; i < n; i++) {
                Document doc = new Document();
                tags[i] = randomFrom("a", "b", "c");
                years[i] = between(1990, 2030);
                doc.add(new StringField("tag", tags[i], Field.Store.NO));
                doc.add(new TextField("text", "word " + tags[i] + (i % 3 == 0 ? " extra extra" : ""), Field.Store.NO));
                doc.add(new SortedNumericDocValuesField("year", years[i]));
                if (rarely() == false) {
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
        return randomBoolean() ? TestVectorFields.knnVector("knn", reader) : TestVectorFields.multiVector("mv", DIM, VectorEncoding.FLOAT, null);
    }

    /** A query embedding near some document's, so that probabilities spread over (0, 1). */
    private float[] randomQuery() {
        float[] base = null;
        for (int i = between(0, vectors.length - 1); base == null; i = (i + 1) % vectors.length) {
            base = vectors[i];
        }
        float[] q = new float[DIM];
        for (int d = 0; d < DIM; d++) {
            q[d] = base[d] + (float) random().nextGaussian() * 0.8f;
        }
        return q;
    }

    private float probability(float[] q, int doc) {
        return adapter.params(q).map(VectorMath.cosine(q, vectors[doc]));
    }

    /** Inner queries of every shape the filter must handle: all docs, a term, a two-phase doc-values range, a conjunction. */
    private Query randomInner() {
        return switch (between(0, 3)) {
            case 0 -> new MatchAllDocsQuery();
            case 1 -> new TermQuery(new Term("tag", randomFrom("a", "b")));
            case 2 -> SortedNumericDocValuesField.newSlowRangeQuery("year", 2000, 2020);
            default -> new BooleanQuery.Builder().add(new TermQuery(new Term("text", "extra")), BooleanClause.Occur.MUST)
                .add(SortedNumericDocValuesField.newSlowRangeQuery("year", 1995, 2025), BooleanClause.Occur.FILTER)
                .build();
        };
    }

    /** What the inner query matches, with its scores. */
    private Map<Integer, Float> innerHits(Query inner) throws IOException {
        Map<Integer, Float> out = new HashMap<>();
        for (ScoreDoc sd : searcher.search(inner, reader.maxDoc()).scoreDocs) {
            out.put(sd.doc, sd.score);
        }
        return out;
    }

    /** Counts and hits equal a brute-force pass over the inner hits; p == threshold counts as relevant. */
    public void testMatchesExactlyTheRelevantInnerHits() throws IOException {
        for (int run = 0; run < 40; run++) {
            float[] q = randomQuery();
            Query inner = randomInner();
            Map<Integer, Float> innerHits = innerHits(inner);
            float threshold = randomFloat();
            if (randomBoolean() && innerHits.isEmpty() == false) {
                int doc = randomFrom(innerHits.keySet().stream().toList());
                if (vectors[doc] != null) {
                    threshold = probability(q, doc); // exactly a doc's probability
                }
            }
            Set<Integer> expected = new HashSet<>();
            for (int doc : innerHits.keySet()) {
                if (vectors[doc] != null && probability(q, doc) >= threshold) {
                    expected.add(doc);
                }
            }
            Query filter = new RelevanceFilterQuery(inner, randomField(), q, adapter.params(q), threshold, null, 1f, 1f);
            assertEquals(inner + " at " + threshold, expected.size(), searcher.count(filter));
            TopDocs top = searcher.search(filter, reader.maxDoc());
            assertEquals(expected.size(), top.totalHits.value());
            Set<Integer> got = new HashSet<>();
            for (ScoreDoc sd : top.scoreDocs) {
                got.add(sd.doc);
                assertEquals("inner score kept", innerHits.get(sd.doc), sd.score, 0f);
            }
            assertEquals(expected, got);
        }
    }

    public void testScoreModeCombinesWithTheCalibratedRelevance() throws IOException {
        float[] q = randomQuery();
        Query inner = new TermQuery(new Term("text", "extra"));
        Map<Integer, Float> innerHits = innerHits(inner);
        for (ScoreMode mode : ScoreMode.values()) {
            Query filter = new RelevanceFilterQuery(inner, randomField(), q, adapter.params(q), 0.2f, mode, 0.5f, 2f);
            for (ScoreDoc sd : searcher.search(filter, reader.maxDoc()).scoreDocs) {
                float want = Math.max(0f, mode.combine(innerHits.get(sd.doc), 0.5f, probability(q, sd.doc), 2f));
                assertEquals(mode + " doc " + sd.doc, want, sd.score, 1e-6f);
                Explanation e = searcher.explain(filter, sd.doc);
                assertEquals(sd.score, e.getValue().floatValue(), 1e-6f);
                assertEquals(
                    "[relevance_filter] calibrated relevance at or above threshold [0.2]; score_mode [" + mode.jsonName() + "]",
                    e.getDescription()
                );
            }
        }
    }

    public void testExplain() throws IOException {
        float[] q = randomQuery();
        Query inner = new TermQuery(new Term("tag", "a"));
        Map<Integer, Float> innerHits = innerHits(inner);
        float threshold = 0.5f;
        CosineAdapter.Params params = adapter.params(q);
        Query filter = new RelevanceFilterQuery(inner, randomField(), q, params, threshold, null, 1f, 1f);
        Set<Integer> hits = new HashSet<>();
        for (ScoreDoc sd : searcher.search(filter, reader.maxDoc()).scoreDocs) {
            hits.add(sd.doc);
        }
        for (int doc = 0; doc < reader.maxDoc(); doc++) {
            Explanation e = searcher.explain(filter, doc);
            assertEquals("doc " + doc + ": " + e, hits.contains(doc), e.isMatch());
            if (innerHits.containsKey(doc) == false) {
                continue; // the inner query's own explanation of a non-match
            }
            if (vectors[doc] == null) {
                assertThat(e.getDescription(), org.hamcrest.Matchers.startsWith("[relevance_filter] no vector in field ["));
                continue;
            }
            float p = probability(q, doc);
            Explanation calibrated = e.getDetails()[0];
            assertEquals(p, calibrated.getValue().floatValue(), 0f);
            assertEquals("calibrated relevance " + params.describe(), calibrated.getDescription());
            assertEquals(VectorMath.cosine(q, vectors[doc]), calibrated.getDetails()[0].getValue().floatValue(), 0f);
            if (p >= threshold) {
                assertEquals("[relevance_filter] calibrated relevance at or above threshold [0.5]; inner score kept", e.getDescription());
                assertEquals(innerHits.get(doc), e.getValue().floatValue(), 0f);
            } else {
                assertEquals("[relevance_filter] calibrated relevance below threshold [0.5]", e.getDescription());
            }
        }
    }

    /**
     * Lucene's own query checks: equality, skipping (advance / nextDoc in every pattern, bulk scorers), counts, also on
     * readers wrapped with empty segments around them. ({@code QueryUtils.check(Random, ...)} would also hold the
     * explanations to Lucene's description conventions, which the plugin's explanation texts do not follow; their
     * values and texts are checked above.)
     */
    public void testLuceneQueryChecks() throws IOException {
        float[] q = randomQuery();
        for (int run = 0; run < 5; run++) {
            Query inner = randomInner();
            ScoreMode mode = randomBoolean() ? null : randomFrom(ScoreMode.values());
            Query filter = new RelevanceFilterQuery(inner, randomField(), q, adapter.params(q), randomFloat(), mode, 1f, 1f);
            QueryUtils.check(filter);
            for (int edge = -1; edge <= 1; edge++) {
                IndexSearcher s = edge == 0 ? searcher : QueryUtils.wrapUnderlyingReader(random(), searcher, edge);
                QueryUtils.checkFirstSkipTo(filter, s);
                QueryUtils.checkSkipTo(filter, s);
                QueryUtils.checkBulkScorerSkipTo(random(), filter, s);
                QueryUtils.checkCount(filter, s);
            }
        }
    }

    public void testEqualsAndToString() {
        float[] q = randomQuery();
        SingleVectorField field = randomField();
        CosineAdapter.Params params = adapter.params(q);
        Query a = new RelevanceFilterQuery(new MatchAllDocsQuery(), field, q, params, 0.5f, null, 1f, 1f);
        Query b = new RelevanceFilterQuery(new MatchAllDocsQuery(), field, q.clone(), params, 0.5f, null, 1f, 1f);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new RelevanceFilterQuery(new MatchAllDocsQuery(), field, q, params, 0.6f, null, 1f, 1f));
        assertNotEquals(a, new RelevanceFilterQuery(new MatchAllDocsQuery(), field, q, params, 0.5f, ScoreMode.TOTAL, 1f, 1f));
        assertEquals("relevance_filter(*:*, field=" + field.name() + ", threshold=0.5)", a.toString());
    }
}
