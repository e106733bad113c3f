/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.util.BytesRef;
import org.opensearch.action.index.IndexRequestBuilder;
import org.opensearch.action.search.SearchPhaseExecutionException;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.xcontent.XContentFactory;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.MediaTypeRegistry;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.plugins.Plugin;
import org.opensearch.search.SearchHit;
import org.opensearch.search.rescore.RescorerBuilder;
import org.opensearch.test.OpenSearchIntegTestCase;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.plugin.NeuralRescorePlugin;
import io.neuralrescore.query.LateInteractionQueryBuilder;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder.MissingVectors;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder.Scoring;
import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.stats.StatName;
import io.neuralrescore.testing.TestModels;

import static org.opensearch.test.hamcrest.OpenSearchAssertions.assertAcked;
import static org.hamcrest.Matchers.containsString;

/**
 * Late interaction on a 2-node cluster with 3 shards, end to end: the ingest pipeline encodes texts into
 * {@code multi_vector} fields of every encoding, and the rescorer and the query give exactly the MaxSim / XTR the
 * test computes itself, from the stored vectors and from the same models (TestModels.registry); fallback,
 * explain, one query encoding per request, and 400s with clear reasons for bad requests.
 */
@OpenSearchIntegTestCase.ClusterScope(scope = OpenSearchIntegTestCase.Scope.SUITE, numDataNodes = 2, numClientNodes = 0)
public class LateInteractionIT extends OpenSearchIntegTestCase {
    private static final String INDEX = "li";
    private static final String MODEL = "all-minilm-l6-v2";
    private static final String COLBERT = "tiny-colbert";
    private static final String QUERY = "how do vaccines train the immune system";
    private static final String[] DOCS = {
        "Vaccines train the immune system to recognise a pathogen without causing disease.",
        "After vaccination, memory B cells and T cells respond faster to the same antigen.",
        "Bananas are rich in potassium and are a popular fruit.",
        "The stock market fell sharply today as investors worried about rates.",
        "Edward Jenner's smallpox vaccine in 1796 was the first vaccine; immune response to cowpox protected people.",
        "The football match ended in a draw after extra time.",
        "Antibodies are proteins the immune system produces to neutralise viruses and bacteria.",
        "Simmer the tomato sauce for twenty minutes, stirring occasionally.",
        "Some people worry about vaccines and the immune system, and about bananas too.",
        "Plant tulip bulbs in autumn for flowers in spring." };
    /** Field per encoding, all written by the pipeline from {@code text} with the MiniLM bi-encoder. */
    private static final Map<VectorEncoding, String> FIELDS = Map.of(
        VectorEncoding.FLOAT,
        "tok_float",
        VectorEncoding.FLOAT16,
        "tok_float16",
        VectorEncoding.INT8,
        "tok_int8",
        VectorEncoding.BIT,
        "tok_bit"
    );

