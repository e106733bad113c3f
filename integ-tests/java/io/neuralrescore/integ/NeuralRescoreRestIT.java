/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.integ;

import org.opensearch.client.Request;
import org.opensearch.client.Response;
import org.opensearch.client.ResponseException;
import org.opensearch.client.ResponseListener;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.test.rest.OpenSearchRestTestCase;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.neuralrescore.testing.TestModels;

/**
 * Java REST tests against a real node with the plugin zip installed: scores through {@code _search} on a 3-shard
 * index equal the reference scores computed outside the plugin, for every reference pair.
 */
public class NeuralRescoreRestIT extends OpenSearchRestTestCase {

    private Map<String, Object> call(String method, String path, String body) throws IOException {
        Request request = new Request(method, path);
        if (body != null) {
            request.setJsonEntity(body);
        }
        Response response = client().performRequest(request);
        try (InputStream in = response.getEntity().getContent()) {
            return XContentHelper.convertToMap(JsonXContent.jsonXContent, in, true);
        }
    }

    private static String json(Object value) {
        try {
            return org.opensearch.core.xcontent.XContentBuilder.builder(JsonXContent.jsonXContent).value(value).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public void testCrossEncoderScoresMatchReferenceOnThreeShards() throws Exception {
        call("PUT", "/ce_ref", "{\"settings\":{\"number_of_shards\":3,\"number_of_replicas\":0},\"mappings\":{\"properties\":{\"doc\":{\"type\":\"text\"}}}}");
        List<Map<String, String>> rows = TestModels.expected("tiny-ce");
        StringBuilder bulk = new StringBuilder();
        Map<String, List<Map<String, String>>> byQuery = new LinkedHashMap<>();
        for (Map<String, String> row : rows) {
            bulk.append("{\"index\":{\"_index\":\"ce_ref\",\"_id\":\"").append(row.get("id")).append("\"}}\n");
            bulk.append("{\"doc\":").append(json(row.get("document"))).append("}\n");
            byQuery.computeIfAbsent(row.get("query"), q -> new ArrayList<>()).add(row);
        }
        Request bulkRequest = new Request("POST", "/_bulk?refresh=true");
        bulkRequest.setJsonEntity(bulk.toString());
        client().performRequest(bulkRequest);
        int checked = 0;
        for (Map.Entry<String, List<Map<String, String>>> e : byQuery.entrySet()) {
            List<String> ids = e.getValue().stream().map(r -> r.get("id")).toList();
            String body = "{\"size\":50,\"query\":{\"ids\":{\"values\":"
                + json(ids)
                + "}},\"rescore\":{\"window_size\":50,\"cross_encoder\":{\"model\":\"tiny-ce\",\"query_text\":"
                + json(e.getKey())
                + ",\"fields\":[\"doc\"]}}}";
            Map<String, Object> response = call("POST", "/ce_ref/_search", body);
            List<Map<String, Object>> hits = (List<Map<String, Object>>) ((Map<String, Object>) response.get("hits")).get("hits");
            assertEquals(ids.size(), hits.size());
            double previous = Double.POSITIVE_INFINITY;
            for (Map<String, Object> hit : hits) {
                Map<String, String> row = rows.stream().filter(r -> r.get("id").equals(hit.get("_id"))).findFirst().orElseThrow();
                double score = ((Number) hit.get("_score")).doubleValue();
                assertEquals("row " + row.get("id"), Double.parseDouble(row.get("score")), score, 1e-4);
                assertTrue("sorted by score", score <= previous);
                previous = score;
                checked++;
            }
        }
        assertEquals(rows.size(), checked);
    }

    @SuppressWarnings("unchecked")
    public void testModelsEndpointShowsLoadedModelAndDevice() throws Exception {
        call("PUT", "/load_me", "{\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\"}}}}");
        call("PUT", "/load_me/_doc/1?refresh=true", "{\"t\":\"hello\"}");
        call(
            "POST",
            "/load_me/_search",
            "{\"rescore\":{\"text_embedding\":{\"model\":\"all-minilm-l6-v2\",\"query_text\":\"hi\",\"fields\":[\"t\"]}}}"
        );
        Map<String, Object> models = (Map<String, Object>) call("GET", "/_plugins/neural_rescore/models", null).get("models");
        Map<String, Object> minilm = (Map<String, Object>) models.get("all-minilm-l6-v2");
        assertEquals(Boolean.TRUE, minilm.get("loaded"));
        assertEquals("cpu", minilm.get("device"));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Double> scoresById(String index, String rescore) throws IOException {
        Map<String, Object> response = call("POST", "/" + index + "/_search", "{\"size\":10,\"query\":{\"match_all\":{}},\"rescore\":" + rescore + "}");
        List<Map<String, Object>> hits = (List<Map<String, Object>>) ((Map<String, Object>) response.get("hits")).get("hits");
        Map<String, Double> out = new LinkedHashMap<>();
        double previous = Double.POSITIVE_INFINITY;
        for (Map<String, Object> hit : hits) {
            double score = ((Number) hit.get("_score")).doubleValue();
            assertTrue("sorted by score", score <= previous);
            previous = score;
            out.put((String) hit.get("_id"), score);
        }
        return out;
    }

    /**
     * Two clauses in sequence (the bi-encoder, then a shipped cross-encoder adding its logit to 5 x the cosine), the
     * hybrid measured in models/STATUS.md row 3w: every hit's score is the sum of the two single-clause scores.
     */
    public void testChainedBiEncoderThenCrossEncoderAddsWeightedScores() throws Exception {
        call("PUT", "/chain", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\"}}}}");
        Request bulk = new Request("POST", "/_bulk?refresh=true");
        bulk.setJsonEntity(
            "{\"index\":{\"_index\":\"chain\",\"_id\":\"vaccines\"}}\n{\"t\":\"Vaccines train the immune system to recognise a pathogen without causing disease.\"}\n"
                + "{\"index\":{\"_index\":\"chain\",\"_id\":\"bananas\"}}\n{\"t\":\"Bananas are rich in potassium and are eaten all over the world.\"}\n"
                + "{\"index\":{\"_index\":\"chain\",\"_id\":\"flu\"}}\n{\"t\":\"A yearly flu shot lowers the risk of catching influenza.\"}\n"
        );
        client().performRequest(bulk);
        String q = "how do vaccines protect us from disease";
        String bi = "{\"window_size\":10,\"text_embedding\":{\"model\":\"all-minilm-l6-v2\",\"query_text\":\"" + q + "\",\"fields\":[\"t\"]}}";
        String ce = "{\"window_size\":10,\"cross_encoder\":{\"model\":\"minilm-ce-v3\",\"query_text\":\"" + q
            + "\",\"fields\":[\"t\"],\"max_length\":256%s}}";
        Map<String, Double> cosine = scoresById("chain", "[" + bi + "]");
        Map<String, Double> logit = scoresById("chain", "[" + String.format(java.util.Locale.ROOT, ce, "") + "]");
        Map<String, Double> chained = scoresById(
            "chain",
            "[" + bi + "," + String.format(java.util.Locale.ROOT, ce, ",\"score_mode\":\"total\",\"query_weight\":5.0,\"rescore_weight\":1.0") + "]"
        );
        assertEquals(3, chained.size());
        for (Map.Entry<String, Double> e : chained.entrySet()) {
            double expected = logit.get(e.getKey()) + 5.0 * cosine.get(e.getKey());
            assertEquals(e.getKey(), expected, e.getValue(), 1e-3 * Math.max(1.0, Math.abs(expected)));
        }
        assertTrue("the cosine term is not negligible", Math.abs(5.0 * cosine.get("vaccines")) > 0.5);
    }

    /**
     * A bi-encoder manifest's query_prefix / document_prefix (tiny-bi-e5: tiny-bi's graph with "query: " /
     * "passage: ", built by integ-tests/run.sh) reach the model on a real node: its scores equal those of the plain
     * graph given the prefixed texts, and differ from the unprefixed ones.
     */
    public void testBiEncoderPrefixesReachTheModel() throws Exception {
        call("PUT", "/prefixes", "{\"settings\":{\"number_of_shards\":2,\"number_of_replicas\":0},\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\"},\"tp\":{\"type\":\"text\"}}}}");
        String[] docs = { "Vaccines train the immune system.", "Bananas are rich in potassium.", "A yearly flu shot lowers risk." };
        StringBuilder bulk = new StringBuilder();
        for (int i = 0; i < docs.length; i++) {
            bulk.append("{\"index\":{\"_index\":\"prefixes\",\"_id\":\"").append(i).append("\"}}\n");
            bulk.append("{\"t\":").append(json(docs[i])).append(",\"tp\":").append(json("passage: " + docs[i])).append("}\n");
        }
        Request request = new Request("POST", "/_bulk?refresh=true");
        request.setJsonEntity(bulk.toString());
        client().performRequest(request);
        String clause = "[{\"window_size\":10,\"text_embedding\":{\"model\":\"%s\",\"query_text\":%s,\"fields\":[\"%s\"]}}]";
        String q = "how do vaccines work";
        Map<String, Double> prefixed = scoresById("prefixes", String.format(java.util.Locale.ROOT, clause, "tiny-bi-e5", json(q), "t"));
        Map<String, Double> byHand = scoresById("prefixes", String.format(java.util.Locale.ROOT, clause, "tiny-bi", json("query: " + q), "tp"));
        Map<String, Double> plain = scoresById("prefixes", String.format(java.util.Locale.ROOT, clause, "tiny-bi", json(q), "t"));
        assertEquals(docs.length, prefixed.size());
        double moved = 0;
        for (Map.Entry<String, Double> e : prefixed.entrySet()) {
            assertEquals("doc " + e.getKey(), byHand.get(e.getKey()), e.getValue(), 1e-5);
            moved = Math.max(moved, Math.abs(plain.get(e.getKey()) - e.getValue()));
        }
        assertTrue("the prefixes change the scores: " + moved, moved > 1e-3);
    }

    private long inferenceSequences() throws IOException {
        Map<?, ?> stats = (Map<?, ?>) call("GET", "/_plugins/neural_rescore/stats", null).get("stats");
        return ((Number) stats.get("inference_sequences")).longValue();
    }

    /**
     * Cancelling a search (here through the tasks API, as a client disconnect or a coordinator cancel would) stops
     * its cross-encoder rescoring before the remaining batches: the node scores far fewer pairs than the window, and
     * the search reports the cancellation.
     */
    public void testCancelledSearchStopsRescoringBetweenBatches() throws Exception {
        int docs = 600;
        call("PUT", "/cancel_me", "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\"}}}}");
        StringBuilder bulk = new StringBuilder();
        for (int i = 0; i < docs; i++) {
            bulk.append("{\"index\":{\"_index\":\"cancel_me\",\"_id\":\"").append(i).append("\"}}\n");
            bulk.append("{\"t\":\"Passage ").append(i).append(": vaccines train the immune system to recognise a pathogen, ")
                .append("while bananas are rich in potassium and a yearly flu shot lowers the risk of influenza for ")
                .append(i % 7).append(" out of ten people in trial ").append(i).append(".\"}\n");
        }
        Request bulkRequest = new Request("POST", "/_bulk?refresh=true");
        bulkRequest.setJsonEntity(bulk.toString());
        client().performRequest(bulkRequest);
        long before = inferenceSequences();

        Request search = new Request("POST", "/cancel_me/_search");
        search.setJsonEntity(
            "{\"size\":10,\"query\":{\"match_all\":{}},\"rescore\":{\"window_size\":" + docs
                + ",\"cross_encoder\":{\"model\":\"minilm-ce-v3\",\"query_text\":\"how do vaccines protect us\",\"fields\":[\"t\"]}}}"
        );
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        client().performRequestAsync(search, new ResponseListener() {
            @Override
            public void onSuccess(Response response) {
                outcome.complete(response);
            }

            @Override
            public void onFailure(Exception exception) {
                outcome.complete(exception);
            }
        });
        // wait until the shard is rescoring (its first batches are counted), then cancel the search
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (inferenceSequences() == before && outcome.isDone() == false && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse("the search finished before it could be cancelled", outcome.isDone());
        call("POST", "/_tasks/_cancel?actions=indices:data/read/search", null);
        Object result = outcome.get(60, TimeUnit.SECONDS);
        assertTrue("a cancelled search fails, got " + result, result instanceof ResponseException);
        assertTrue(((Exception) result).getMessage(), ((Exception) result).getMessage().contains("cancelled"));
        long scored = inferenceSequences() - before;
        assertTrue("pairs scored after the cancellation should be skipped: " + scored + " of " + docs, scored < docs / 2);
    }

    public void testBadClauseIsBadRequest() throws Exception {
        call("PUT", "/bad", "{\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\"}}}}");
        ResponseException e = expectThrows(
            ResponseException.class,
            () -> call("POST", "/bad/_search", "{\"rescore\":{\"cross_encoder\":{\"model\":\"tiny-ce\",\"query_text\":\"x\",\"fields\":[]}}}")
        );
        assertEquals(400, e.getResponse().getStatusLine().getStatusCode());
        assertTrue(e.getMessage(), e.getMessage().contains("[cross_encoder] requires at least one field in [fields]"));
    }
}
