/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.ExceptionsHelper;
import org.opensearch.action.index.IndexRequestBuilder;
import org.opensearch.action.search.SearchPhaseExecutionException;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.xcontent.LoggingDeprecationHandler;
import org.opensearch.common.xcontent.XContentFactory;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.MediaTypeRegistry;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.plugins.Plugin;
import org.opensearch.search.SearchHit;
import org.opensearch.search.aggregations.AggregationBuilders;
import org.opensearch.search.aggregations.bucket.terms.Terms;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.rescore.RescorerBuilder;
import org.opensearch.test.OpenSearchIntegTestCase;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.plugin.NeuralRescorePlugin;
import io.neuralrescore.query.RelevanceFilterQueryBuilder;
import io.neuralrescore.rescore.CosineFilterRescorerBuilder.Action;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.StatName;
import io.neuralrescore.testing.KnnVectorStandInPlugin;
import io.neuralrescore.testing.TestModels;

import static org.opensearch.test.hamcrest.OpenSearchAssertions.assertAcked;
import static org.hamcrest.Matchers.containsString;

/**
 * Cosine Adapter relevance filtering on a 2-node cluster with 3 shards. Documents are embedded at index time by the
 * {@code text_embedding} processor; every expected probability is computed here, independently of the plugin's search
 * path: the query embedding by the test's own registry, the document embeddings as the pipeline wrote them to
 * {@code _source}, the mapping by the adapter loaded from its folder.
 */
@OpenSearchIntegTestCase.ClusterScope(scope = OpenSearchIntegTestCase.Scope.SUITE, numDataNodes = 2, numClientNodes = 0)
public class CosineFilterIT extends OpenSearchIntegTestCase {
    private static final String INDEX = "cf";
    private static final String MODEL = "all-minilm-l6-v2";
    private static final String ADAPTER = "test-adapter";
    private static final String QUERY = "how do vaccines train the immune system";
    /** (tag, text): a few passages on the query's topic, more on others. */
    private static final String[][] DOCS = {
        { "health", "Vaccines train the immune system to recognise a pathogen without causing disease." },
        { "health", "After vaccination, memory B cells and T cells respond faster to the same antigen." },
        { "health", "Edward Jenner's smallpox vaccine in 1796 was the first vaccine." },
        { "health", "Antibodies are proteins the immune system produces to neutralise viruses and bacteria." },
        { "health", "How vaccines teach your body's immune defences to fight infections." },
        { "health", "Regular exercise lowers blood pressure and improves sleep." },
        { "food", "Bananas are rich in potassium and are a popular fruit." },
        { "food", "Simmer the tomato sauce for twenty minutes, stirring occasionally." },
        { "food", "Sourdough bread needs a starter, flour, water and salt." },
        { "food", "Green tea contains antioxidants and a little caffeine." },
        { "finance", "The stock market fell sharply today as investors worried about rates." },
        { "finance", "Central banks raise interest rates to slow inflation." },
        { "finance", "A diversified portfolio spreads risk across asset classes." },
        { "sport", "The football match ended in a draw after extra time." },
        { "sport", "She won the marathon in under two and a half hours." },
        { "sport", "Tennis players serve from behind the baseline." },
        { "nature", "Plant tulip bulbs in autumn for flowers in spring." },
        { "nature", "Bees pollinate crops and wild flowers." },
        { "nature", "Glaciers carve U-shaped valleys over thousands of years." },
        { "nature", "Some people worry about vaccines and the immune system, and about bees too." } };

    @Override
    protected Collection<Class<? extends Plugin>> nodePlugins() {
        return List.of(NeuralRescorePlugin.class, KnnVectorStandInPlugin.class);
    }

    @Override
    protected Settings nodeSettings(int nodeOrdinal) {
        return Settings.builder()
            .put(super.nodeSettings(nodeOrdinal))
            .put("plugins.rescore.models_path", TestModels.testModels().toString())
            .put("plugins.rescore.bundled_models_path", TestModels.bundledModels().toString())
            .build();
    }

    private String coordinatingNode;

    private String coordinatingNode() {
        if (coordinatingNode == null) {
            coordinatingNode = internalCluster().getNodeNames()[randomIntBetween(0, 1)];
        }
        return coordinatingNode;
    }

    private org.opensearch.transport.client.Client coordinator() {
        return client(coordinatingNode());
    }

