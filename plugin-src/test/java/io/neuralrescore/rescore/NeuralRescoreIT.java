/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.action.index.IndexRequestBuilder;
import org.opensearch.action.search.SearchPhaseExecutionException;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.plugins.Plugin;
import org.opensearch.search.SearchHit;
import org.opensearch.test.OpenSearchIntegTestCase;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.CrossEncoder;
import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.plugin.NeuralRescorePlugin;
import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.StatName;
import io.neuralrescore.testing.TestModels;
import io.neuralrescore.transport.NodeStatsAction;
import io.neuralrescore.transport.UnloadModelAction;

import static org.opensearch.test.hamcrest.OpenSearchAssertions.assertAcked;
import static org.hamcrest.Matchers.containsString;

/** Rescoring on a 2-node cluster with 3 shards: hits come back in the order the model says. */
@OpenSearchIntegTestCase.ClusterScope(scope = OpenSearchIntegTestCase.Scope.SUITE, numDataNodes = 2, numClientNodes = 0)
public class NeuralRescoreIT extends OpenSearchIntegTestCase {
    private static final String INDEX = "docs";
    private static final String QUERY = "how do vaccines train the immune system";
    private static final String[][] DOCS = {
        { "Vaccines", "Vaccines train the immune system to recognise a pathogen without causing disease." },
        { "Immune memory", "After vaccination, memory B cells and T cells respond faster to the same antigen." },
        { "Bananas", "Bananas are rich in potassium and are a popular fruit." },
        { "Stock market", "The stock market fell sharply today as investors worried about rates." },
        { "Vaccine history", "Edward Jenner's smallpox vaccine in 1796 was the first vaccine; immune response to cowpox protected people." },
        { "Football", "The football match ended in a draw after extra time." },
        { "Antibodies", "Antibodies are proteins the immune system produces to neutralise viruses and bacteria." },
        { "Cooking", "Simmer the tomato sauce for twenty minutes, stirring occasionally." },
        { "Mixed", "Some people worry about vaccines and the immune system, and about bananas too." },
        { "Gardening", "Plant tulip bulbs in autumn for flowers in spring." } };

    @Override
    protected Collection<Class<? extends Plugin>> nodePlugins() {
        return List.of(NeuralRescorePlugin.class);
    }

    @Override
    protected Settings nodeSettings(int nodeOrdinal) {
        return Settings.builder()
            .put(super.nodeSettings(nodeOrdinal))
            .put("plugins.rescore.models_path", TestModels.testModels().toString())
            .put("plugins.rescore.bundled_models_path", TestModels.bundledModels().toString())
            .put("plugins.rescore.batch.max_tokens", 512)
            .build();
    }

    private String coordinatingNode;

    /** The node the test searches through; builders made in Java carry that node's model registry. */
    private org.opensearch.transport.client.Client coordinator() {
        return client(coordinatingNode());
    }

    private String coordinatingNode() {
        if (coordinatingNode == null) {
            coordinatingNode = internalCluster().getNodeNames()[randomIntBetween(0, 1)];
        }
        return coordinatingNode;
    }

    private ModelRegistry nodeRegistry() {
        return internalCluster().getInstance(ModelRegistry.class, coordinatingNode());
    }

    private CrossEncoderRescorerBuilder ce(String model, String query, List<String> fields) {
        return new CrossEncoderRescorerBuilder(model, query, fields, nodeRegistry());
    }

    private TextEmbeddingRescorerBuilder te(String model, String query, List<String> fields) {
        return new TextEmbeddingRescorerBuilder(model, query, fields, nodeRegistry());
    }