    private static ModelRegistry testRegistry;

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
            .put("plugins.rescore.batch.max_tokens", 4096)
            .build();
    }

    @Override
    public void tearDown() throws Exception {
        if (testRegistry != null) {
            testRegistry.close();
            testRegistry = null;
        }
        super.tearDown();
    }

    private static ModelRegistry testRegistry() {
        if (testRegistry == null) {
            testRegistry = TestModels.registry(new BatchLimits(8192, 64));
        }
        return testRegistry;
    }

    private String coordinatingNode;

    private org.opensearch.transport.client.Client coordinator() {
        return client(coordinatingNode());
    }

    private String coordinatingNode() {
        if (coordinatingNode == null) {
            coordinatingNode = internalCluster().getNodeNames()[randomIntBetween(0, 1)];
        }
        return coordinatingNode;
    }

    /** Builders made in Java carry the coordinating node's registry, as the plugin's parser gives them. */
    private ModelRegistry nodeRegistry() {
        return internalCluster().getInstance(ModelRegistry.class, coordinatingNode());
    }

    private LateInteractionRescorerBuilder li(String model, String field) {
        return new LateInteractionRescorerBuilder(model, QUERY, null, field, nodeRegistry());
    }

    private void createIndex() throws IOException {
        StringBuilder processors = new StringBuilder();
        for (String field : FIELDS.values()) {
            processors.append("{\"late_interaction\": {\"model\": \"" + MODEL + "\", \"field\": \"text\", \"target_field\": \"" + field + "\"}},");
        }
        processors.append("{\"late_interaction\": {\"model\": \"" + COLBERT + "\", \"field\": \"text\", \"target_field\": \"tok_colbert\"}}");
        assertAcked(
            client().admin()
                .cluster()
                .preparePutPipeline("li", new BytesArray("{\"processors\": [" + processors + "]}"), MediaTypeRegistry.JSON)
                .get()
        );
        XContentBuilder mapping = XContentFactory.jsonBuilder().startObject().startObject("properties");
        mapping.startObject("text").field("type", "text").endObject();
        mapping.startObject("year").field("type", "integer").endObject();
        for (Map.Entry<VectorEncoding, String> e : FIELDS.entrySet()) {
            mapping.startObject(e.getValue())
                .field("type", "multi_vector")
                .field("dims", 384)
                .field("encoding", e.getKey().jsonName())
                .field("model", MODEL)
                .endObject();
        }
        mapping.startObject("tok_colbert").field("type", "multi_vector").field("dims", 8).field("model", COLBERT).endObject();
        mapping.startObject("tok_nomodel").field("type", "multi_vector").field("dims", 384).endObject();
        mapping.endObject().endObject();
        assertAcked(
            prepareCreate(INDEX).setSettings(
                Settings.builder().put("index.number_of_shards", 3).put("index.number_of_replicas", 0).put("index.default_pipeline", "li")
            ).setMapping(mapping)
        );
    }

    /** The ten docs through the pipeline, plus one doc with text but no vectors and one with neither. */
    private void indexDocs() throws Exception {
        createIndex();
        List<IndexRequestBuilder> builders = new ArrayList<>();
        for (int i = 0; i < DOCS.length; i++) {
            builders.add(client().prepareIndex(INDEX).setId(Integer.toString(i)).setSource("text", DOCS[i], "year", 2000 + i));
        }
        builders.add(
            client().prepareIndex(INDEX)
                .setId("novectors")
                .setPipeline("_none")
                .setSource("text", "Vaccines and the immune system: an introduction.", "year", 1999)
        );
        builders.add(client().prepareIndex(INDEX).setId("empty").setPipeline("_none").setSource("year", 1998));
        indexRandom(true, false, builders); // no dummy docs: they have no text for the pipeline
        ensureGreen(INDEX);
    }

    /** The doc's vectors as the pipeline wrote them to {@code _source}. */
    @SuppressWarnings("unchecked")
    private static float[][] sourceVectors(SearchHit hit, String field) {
        List<List<Number>> rows = (List<List<Number>>) hit.getSourceAsMap().get(field);
        if (rows == null) {
            return null;
        }
        float[][] m = new float[rows.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[rows.get(i).size()];
            for (int d = 0; d < m[i].length; d++) {
                m[i][d] = rows.get(i).get(d).floatValue();
            }
        }
        return m;
    }

    private static MultiVector stored(VectorEncoding encoding, float[][] m) {
        return encoding.decode(new BytesRef(encoding.encode(m, m[0].length)));
    }

    private static QueryTokens queryTokens(String model, String text) {
        try (ModelLease lease = testRegistry().acquire(model)) {
            return new QueryTokens(lease.as(TokenEncoder.class, "test").encodeQuery(text).vectors());
        }
    }

    private static float[][] documentTokens(String model, String text) {
        try (ModelLease lease = testRegistry().acquire(model)) {
            return lease.as(TokenEncoder.class, "test").encodeDocuments(List.of(text)).get(0).vectors();
        }
    }

    /** All docs (match_all), their source, the given rescorer. */
    private SearchResponse search(RescorerBuilder<?> rescorer, boolean explain) {
        return coordinator().prepareSearch(INDEX)
            .setQuery(QueryBuilders.matchAllQuery())
            .setSize(20)
            .setExplain(explain)
            .addRescorer(rescorer)
            .get();
    }

    private static String describe(SearchHit[] hits) {
        StringBuilder sb = new StringBuilder();
        for (SearchHit h : hits) {
            sb.append(h.getId()).append('@').append(h.getShard() == null ? "?" : h.getShard().getShardId().id()).append('=').append(h.getScore()).append(' ');
        }
        return sb.toString();
    }

    /**
     * Hits without vectors rank after the scored hits of their own shard. Across shards the coordinator merges by
     * score, so one may still outrank a low-scored hit of another shard (as with any rescorer's unscored hits).
     */
    private static void assertUnscoredLastPerShard(SearchHit[] hits, String what) {
        Map<Integer, Boolean> seenUnscored = new HashMap<>();
        for (SearchHit h : hits) {
            int shard = h.getShard().getShardId().id();
            boolean scored = h.getId().matches("\\d");
            if (scored) {
                assertFalse(what + ": " + describe(hits), seenUnscored.getOrDefault(shard, false));
            } else {
                seenUnscored.put(shard, true);
            }
        }
    }

    private static void assertSorted(SearchHit[] hits) {
        for (int i = 1; i < hits.length; i++) {
            assertTrue(hits[i - 1].getScore() >= hits[i].getScore());
        }
    }

    public void testColbertScoresEqualMaxSimForEveryEncoding() throws Exception {
        indexDocs();
        QueryTokens q = queryTokens(MODEL, QUERY);
        for (Map.Entry<VectorEncoding, String> e : FIELDS.entrySet()) {
            LateInteractionRescorerBuilder rescorer = li(MODEL, e.getValue());
            rescorer.windowSize(50);
            SearchHit[] hits = search(rescorer, false).getHits().getHits();
            assertEquals(DOCS.length + 2, hits.length);
            assertSorted(hits);
            assertUnscoredLastPerShard(hits, e.getKey().jsonName());
            for (SearchHit hit : hits) {
                if (hit.getId().matches("\\d") == false) {
                    continue;
                }
                float[][] source = sourceVectors(hit, e.getValue());
                float want = LateInteraction.colbert(q, stored(e.getKey(), source));
                assertEquals(e + " doc " + hit.getId(), want, hit.getScore(), 1e-3f * Math.abs(want));
                // the same model run here on the doc's text: equal up to int8 dynamic quantization noise
                float fromModel = LateInteraction.colbert(q, stored(e.getKey(), documentTokens(MODEL, DOCS[Integer.parseInt(hit.getId())])));
                assertEquals(e + " doc " + hit.getId() + " vs the model", fromModel, hit.getScore(), 0.02f * Math.abs(fromModel));
            }
            if (e.getKey() == VectorEncoding.FLOAT) {
                assertEquals("the vaccines passage wins", "0", hits[0].getId());
            }
        }
    }

    public void testColbertModelEndToEnd() throws Exception {
        indexDocs();
        QueryTokens q = queryTokens(COLBERT, QUERY);
        assertEquals("[MASK] augmentation to query_max_length", 32, q.size());
        LateInteractionRescorerBuilder rescorer = li(COLBERT, "tok_colbert");
        rescorer.windowSize(50);
        SearchHit[] hits = search(rescorer, false).getHits().getHits();
        assertSorted(hits);
        for (int i = 0; i < DOCS.length; i++) {
            float[][] source = sourceVectors(hits[i], "tok_colbert");
            assertEquals(8, source[0].length);
            float want = LateInteraction.colbert(q, MultiVector.ofFloats(source));
            assertEquals(hits[i].getId(), want, hits[i].getScore(), 1e-3f * Math.abs(want));
            float fromModel = LateInteraction.colbert(q, MultiVector.ofFloats(documentTokens(COLBERT, DOCS[Integer.parseInt(hits[i].getId())])));
            assertEquals(hits[i].getId() + " vs the model", fromModel, hits[i].getScore(), 1e-3f * Math.abs(fromModel));
        }
    }

    public void testXtrScoresPerShardPool() throws Exception {
        indexDocs();
        QueryTokens q = queryTokens(MODEL, QUERY);
        for (Map.Entry<VectorEncoding, String> e : FIELDS.entrySet()) {
            int kPrime = randomIntBetween(1, 40);
            LateInteractionRescorerBuilder rescorer = li(MODEL, e.getValue()).scoring(Scoring.XTR).topKPrime(kPrime);
            rescorer.windowSize(50);
            SearchHit[] hits = search(rescorer, true).getHits().getHits();
            assertSorted(hits);
            // each shard's window is its pool: with match_all and a window above the shard's doc count, every doc
            // of the shard that has vectors
            Map<Integer, List<SearchHit>> byShard = new HashMap<>();
            for (SearchHit h : hits) {
                if (sourceVectors(h, e.getValue()) != null) {
                    byShard.computeIfAbsent(h.getShard().getShardId().id(), s -> new ArrayList<>()).add(h);
                }
            }
            int scored = 0;
            for (List<SearchHit> shardHits : byShard.values()) {
                MultiVector[] pool = new MultiVector[shardHits.size()];
                for (int i = 0; i < pool.length; i++) {
                    pool[i] = stored(e.getKey(), sourceVectors(shardHits.get(i), e.getValue()));
                }
                LateInteraction.Detail[] want = LateInteraction.xtr(q, pool, kPrime);
                for (int i = 0; i < pool.length; i++) {
                    SearchHit h = shardHits.get(i);
                    assertEquals(e + " k'=" + kPrime + " doc " + h.getId(), want[i].score(), h.getScore(), 1e-3f * Math.abs(want[i].score()));
                    // explain recomputes XTR in the fetch phase over the same per-shard pool (the rescored doc ids)
                    assertEquals(h.getScore(), h.getExplanation().getValue().floatValue(), 1e-4f * Math.abs(h.getScore()));
                    assertThat(h.getExplanation().toString(), containsString("xtr score: mean over " + q.size() + " query tokens"));
                    scored++;
                }
            }
            assertEquals(DOCS.length, scored);
        }
    }

    public void testQueryFormScoresEveryMatch() throws Exception {
        indexDocs();
        QueryTokens q = queryTokens(MODEL, QUERY);
        VectorEncoding encoding = randomFrom(VectorEncoding.values());
        String field = FIELDS.get(encoding);
        LateInteractionQueryBuilder query = new LateInteractionQueryBuilder(
            QueryBuilders.rangeQuery("year").gte(1999),
            MODEL,
            QUERY,
            null,
            field,
            nodeRegistry()
        );
        SearchResponse response = coordinator().prepareSearch(INDEX).setQuery(query).setSize(3).get();
        assertEquals("every match counts, not a window", DOCS.length + 1, response.getHits().getTotalHits().value());
        SearchHit[] hits = response.getHits().getHits();
        assertEquals(3, hits.length);
        assertSorted(hits);
        Map<String, Float> expected = new HashMap<>();
        SearchResponse all = coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).setSize(20).get();
        for (SearchHit h : all.getHits().getHits()) {
            float[][] source = sourceVectors(h, field);
            if (source != null) {
                expected.put(h.getId(), LateInteraction.colbert(q, stored(encoding, source)));
            }
        }
        for (SearchHit h : hits) {
            assertEquals(encoding + " " + h.getId(), expected.get(h.getId()), h.getScore(), 1e-3f * Math.abs(h.getScore()));
        }
        // weights and score modes apply as in the rescorer; a hit without vectors scores query_weight x inner score
        LateInteractionQueryBuilder total = new LateInteractionQueryBuilder(
            QueryBuilders.idsQuery().addIds("0", "novectors"),
            MODEL,
            QUERY,
            null,
            field,
            nodeRegistry()
        ).scoreMode(ScoreMode.TOTAL).weights(0.5f, 2f);
        SearchHit[] two = coordinator().prepareSearch(INDEX).setQuery(total).get().getHits().getHits();
        assertEquals(2, two.length);
        assertEquals("0", two[0].getId());
        assertEquals(0.5f * 1f + 2f * expected.get("0"), two[0].getScore(), 1e-3f * two[0].getScore());
        assertEquals("novectors", two[1].getId());
        assertEquals(0.5f, two[1].getScore(), 1e-6f);
    }

    public void testFallbackKeepOrEncode() throws Exception {
        indexDocs();
        QueryTokens q = queryTokens(MODEL, QUERY);
        VectorEncoding encoding = randomFrom(VectorEncoding.values());
        String field = FIELDS.get(encoding);

        LateInteractionRescorerBuilder keep = li(MODEL, field).missingVectors(MissingVectors.KEEP);
        keep.windowSize(50);
        SearchHit[] kept = search(keep, true).getHits().getHits();
        assertEquals(DOCS.length + 2, kept.length);
        assertUnscoredLastPerShard(kept, "keep");
        for (SearchHit h : kept) {
            if (h.getId().matches("\\d") == false) {
                assertThat(h.getExplanation().toString(), containsString("no vectors in field [" + field + "]"));
                assertThat(h.getExplanation().toString(), containsString("first-pass score kept"));
            }
        }

        LateInteractionRescorerBuilder encode = li(MODEL, field).missingVectors(MissingVectors.ENCODE).textFields(List.of("text"));
        encode.windowSize(50);
        SearchHit[] encoded = search(encode, false).getHits().getHits();
        assertEquals(DOCS.length + 2, encoded.length);
        float want = LateInteraction.colbert(q, stored(encoding, documentTokens(MODEL, "Vaccines and the immune system: an introduction.")));
        boolean found = false;
        for (SearchHit h : encoded) {
            if (h.getId().equals("novectors")) {
                found = true;
                assertEquals("encoded at query time: " + encoding, want, h.getScore(), 0.02f * Math.abs(want));
            }
            if (h.getId().equals("empty")) {
                // no text either: unscored, after every hit of its shard
                for (SearchHit o : encoded) {
                    if (o != h && o.getShard().getShardId().equals(h.getShard().getShardId())) {
                        assertTrue(describe(encoded), o.getScore() > h.getScore());
                    }
                }
            }
        }
        assertTrue("the doc without vectors is scored from its text", found);
    }

    public void testExplainShowsPerQueryTokenContributions() throws Exception {
        indexDocs();
        LateInteractionRescorerBuilder rescorer = li(MODEL, "tok_float").scoreMode(ScoreMode.TOTAL).queryWeight(0f);
        rescorer.windowSize(50);
        SearchHit top = search(rescorer, true).getHits().getHits()[0];
        String explanation = top.getExplanation().toString();
        assertEquals(top.getScore(), top.getExplanation().getValue().floatValue(), 1e-4f * top.getScore());
        assertThat(explanation, containsString("[late_interaction] model [" + MODEL + "], score_mode [total] of:"));
        assertThat(explanation, containsString("colbert maxsim: sum over 9 query tokens of the best document token similarity, field [tok_float] (float)"));
        // [CLS] how do vaccines train the immune system [SEP]: the five best tokens, each with the doc token it matched
        assertThat(explanation, containsString("query token [vaccines] -> document token #"));
        assertEquals(5, explanation.split("query token \\[").length - 1);
    }

    public void testQueryIsEncodedOncePerRequest() throws Exception {
        indexDocs();
        long before = queryEncodings();
        LateInteractionRescorerBuilder rescorer = li(MODEL, "tok_int8");
        rescorer.windowSize(50);
        search(rescorer, false);
        assertEquals("one encoding for 3 shards on 2 nodes", 1, queryEncodings() - before);
    }

    private long queryEncodings() {
        long n = 0;
        for (ModelRegistry r : internalCluster().getInstances(ModelRegistry.class)) {
            n += r.stats().get(StatName.QUERY_ENCODINGS);
        }
        return n;
    }

    public void testBadRequestsAreRejectedWithReasons() throws Exception {
        indexDocs();
        assertBadRequest(
            new LateInteractionRescorerBuilder(null, null, new float[][] { { 1f, 0f, 0f } }, "tok_float", nodeRegistry()),
            "[late_interaction] query vectors have dimension [3] but field [tok_float] has dimension [384]"
        );
        assertBadRequest(li(MODEL, "nope"), "[late_interaction] field [nope] is not mapped in index [li]");
        assertBadRequest(li(MODEL, "text"), "[late_interaction] field [text] is of type [text] in index [li], not [multi_vector]");
        assertBadRequest(
            li("tiny-ce", "tok_float"),
            "[late_interaction] model [tiny-ce] is a [cross_encoder] model, but [late_interaction] needs a [colbert] or [bi_encoder] model"
        );
        assertBadRequest(
            li(COLBERT, "tok_float"),
            "[late_interaction] field [tok_float] holds vectors of model [" + MODEL + "], but the clause uses model [" + COLBERT + "]"
        );
        assertBadRequest(li("no-such-model", "tok_float"), "unknown model [no-such-model]");
        assertBadRequest(
            li(MODEL, "tok_float").missingVectors(MissingVectors.ENCODE).textFields(List.of("year")),
            "[late_interaction] [text_fields] entry [year] is not a text field in index [li]"
        );
        // a field without a model in its mapping takes any model of the right dimension
        LateInteractionRescorerBuilder noModel = li(MODEL, "tok_nomodel");
        assertEquals(DOCS.length + 2, search(noModel, false).getHits().getHits().length);

        // the query form
        Exception e = expectThrows(
            Exception.class,
            () -> coordinator().prepareSearch(INDEX)
                .setQuery(new LateInteractionQueryBuilder(QueryBuilders.matchAllQuery(), MODEL, QUERY, null, "text", nodeRegistry()))
                .get()
        );
        assertStatusAndReason(e, "[late_interaction] field [text] is of type [text] in index [li], not [multi_vector]");
        e = expectThrows(
            Exception.class,
            () -> coordinator().prepareSearch(INDEX)
                .setQuery(new LateInteractionQueryBuilder(QueryBuilders.matchAllQuery(), "tiny-ce", QUERY, null, "tok_float", nodeRegistry()))
                .get()
        );
        assertStatusAndReason(
            e,
            "[late_interaction] model [tiny-ce] is a [cross_encoder] model, but [late_interaction] needs a [colbert] or [bi_encoder] model"
        );

        // index time: a vector of the wrong dimension, given directly
        e = expectThrows(
            Exception.class,
            () -> client().prepareIndex(INDEX).setPipeline("_none").setSource("tok_colbert", List.of(List.of(1, 2, 3))).get()
        );
        assertStatusAndReason(e, "field [tok_colbert]: token vector [0] has dimension [3], the mapping says [8]");
        // a pipeline with a model that cannot give token vectors
        e = expectThrows(
            Exception.class,
            () -> client().admin()
                .cluster()
                .preparePutPipeline(
                    "bad",
                    new BytesArray("{\"processors\": [{\"late_interaction\": {\"model\": \"tiny-ce\", \"field\": \"text\", \"target_field\": \"t\"}}]}"),
                    MediaTypeRegistry.JSON
                )
                .get()
        );
        assertStatusAndReason(e, "model [tiny-ce] is a [cross_encoder] model; [late_interaction] needs a [colbert] or [bi_encoder] model");
    }

    private static String causes(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }

    private void assertBadRequest(RescorerBuilder<?> rescorer, String reason) {
        Exception e = expectThrows(
            Exception.class,
            () -> coordinator().prepareSearch(INDEX).setQuery(QueryBuilders.matchAllQuery()).addRescorer(rescorer).get()
        );
        assertStatusAndReason(e, reason);
    }

    private static void assertStatusAndReason(Exception e, String reason) {
        RestStatus status = org.opensearch.ExceptionsHelper.status(e);
        assertEquals("status for " + reason + " was " + status + ": " + e, RestStatus.BAD_REQUEST, status);
        String detail = e instanceof SearchPhaseExecutionException spe && spe.shardFailures().length > 0
            ? spe.shardFailures()[0].reason()
            : causes(e);
        assertThat(detail, containsString(reason));
    }
}