    /** Builders made in Java carry the coordinating node's registry, as the plugin's parser gives them. */
    private ModelRegistry nodeRegistry() {
        return internalCluster().getInstance(ModelRegistry.class, coordinatingNode());
    }

    // ---- fixture -----------------------------------------------------------------------------------------------

    /** Probabilities and vectors of the indexed documents, computed independently of the search path. */
    private static final class Expected {
        float[] query;
        CosineAdapter.Params params;
        final Map<String, float[]> vectors = new HashMap<>();
        final Map<String, Float> p = new HashMap<>();
        final Map<String, String> tags = new HashMap<>();

        /** Ids of docs with p >= threshold, by p descending. */
        List<String> atOrAbove(float threshold) {
            return p.entrySet().stream().filter(e -> e.getValue() >= threshold).sorted(byP()).map(Map.Entry::getKey).toList();
        }

        List<String> below(float threshold) {
            return p.entrySet().stream().filter(e -> e.getValue() < threshold).sorted(byP()).map(Map.Entry::getKey).toList();
        }

        private static Comparator<Map.Entry<String, Float>> byP() {
            return Comparator.comparing((Map.Entry<String, Float> e) -> -e.getValue()).thenComparing(Map.Entry::getKey);
        }

        /** A threshold in the widest gap between two probabilities, with at least two docs on each side. */
        float gapThreshold() {
            List<Float> sorted = new ArrayList<>(p.values());
            sorted.sort(null);
            int best = 2;
            for (int i = 2; i <= sorted.size() - 2; i++) {
                if (sorted.get(i) - sorted.get(i - 1) > sorted.get(best) - sorted.get(best - 1)) {
                    best = i;
                }
            }
            return (sorted.get(best) + sorted.get(best - 1)) / 2;
        }
    }