    private void indexDocs() throws Exception {
        assertAcked(
            prepareCreate(INDEX).setSettings(Settings.builder().put("index.number_of_shards", 3).put("index.number_of_replicas", 0))
                .setMapping("title", "type=text", "text", "type=text", "year", "type=integer", "tag", "type=keyword")
        );
        List<IndexRequestBuilder> builders = new ArrayList<>();
        for (int i = 0; i < DOCS.length; i++) {
            builders.add(client().prepareIndex(INDEX).setId(Integer.toString(i)).setSource("title", DOCS[i][0], "text", DOCS[i][1], "year", 2000 + i));
        }
        // one hit without any text in the rescored fields
        builders.add(client().prepareIndex(INDEX).setId("notext").setSource("year", 1999, "tag", "vaccines"));
        indexRandom(true, builders);
        ensureGreen(INDEX);
    }

    private static String text(int i) {
        return DOCS[i][0] + " " + DOCS[i][1];
    }

    public void testCrossEncoderOrdersHitsAsTheModelSays() throws Exception {
        indexDocs();
        Map<String, Float> expected = new HashMap<>();
        try (ModelRegistry registry = TestModels.registry(new BatchLimits(8192, 64)); ModelLease lease = registry.acquire("tiny-ce")) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < DOCS.length; i++) {
                texts.add(text(i));
            }
            float[] scores = lease.as(CrossEncoder.class, "test").score(QUERY, texts, 128);
            for (int i = 0; i < DOCS.length; i++) {
                expected.put(Integer.toString(i), scores[i]);
            }
        }
        CrossEncoderRescorerBuilder rescorer = ce("tiny-ce", QUERY, List.of("title", "text"));
        rescorer.windowSize(50);
        SearchResponse response = coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchAllQuery())
            .setSize(20)
            .addRescorer(rescorer)
            .get();
        SearchHit[] hits = response.getHits().getHits();
        assertEquals(DOCS.length + 1, hits.length);
        List<String> want = new ArrayList<>(expected.keySet());
        want.sort(Comparator.comparing((String id) -> -expected.get(id)));
        for (int i = 0; i < DOCS.length; i++) {
            assertEquals("rank " + i, want.get(i), hits[i].getId());
            assertEquals(expected.get(hits[i].getId()), hits[i].getScore(), 1e-4);
        }
        assertEquals("a hit without text ranks after the scored hits", "notext", hits[DOCS.length].getId());
        assertTrue(hits[DOCS.length].getScore() < hits[DOCS.length - 1].getScore());
    }

    private boolean loadedOn(String node, String model) {
        return internalCluster().getInstance(ModelRegistry.class, node).list().get(model).loaded();
    }

    public void testUnloadDropsTheModelOnEveryNodeAndTheNextSearchReloadsIt() throws Exception {
        indexDocs();
        CrossEncoderRescorerBuilder rescorer = ce("tiny-ce", QUERY, List.of("title", "text"));
        rescorer.windowSize(50);
        float before = coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).addRescorer(rescorer).get()
            .getHits().getHits()[0].getScore();
        // 2 data nodes, and the test framework may add dedicated cluster-manager nodes: every node answers
        String[] nodes = internalCluster().getNodeNames();
        for (String node : nodes) {
            // the search loaded it where shards had hits; make sure every node has it
            internalCluster().getInstance(ModelRegistry.class, node).acquire("tiny-ce").close();
            assertTrue(node, loadedOn(node, "tiny-ce"));
        }
        // through any node, not only the coordinator of the search
        UnloadModelAction.Response response = client(randomFrom(nodes)).execute(
            UnloadModelAction.INSTANCE,
            new UnloadModelAction.Request("tiny-ce")
        ).get();
        assertEquals(nodes.length, response.getNodes().size());
        assertTrue(response.failures().isEmpty());
        for (UnloadModelAction.NodeResponse node : response.getNodes()) {
            assertTrue(node.getNode().getName(), node.unloaded());
        }
        for (String node : nodes) {
            assertFalse(node, loadedOn(node, "tiny-ce"));
        }
        // the stats of both nodes, through either: per node and summed
        NodeStatsAction.Response stats = client(randomFrom(nodes)).execute(NodeStatsAction.INSTANCE, new NodeStatsAction.Request()).get();
        assertEquals(nodes.length, stats.getNodes().size());
        long unloads = 0;
        for (NodeStatsAction.NodeResponse node : stats.getNodes()) {
            long own = internalCluster().getInstance(ModelRegistry.class, node.getNode().getName()).stats().get(StatName.MODEL_UNLOADS);
            assertTrue(node.getNode().getName(), own >= 1);
            assertEquals(Long.valueOf(own), node.stats().get("model_unloads"));
            unloads += own;
        }
        assertEquals(Long.valueOf(unloads), stats.totals().get("model_unloads"));
        // nothing left to unload; one node can be named
        UnloadModelAction.Response again = client().execute(UnloadModelAction.INSTANCE, new UnloadModelAction.Request("tiny-ce", nodes[0]))
            .get();
        assertEquals(1, again.getNodes().size());
        assertEquals(nodes[0], again.getNodes().get(0).getNode().getName());
        assertFalse(again.getNodes().get(0).unloaded());
        float after = coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).addRescorer(rescorer).get()
            .getHits().getHits()[0].getScore();
        assertEquals("reloaded from the same folder: same scores", before, after, 0f);
        assertTrue("the search loaded it again", Arrays.stream(nodes).anyMatch(node -> loadedOn(node, "tiny-ce")));
    }

    public void testTextEmbeddingOrdersByCosineWithDefaultModel() throws Exception {
        indexDocs();
        Map<String, Float> expected = new HashMap<>();
        try (
            ModelRegistry registry = TestModels.registry(new BatchLimits(8192, 64));
            ModelLease lease = registry.acquire("all-minilm-l6-v2")
        ) {
            TextEmbedder embedder = lease.as(TextEmbedder.class, "test");
            float[] q = embedder.embed(List.of(QUERY), 256)[0];
            for (int i = 0; i < DOCS.length; i++) {
                float[] d = embedder.embed(List.of(DOCS[i][1]), 256)[0];
                expected.put(Integer.toString(i), VectorMath.cosine(q, d));
            }
        }
        TextEmbeddingRescorerBuilder rescorer = te("all-minilm-l6-v2", QUERY, List.of("text"));
        rescorer.windowSize(100);
        SearchResponse response = coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchQuery("text", "immune system vaccines bananas"))
            .setSize(5)
            .addRescorer(rescorer)
            .get();
        SearchHit[] hits = response.getHits().getHits();
        assertEquals(5, hits.length);
        assertEquals("0", hits[0].getId());
        for (int i = 0; i < hits.length; i++) {
            // int8 dynamic quantization makes scores depend slightly on batch composition
            assertEquals(hits[i].getId(), expected.get(hits[i].getId()), hits[i].getScore(), 2e-2);
            if (i > 0) {
                assertTrue(hits[i - 1].getScore() >= hits[i].getScore());
            }
        }
    }

    public void testScoreModeWeightsSigmoidAndMinScore() throws Exception {
        indexDocs();
        CrossEncoderRescorerBuilder plain = ce("tiny-ce", QUERY, List.of("title", "text"));
        plain.windowSize(50);
        SearchResponse base = coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).setSize(20).addRescorer(plain).get();
        Map<String, Float> raw = new HashMap<>();
        for (SearchHit h : base.getHits().getHits()) {
            raw.put(h.getId(), h.getScore());
        }
        float threshold = Normalization.SIGMOID.apply(raw.get(base.getHits().getHits()[4].getId())) - 1e-6f;
        CrossEncoderRescorerBuilder filtered = ce("tiny-ce", QUERY, List.of("title", "text"))
            .normalize(Normalization.SIGMOID)
            .scoreMode(ScoreMode.TOTAL)
            .queryWeight(0.5f)
            .rescoreWeight(2f)
            .minScore(threshold);
        filtered.windowSize(50);
        SearchResponse response = coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchAllQuery())
            .setSize(20)
            .addRescorer(filtered)
            .get();
        SearchHit[] hits = response.getHits().getHits();
        // 5 hits pass min_score, the hit without text is kept (not scored), the rest are dropped
        assertEquals(6, hits.length);
        assertEquals("notext", hits[5].getId());
        for (int i = 0; i < 5; i++) {
            float expected = 0.5f * 1.0f + 2f * Normalization.SIGMOID.apply(raw.get(hits[i].getId()));
            assertEquals(expected, hits[i].getScore(), 1e-4);
        }
        assertEquals("hits.total still counts every match", DOCS.length + 1, response.getHits().getTotalHits().value());
    }

    public void testExplainShowsModelAndScores() throws Exception {
        indexDocs();
        CrossEncoderRescorerBuilder rescorer = ce("tiny-ce", QUERY, List.of("title", "text"))
            .normalize(Normalization.SIGMOID)
            .scoreMode(ScoreMode.TOTAL);
        rescorer.windowSize(50);
        SearchResponse response = coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchAllQuery())
            .setExplain(true)
            .setSize(20)
            .addRescorer(rescorer)
            .get();
        SearchHit top = response.getHits().getHits()[0];
        String explanation = top.getExplanation().toString();
        assertThat(explanation, containsString("[cross_encoder] model [tiny-ce], score_mode [total] of:"));
        assertThat(explanation, containsString("raw score: cross-encoder [tiny-ce] logit of (query, text)"));
        assertThat(explanation, containsString("normalized model score (sigmoid of raw score)"));
        assertEquals(top.getScore(), top.getExplanation().getValue().floatValue(), 1e-4);
        SearchHit notext = response.getHits().getHits()[DOCS.length];
        assertThat(notext.getExplanation().toString(), containsString("no text in fields [title, text]"));
    }

    public void testBadRequestsAreRejectedWithReasons() throws Exception {
        indexDocs();
        assertBadRequest(ce("no-such-model", QUERY, List.of("text")), "unknown model [no-such-model]");
        assertBadRequest(
            ce("all-minilm-l6-v2", QUERY, List.of("text")),
            "[cross_encoder] model [all-minilm-l6-v2] is a [bi_encoder] model, but [cross_encoder] needs a [cross_encoder] model"
        );
        assertBadRequest(
            te("tiny-ce", QUERY, List.of("text")),
            "[text_embedding] model [tiny-ce] is a [cross_encoder] model, but [text_embedding] needs a [bi_encoder] model"
        );
        assertBadRequest(
            ce("tiny-ce", QUERY, List.of("year")),
            "[cross_encoder] field [year] is of type [integer] in index [docs]; only text fields can be rescored"
        );
        assertBadRequest(
            ce("tiny-ce", QUERY, List.of("nope")),
            "[cross_encoder] field [nope] is not mapped in index [docs]"
        );
        assertBadRequest(
            ce("tiny-ce", QUERY, List.of("text")).maxLength(4096),
            "[cross_encoder] [max_length] is [4096] but model [tiny-ce] accepts at most [128] tokens"
        );
        CrossEncoderRescorerBuilder tooWide = ce("tiny-ce", QUERY, List.of("text"));
        tooWide.windowSize(20000);
        assertBadRequest(tooWide, "Rescore window [20000] is too large");
    }

    private void assertBadRequest(org.opensearch.search.rescore.RescorerBuilder<?> rescorer, String reason) {
        Exception e = expectThrows(
            Exception.class,
            () -> coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).addRescorer(rescorer).get()
        );
        RestStatus status = org.opensearch.ExceptionsHelper.status(e);
        assertEquals("status for " + reason + " was " + status + ": " + e, RestStatus.BAD_REQUEST, status);
        String detail = e instanceof SearchPhaseExecutionException spe && spe.shardFailures().length > 0
            ? spe.shardFailures()[0].reason()
            : e.getMessage();
        assertThat(detail, containsString(reason));
    }
}