    private Expected indexDocs() throws Exception {
        assertAcked(
            client().admin()
                .cluster()
                .preparePutPipeline(
                    "emb",
                    new BytesArray(
                        "{\"processors\": [{\"text_embedding\": {\"model\": \"" + MODEL + "\", \"field\": \"text\", \"target_field\": \"emb\"}},"
                            + "{\"text_embedding\": {\"model\": \"" + MODEL + "\", \"field\": \"text\", \"target_field\": \"knn\"}}]}"
                    ),
                    MediaTypeRegistry.JSON
                )
                .get()
        );
        XContentBuilder mapping = XContentFactory.jsonBuilder().startObject().startObject("properties");
        mapping.startObject("text").field("type", "text").endObject();
        mapping.startObject("tag").field("type", "keyword").endObject();
        mapping.startObject("emb").field("type", "multi_vector").field("dims", 384).field("model", MODEL).endObject();
        mapping.startObject("knn").field("type", "knn_vector").field("dimension", 384).endObject();
        mapping.startObject("emb16").field("type", "multi_vector").field("dims", 16).endObject();
        mapping.startObject("emb_tiny").field("type", "multi_vector").field("dims", 384).field("model", "tiny-bi").endObject();
        mapping.endObject().endObject();
        assertAcked(
            prepareCreate(INDEX).setSettings(
                Settings.builder().put("index.number_of_shards", 3).put("index.number_of_replicas", 0).put("index.default_pipeline", "emb")
            ).setMapping(mapping)
        );
        List<IndexRequestBuilder> builders = new ArrayList<>();
        for (int i = 0; i < DOCS.length; i++) {
            builders.add(client().prepareIndex(INDEX).setId("d" + i).setSource("tag", DOCS[i][0], "text", DOCS[i][1]));
        }
        // text but no embedding: the rescorer cannot score it, the query excludes it
        builders.add(client().prepareIndex(INDEX).setId("novector").setPipeline("_none").setSource("tag", "health", "text", "Vaccines and immunity."));
        indexRandom(true, false, builders);
        ensureGreen(INDEX);

        Expected x = new Expected();
        try (ModelRegistry registry = TestModels.registry(new BatchLimits(8192, 64)); ModelLease lease = registry.acquire(MODEL)) {
            TextEmbedder embedder = lease.as(TextEmbedder.class, "test");
            x.query = embedder.embed(List.of(QUERY), embedder.manifest().maxLength())[0];
            CosineAdapterModel adapter = CosineAdapterModel.load(TestModels.manifest(ADAPTER), TestModels.testModels().resolve(ADAPTER));
            x.params = adapter.adapter().params(x.query);
            SearchResponse all = client().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).setSize(100).get();
            assertEquals(DOCS.length + 1, all.getHits().getHits().length);
            for (SearchHit hit : all.getHits().getHits()) {
                x.tags.put(hit.getId(), (String) hit.getSourceAsMap().get("tag"));
                float[] v = sourceVector(hit, "emb");
                if (v == null) {
                    assertEquals("novector", hit.getId());
                    continue;
                }
                assertArrayEquals("both processors embed alike", v, sourceVector(hit, "knn"), 0f);
                // the ingest processor embeds the text as the model does alone (int8 activations vary a little with the batch)
                float[] alone = embedder.embed(List.of((String) hit.getSourceAsMap().get("text")), embedder.manifest().maxLength())[0];
                assertEquals(hit.getId(), 1f, VectorMath.cosine(v, alone), 2e-2f);
                x.vectors.put(hit.getId(), v);
                x.p.put(hit.getId(), x.params.map(VectorMath.cosine(x.query, v)));
            }
        }
        logger.info("calibrated probabilities: {}", new TreeMap<>(x.p));
        return x;
    }

    @SuppressWarnings("unchecked")
    private static float[] sourceVector(SearchHit hit, String field) {
        List<Number> values = (List<Number>) hit.getSourceAsMap().get(field);
        if (values == null) {
            return null;
        }
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i).floatValue();
        }
        return v;
    }

    private CosineFilterRescorerBuilder byText(String field, float threshold, Action action) {
        CosineFilterRescorerBuilder b = new CosineFilterRescorerBuilder(MODEL, ADAPTER, QUERY, null, field, threshold, nodeRegistry());
        b.action(action).windowSize(100);
        return b;
    }

    private CosineFilterRescorerBuilder byVector(float[] q, String field, float threshold, Action action) {
        CosineFilterRescorerBuilder b = new CosineFilterRescorerBuilder(null, ADAPTER, null, q, field, threshold, nodeRegistry());
        b.action(action).windowSize(100);
        return b;
    }

    private SearchResponse rescore(RescorerBuilder<?> rescorer, boolean explain) {
        return coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchAllQuery())
            .setSize(50)
            .setExplain(explain)
            .addRescorer(rescorer)
            .get();
    }

    /** Ids of the response's hits, without the hit that has no vector (its place across shards is first-pass order). */
    private static List<String> scoredIds(SearchResponse r) {
        List<String> ids = new ArrayList<>();
        for (SearchHit h : r.getHits().getHits()) {
            if (h.getId().equals("novector") == false) {
                ids.add(h.getId());
            }
        }
        return ids;
    }

    private static Map<String, Float> scores(SearchResponse r) {
        Map<String, Float> out = new HashMap<>();
        for (SearchHit h : r.getHits().getHits()) {
            out.put(h.getId(), h.getScore());
        }
        return out;
    }

    private long queryEncodings() {
        long n = 0;
        for (ModelRegistry r : internalCluster().getInstances(ModelRegistry.class)) {
            n += r.stats().get(StatName.QUERY_ENCODINGS);
        }
        return n;
    }

    // ---- cosine_filter -----------------------------------------------------------------------------------------

    public void testDropKeepsOnlyRelevantHitsScoredByTheAdapter() throws Exception {
        Expected x = indexDocs();
        float threshold = x.gapThreshold();
        long before = queryEncodings();
        SearchResponse r = rescore(byText("emb", threshold, Action.DROP), false);
        assertEquals("the query is encoded once for 3 shards on 2 nodes", 1, queryEncodings() - before);
        assertEquals(x.atOrAbove(threshold), scoredIds(r));
        Map<String, Float> scores = scores(r);
        for (String id : x.atOrAbove(threshold)) {
            // the node encoded the query itself: same model, same text, within float noise
            assertEquals(id, x.p.get(id), scores.get(id), 1e-4f);
        }
        assertTrue("the hit without a vector is kept, unscored", scores.containsKey("novector"));
        assertEquals("a rescorer cannot change hits.total", DOCS.length + 1, r.getHits().getTotalHits().value());
    }

    public void testDemoteRanksHitsBelowTheThresholdLast() throws Exception {
        Expected x = indexDocs();
        float threshold = x.gapThreshold();
        SearchResponse r = rescore(byText("emb", threshold, Action.DEMOTE), false);
        List<String> expected = new ArrayList<>(x.atOrAbove(threshold));
        expected.addAll(x.below(threshold));
        assertEquals(expected, scoredIds(r));
        Map<String, Float> scores = scores(r);
        for (String id : expected) {
            assertEquals(id, x.p.get(id), scores.get(id), 1e-4f);
        }
        assertEquals(DOCS.length + 1, r.getHits().getHits().length);
    }

    /** With the query vector given, scores are exact, and a hit whose probability equals the threshold is kept. */
    public void testQueryVectorExactScoresAndThresholdEquality() throws Exception {
        Expected x = indexDocs();
        List<String> ranked = x.atOrAbove(0f);
        String edge = ranked.get(ranked.size() / 3);
        float threshold = x.p.get(edge);
        long before = queryEncodings();
        for (String field : new String[] { "emb", "knn" }) {
            SearchResponse r = rescore(byVector(x.query, field, threshold, Action.DROP), false);
            assertEquals(field, x.atOrAbove(threshold), scoredIds(r));
            assertTrue(field + ": p == threshold is kept", scoredIds(r).contains(edge));
            Map<String, Float> scores = scores(r);
            for (String id : x.atOrAbove(threshold)) {
                assertEquals(field + " " + id, x.p.get(id), scores.get(id), 1e-6f);
            }
        }
        assertEquals("a given query vector needs no encoding", 0, queryEncodings() - before);
        // the example threshold
        SearchResponse r = rescore(byVector(x.query, "emb", 0.5f, Action.DROP), false);
        assertEquals(x.atOrAbove(0.5f), scoredIds(r));
    }

    public void testScoreModeCombinesWithFirstPass() throws Exception {
        Expected x = indexDocs();
        float threshold = x.gapThreshold();
        CosineFilterRescorerBuilder b = byVector(x.query, "emb", threshold, Action.DEMOTE);
        b.scoreMode(ScoreMode.TOTAL).queryWeight(0.5f).rescoreWeight(2f);
        SearchResponse r = rescore(b, false);
        List<String> expected = new ArrayList<>(x.atOrAbove(threshold));
        expected.addAll(x.below(threshold));
        assertEquals(expected, scoredIds(r));
        Map<String, Float> scores = scores(r);
        for (String id : x.atOrAbove(threshold)) {
            assertEquals(id, 0.5f * 1f + 2f * x.p.get(id), scores.get(id), 1e-5f); // match_all scores 1
        }
    }

    public void testExplainShowsCosineProbabilityAndVerdict() throws Exception {
        Expected x = indexDocs();
        float threshold = x.gapThreshold();
        for (Action action : Action.values()) {
            SearchResponse r = rescore(byVector(x.query, "emb", threshold, action), true);
            for (SearchHit hit : r.getHits().getHits()) {
                String e = hit.getExplanation().toString();
                if (hit.getId().equals("novector")) {
                    assertThat(e, containsString("[cosine_filter] did not rescore this hit: no vector in field [emb]; first-pass score kept"));
                    continue;
                }
                float p = x.p.get(hit.getId());
                assertEquals(hit.getId(), hit.getScore(), hit.getExplanation().getValue().floatValue(), 1e-6f);
                String verdict = p >= threshold ? "at or above threshold [" + threshold + "]: kept" : "below threshold [" + threshold + "]: demoted";
                assertThat(e, containsString("[cosine_filter] calibrated relevance " + verdict));
                assertThat(e, containsString(p + " = calibrated relevance by adapter [" + ADAPTER + "]: " + x.params.describe()));
                assertThat(e, containsString(VectorMath.cosine(x.query, x.vectors.get(hit.getId())) + " = cosine of query and document embeddings, field [emb]"));
            }
        }
    }

    // ---- relevance_filter --------------------------------------------------------------------------------------

    private RelevanceFilterQueryBuilder relevance(QueryBuilder inner, String queryText, float[] queryVector, float threshold) {
        return new RelevanceFilterQueryBuilder(inner, queryText == null ? null : MODEL, ADAPTER, queryText, queryVector, "emb", threshold, nodeRegistry());
    }

    private SearchResponse search(QueryBuilder query) {
        return coordinator().prepareSearch(INDEX)
            .setQuery(query)
            .setSize(50)
            .setTrackTotalHits(true)
            .addAggregation(AggregationBuilders.terms("tags").field("tag").size(20))
            .get();
    }

    private static Map<String, Long> tagCounts(SearchResponse r) {
        Map<String, Long> out = new TreeMap<>();
        Terms terms = r.getAggregations().get("tags");
        for (Terms.Bucket b : terms.getBuckets()) {
            out.put(b.getKeyAsString(), b.getDocCount());
        }
        return out;
    }

    private static Map<String, Long> tagCounts(Expected x, Collection<String> ids) {
        Map<String, Long> out = new TreeMap<>();
        for (String id : ids) {
            out.merge(x.tags.get(id), 1L, Long::sum);
        }
        return out;
    }

    /** hits.total and aggregations count exactly the documents whose calibrated relevance reaches the threshold. */
    public void testRelevanceFilterTotalsAndAggregations() throws Exception {
        Expected x = indexDocs();
        float gap = x.gapThreshold();
        List<String> ranked = x.atOrAbove(0f);
        float exact = x.p.get(ranked.get(ranked.size() / 2)); // one doc exactly at the threshold
        for (float threshold : new float[] { gap, exact, 0f, 1f, 0.5f }) {
            SearchResponse r = search(relevance(QueryBuilders.matchAllQuery(), null, x.query, threshold));
            List<String> want = x.atOrAbove(threshold);
            assertEquals("threshold " + threshold, want.size(), r.getHits().getTotalHits().value());
            assertEquals(new HashSet<>(want), new HashSet<>(scores(r).keySet()));
            assertEquals(tagCounts(x, want), tagCounts(r));
            for (SearchHit h : r.getHits().getHits()) {
                assertEquals("inner score kept", 1f, h.getScore(), 0f);
            }
        }
        // the node encodes the query text itself: thresholds in a gap are robust to float noise
        long before = queryEncodings();
        SearchResponse r = search(relevance(QueryBuilders.matchAllQuery(), QUERY, null, gap));
        assertEquals(1, queryEncodings() - before);
        assertEquals(x.atOrAbove(gap).size(), r.getHits().getTotalHits().value());
        assertEquals(tagCounts(x, x.atOrAbove(gap)), tagCounts(r));
    }

    /** Around a BM25 query: its matches that are also relevant, with BM25 scores, or combined with score_mode. */
    public void testRelevanceFilterAroundBm25() throws Exception {
        Expected x = indexDocs();
        float threshold = x.gapThreshold();
        QueryBuilder bm25 = QueryBuilders.matchQuery("text", "immune vaccines bees flowers");
        Map<String, Float> inner = scores(search(bm25));
        Set<String> want = new HashSet<>();
        for (String id : inner.keySet()) {
            if (x.p.containsKey(id) && x.p.get(id) >= threshold) {
                want.add(id);
            }
        }
        assertFalse("some BM25 hits are filtered out", want.size() == inner.size());
        SearchResponse r = search(relevance(bm25, null, x.query, threshold));
        assertEquals(want.size(), r.getHits().getTotalHits().value());
        assertEquals(want, scores(r).keySet());
        for (SearchHit h : r.getHits().getHits()) {
            assertEquals("BM25 score kept", inner.get(h.getId()), h.getScore(), 1e-5f);
        }
        RelevanceFilterQueryBuilder combined = relevance(bm25, null, x.query, threshold).scoreMode(ScoreMode.TOTAL, 0f, 1f);
        r = search(combined);
        assertEquals(want.size(), r.getHits().getTotalHits().value());
        for (SearchHit h : r.getHits().getHits()) {
            assertEquals("score_mode total, query_weight 0: the probability", x.p.get(h.getId()), h.getScore(), 1e-6f);
        }
        // explain
        SearchResponse explained = coordinator().prepareSearch(INDEX).setQuery(relevance(bm25, null, x.query, threshold)).setExplain(true).get();
        for (SearchHit h : explained.getHits().getHits()) {
            assertThat(h.getExplanation().toString(), containsString("[relevance_filter] calibrated relevance at or above threshold [" + threshold + "]"));
            assertThat(h.getExplanation().toString(), containsString(x.p.get(h.getId()) + " = calibrated relevance " + x.params.describe()));
        }
    }

    // ---- bad input ---------------------------------------------------------------------------------------------

    private void assertBadRequest(RescorerBuilder<?> rescorer, String reason) {
        assertBadRequest(QueryBuilders.matchAllQuery(), rescorer, reason);
    }

    private void assertBadRequest(QueryBuilder query, RescorerBuilder<?> rescorer, String reason) {
        Exception e = expectThrows(Exception.class, () -> {
            var request = coordinator().prepareSearch(INDEX).setQuery(query);
            if (rescorer != null) {
                request.addRescorer(rescorer);
            }
            request.get();
        });
        RestStatus status = ExceptionsHelper.status(e);
        assertEquals("status for " + reason + " was " + status + ": " + e, RestStatus.BAD_REQUEST, status);
        String detail = e instanceof SearchPhaseExecutionException spe && spe.shardFailures().length > 0
            ? spe.shardFailures()[0].reason()
            : e.getMessage();
        assertThat(detail, containsString(reason));
    }

    private void assertBadQuery(QueryBuilder query, String reason) {
        assertBadRequest(query, null, reason);
    }

    private CosineFilterRescorerBuilder cf(String model, String adapter, String text, float[] vector, String field) {
        return new CosineFilterRescorerBuilder(model, adapter, text, vector, field, 0.5f, nodeRegistry());
    }

    private RelevanceFilterQueryBuilder rf(String model, String adapter, String text, float[] vector, String field) {
        return new RelevanceFilterQueryBuilder(QueryBuilders.matchAllQuery(), model, adapter, text, vector, field, 0.5f, nodeRegistry());
    }

    public void testBadRequestsAreRejectedWithReasons() throws Exception {
        Expected x = indexDocs();
        float[] q16 = new float[16];
        q16[0] = 1f;
        // adapter trained for another embedding model
        String otherModel = "adapter [test-adapter-tiny-bi] was trained for embedding model [tiny-bi], not [" + MODEL + "]";
        assertBadRequest(cf(MODEL, "test-adapter-tiny-bi", QUERY, null, "emb"), "[cosine_filter] " + otherModel);
        assertBadQuery(rf(MODEL, "test-adapter-tiny-bi", QUERY, null, "emb"), "[relevance_filter] " + otherModel);
        assertBadRequest(cf(MODEL, "test-adapter-tiny-bi", null, q16, "emb"), "[cosine_filter] " + otherModel);
        // the field's embeddings come from another model than the adapter's
        assertBadRequest(
            cf(null, ADAPTER, null, x.query, "emb_tiny"),
            "[cosine_filter] field [emb_tiny] holds embeddings of model [tiny-bi] but adapter [test-adapter] was trained for [" + MODEL + "]"
        );
        // wrong dimensions: the query vector, the field
        assertBadRequest(
            cf(null, ADAPTER, null, new float[] { 1f, 0f, 0f }, "emb"),
            "[cosine_filter] query vector has dimension [3] but adapter [test-adapter] takes [384]"
        );
        assertBadQuery(
            rf(null, ADAPTER, null, new float[] { 1f, 0f, 0f }, "emb"),
            "[relevance_filter] query vector has dimension [3] but adapter [test-adapter] takes [384]"
        );
        assertBadRequest(
            cf(null, ADAPTER, null, x.query, "emb16"),
            "[cosine_filter] field [emb16] has dimension [16] but adapter [test-adapter] takes [384]"
        );
        assertBadQuery(
            rf(null, "test-adapter-tiny-bi", null, q16, "knn"),
            "[relevance_filter] field [knn] has dimension [384] but adapter [test-adapter-tiny-bi] takes [16]"
        );
        // not a vector field, not mapped
        assertBadRequest(
            cf(MODEL, ADAPTER, QUERY, null, "text"),
            "[cosine_filter] field [text] is of type [text] in index [cf]; expected [multi_vector] or a Lucene-engine [knn_vector]"
        );
        assertBadQuery(rf(MODEL, ADAPTER, QUERY, null, "tag"), "[relevance_filter] field [tag] is of type [keyword] in index [cf]");
        assertBadRequest(cf(MODEL, ADAPTER, QUERY, null, "nope"), "[cosine_filter] field [nope] is not mapped in index [cf]");
        // adapter names that are not cosine adapters; a model that is not a bi-encoder; unknown names
        assertBadRequest(
            cf(MODEL, MODEL, QUERY, null, "emb"),
            "[cosine_filter] model [" + MODEL + "] is a [bi_encoder] model, but [cosine_filter] needs a [cosine_adapter] model"
        );
        assertBadQuery(
            rf(MODEL, "tiny-ce", QUERY, null, "emb"),
            "[relevance_filter] model [tiny-ce] is a [cross_encoder] model, but [relevance_filter] needs a [cosine_adapter] model"
        );
        assertBadRequest(
            cf("tiny-ce", ADAPTER, QUERY, null, "emb"),
            "[cosine_filter] model [tiny-ce] is a [cross_encoder] model, but [cosine_filter] needs a [bi_encoder] model"
        );
        assertBadRequest(cf(MODEL, "no-such-adapter", QUERY, null, "emb"), "unknown model [no-such-adapter]");
    }

    /** Threshold and clause-shape errors are found while parsing the request body, which the REST layer answers with 400. */
    public void testParseErrorsAreBadRequests() throws IOException {
        NamedXContentRegistry registry = internalCluster().getInstance(NamedXContentRegistry.class, coordinatingNode());
        String[][] cases = {
            { "{\"rescore\": {\"cosine_filter\": {\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"emb\", \"threshold\": 1.5}}}",
                "[cosine_filter] [threshold] must be between 0 and 1, got [1.5]" },
            { "{\"query\": {\"relevance_filter\": {\"query\": {\"match_all\": {}}, \"adapter\": \"a\", \"query_vector\": [1], \"field\": \"emb\", \"threshold\": -0.5}}}",
                "[relevance_filter] [threshold] must be between 0 and 1, got [-0.5]" },
            { "{\"rescore\": {\"cosine_filter\": {\"adapter\": \"a\", \"query_text\": \"q\", \"query_vector\": [1], \"field\": \"emb\", \"threshold\": 0.5}}}",
                "[cosine_filter] requires exactly one of [query_text] or [query_vector]" },
            { "{\"rescore\": {\"cosine_filter\": {\"adapter\": \"a\", \"query_vector\": [1], \"field\": \"emb\", \"threshold\": 0.5, \"action\": \"hide\"}}}",
                "[cosine_filter] illegal action [hide], must be one of [drop, demote]" },
            { "{\"rescore\": {\"cosine_filter\": {\"adapter\": \"a\", \"query_vector\": [1], \"field\": \"emb\", \"threshold\": 0.5, \"min_score\": 0.5}}}",
                "[cosine_filter] unknown field [min_score]" } };
        for (String[] c : cases) {
            Exception e = expectThrows(Exception.class, () -> {
                try (XContentParser parser = JsonXContent.jsonXContent.createParser(registry, LoggingDeprecationHandler.INSTANCE, c[0])) {
                    SearchSourceBuilder.fromXContent(parser);
                }
            });
            assertEquals(c[0], RestStatus.BAD_REQUEST, ExceptionsHelper.status(e));
            assertThat(e.getMessage(), containsString(c[1]));
        }
    }

    /** knn_vector fields whose vectors Lucene cannot hand over as floats are refused instead of reading as "no vector". */
    public void testByteKnnVectorsAreRefused() throws Exception {
        assertAcked(
            prepareCreate("bytes").setSettings(Settings.builder().put("index.number_of_shards", 1).put("index.number_of_replicas", 0))
                .setMapping(XContentFactory.jsonBuilder().startObject().startObject("properties")
                    .startObject("v").field("type", "knn_vector").field("dimension", 3).field("data_type", "byte").endObject()
                    .endObject().endObject())
        );
        client().prepareIndex("bytes").setId("1").setSource("v", List.of(1, 2, 3)).setRefreshPolicy("true").get();
        Exception e = expectThrows(
            Exception.class,
            () -> coordinator().prepareSearch("bytes")
                .setQuery(new RelevanceFilterQueryBuilder(QueryBuilders.matchAllQuery(), null, "test-adapter-tiny-bi", null, new float[16], "v", 0.5f, nodeRegistry()))
                .get()
        );
        assertEquals(RestStatus.BAD_REQUEST, ExceptionsHelper.status(e));
        String detail = e instanceof SearchPhaseExecutionException spe && spe.shardFailures().length > 0 ? spe.shardFailures()[0].reason() : e.getMessage();
        assertThat(detail, containsString("[relevance_filter] field [v] of type [knn_vector] holds [byte] vectors; cosine needs float vectors"));
    }
}
