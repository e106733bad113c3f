/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.opensearch.client.Request;
import org.opensearch.client.Response;
import org.opensearch.client.ResponseException;
import org.opensearch.client.RestClient;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.xcontent.XContentBuilder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * End-to-end cost of Cosine Adapter filtering through {@code _search} on a running node, beyond the query encoding:
 * the same BM25 search with and without {@code cosine_filter} (window 100 and 1000, {@code drop} and
 * {@code demote}) and wrapped in {@code relevance_filter}, with the query embedding passed as {@code query_vector}
 * so that no model runs. One shard, so a window of 1000 is 1000 candidates. Variants run interleaved, in a shuffled
 * order each round; the cost of a variant is the median over rounds of its latency minus the plain search's latency
 * in the same round. Needs the adapter {@code test-adapter} on the node (models/test/test-adapter).
 * <pre>
 * java ... io.neuralrescore.bench.CosineFilterSearchBench --url http://127.0.0.1:9603 --out results/cosine-filter
 *     [--docs 10000] [--encodings float,int8] [--warmup 50] [--rounds 300]
 * </pre>
 */
public final class CosineFilterSearchBench {
    private static final int DIM = 384;
    private static final String ADAPTER = "test-adapter";
    private static final String MODEL = "all-minilm-l6-v2";
    private static final String[] WORDS = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon" };

    private final RestClient client;
    private final String url;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final Random random = new Random(42);

    private CosineFilterSearchBench(RestClient client, String url) {
        this.client = client;
        this.url = url;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>(Map.of("--url", "http://127.0.0.1:9603", "--out", "results/cosine-filter", "--docs",
            "10000", "--encodings", "float,int8", "--warmup", "50", "--rounds", "300", "--threshold", "0.5"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (opts.containsKey(args[i]) == false) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + opts.keySet());
            }
            opts.put(args[i], args[i + 1]);
        }
        try (RestClient client = RestClient.builder(HttpHost.create(opts.get("--url"))).build()) {
            new CosineFilterSearchBench(client, opts.get("--url")).run(opts);
        }
    }

    private Map<String, Object> call(String method, String path, String body) throws IOException {
        Request request = new Request(method, path);
        if (body != null) {
            request.setJsonEntity(body);
        }
        return parse(client.performRequest(request));
    }

    private static Map<String, Object> parse(Response response) throws IOException {
        return XContentHelper.convertToMap(JsonXContent.jsonXContent, entity(response), false);
    }

    private static String entity(Response response) throws IOException {
        try {
            return EntityUtils.toString(response.getEntity());
        } catch (org.apache.hc.core5.http.ParseException e) {
            throw new IOException(e);
        }
    }

    private static float[] unit(float[] v) {
        double n = 0;
        for (float x : v) {
            n += x * x;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / Math.sqrt(n));
        }
        return out;
    }

    private float[] gaussian() {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static String json(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.5f", v[i]));
        }
        return sb.append(']').toString();
    }

    /** {@code docs} documents whose embeddings have cosines with {@code q} spread over [-0.2, 0.8], and BM25 text. */
    private void index(String index, String encoding, float[] q, int docs) throws IOException {
        try {
            call("DELETE", "/" + index, null);
        } catch (ResponseException e) {
            // absent
        }
        call("PUT", "/" + index, "{\"settings\": {\"number_of_shards\": 1, \"number_of_replicas\": 0, \"refresh_interval\": -1},"
            + " \"mappings\": {\"properties\": {\"text\": {\"type\": \"text\"}, \"emb\": {\"type\": \"multi_vector\", \"dims\": " + DIM
            + ", \"encoding\": \"" + encoding + "\", \"model\": \"" + MODEL + "\"}}}}");
        int batch = 500;
        for (int start = 0; start < docs; start += batch) {
            StringBuilder bulk = new StringBuilder();
            for (int i = start; i < Math.min(docs, start + batch); i++) {
                float c = -0.2f + random.nextFloat();
                float[] u = gaussian();
                double dot = 0;
                for (int d = 0; d < DIM; d++) {
                    dot += u[d] * q[d];
                }
                for (int d = 0; d < DIM; d++) {
                    u[d] -= (float) (dot * q[d]);
                }
                u = unit(u);
                float s = (float) Math.sqrt(1 - c * c);
                float[] v = new float[DIM];
                for (int d = 0; d < DIM; d++) {
                    v[d] = c * q[d] + s * u[d];
                }
                StringBuilder text = new StringBuilder("common");
                for (int w = 0; w < 1 + random.nextInt(6); w++) {
                    text.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
                }
                bulk.append("{\"index\": {\"_id\": \"").append(i).append("\"}}\n");
                bulk.append("{\"text\": \"").append(text).append("\", \"emb\": ").append(json(v)).append("}\n");
            }
            Request request = new Request("POST", "/" + index + "/_bulk");
            request.setJsonEntity(bulk.toString());
            Map<String, Object> r = parse(client.performRequest(request));
            if (Boolean.TRUE.equals(r.get("errors"))) {
                throw new IllegalStateException("bulk errors: " + r.toString().substring(0, 500));
            }
        }
        call("POST", "/" + index + "/_refresh", null);
        call("POST", "/" + index + "/_forcemerge?max_num_segments=4", null);
        call("PUT", "/" + index + "/_settings", "{\"index\": {\"refresh_interval\": \"1s\"}}");
    }

    /**
     * The timed requests go through the JDK's HTTP client: with the low-level REST client, request bodies of a few KB
     * (a 384-d query vector) came back ~40 ms later than small ones whatever the server did (server {@code took}
     * unchanged), a transport artifact that would swamp the cost measured here.
     */
    private String timedSearch(String index, String body) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/" + index + "/_search"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("search failed: " + response.body());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private record Variant(String name, String body) {}

    private static final String FIRST_PASS = "{\"match\": {\"text\": \"common alpha beta\"}}";

    private static List<Variant> variants(float[] q, float threshold) {
        String qv = json(q);
        List<Variant> out = new ArrayList<>();
        out.add(new Variant("plain search (no rescore)", "{\"size\": 10, \"query\": " + FIRST_PASS + "}"));
        for (int window : new int[] { 100, 1000 }) {
            for (String action : new String[] { "drop", "demote" }) {
                out.add(
                    new Variant(
                        "cosine_filter window " + window + ", " + action,
                        "{\"size\": 10, \"query\": " + FIRST_PASS + ", \"rescore\": {\"window_size\": " + window
                            + ", \"cosine_filter\": {\"adapter\": \"" + ADAPTER + "\", \"query_vector\": " + qv
                            + ", \"field\": \"emb\", \"threshold\": " + threshold + ", \"action\": \"" + action + "\"}}}"
                    )
                );
            }
        }
        out.add(
            new Variant(
                "relevance_filter around the search",
                "{\"size\": 10, \"query\": {\"relevance_filter\": {\"query\": " + FIRST_PASS + ", \"adapter\": \"" + ADAPTER
                    + "\", \"query_vector\": " + qv + ", \"field\": \"emb\", \"threshold\": " + threshold + "}}}"
            )
        );
        return out;
    }

    private void run(Map<String, String> opts) throws IOException {
        int docs = Integer.parseInt(opts.get("--docs"));
        int warmup = Integer.parseInt(opts.get("--warmup"));
        int rounds = Integer.parseInt(opts.get("--rounds"));
        float threshold = Float.parseFloat(opts.get("--threshold"));
        Path out = Path.of(opts.get("--out"));
        Files.createDirectories(out);
        Map<String, Object> info = call("GET", "/", null);
        Map<String, Object> nodes = call("GET", "/_nodes/os,jvm", null);
        float[] q = unit(gaussian());
        Map<String, Map<String, Object>> summary = new LinkedHashMap<>();
        StringBuilder md = new StringBuilder();
        md.append("## End to end through `_search`\n\n");
        md.append(String.format(Locale.ROOT,
            "Node: OpenSearch %s at %s, %s. One index per encoding: 1 shard, %d documents with a %d-d `multi_vector` embedding "
                + "(cosines with the query spread uniformly over [-0.2, 0.8]) and a short text; force-merged to at most 4 segments. "
                + "First pass: BM25 `match` on the text, matching every document. `size` 10. Query embedding passed as `query_vector` "
                + "(no model runs). Adapter `%s` (384 -> 8 relu -> 2, linear_sigmoid), threshold %s. %d warm-up rounds, then %d "
                + "rounds; each round runs every variant once, in a shuffled order. Latency: client-side wall time of the HTTP "
                + "request on the same host (JDK HTTP client, keep-alive), and the server's `took`. Cost: median over rounds of (variant - plain search) in the same round.\n\n",
            ((Map<?, ?>) info.get("version")).get("number"), opts.get("--url"), describe(nodes), docs, DIM, ADAPTER, threshold, warmup,
            rounds));
        for (String encoding : opts.get("--encodings").split(",")) {
            String index = "cf-bench-" + encoding;
            long t0 = System.nanoTime();
            index(index, encoding, q, docs);
            System.out.printf(Locale.ROOT, "indexed %d docs into %s in %.1f s%n", docs, index, (System.nanoTime() - t0) / 1e9);
            List<Variant> variants = variants(q, threshold);
            Map<String, double[]> ms = new LinkedHashMap<>();
            Map<String, double[]> took = new LinkedHashMap<>();
            Map<String, Object> hitsInfo = new LinkedHashMap<>();
            for (Variant v : variants) {
                ms.put(v.name, new double[rounds]);
                took.put(v.name, new double[rounds]);
                Map<String, Object> r = call("POST", "/" + index + "/_search", v.body);
                Map<?, ?> hits = (Map<?, ?>) r.get("hits");
                hitsInfo.put(v.name, ((Map<?, ?>) hits.get("total")).get("value") + " total, " + ((List<?>) hits.get("hits")).size() + " returned");
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < variants.size(); i++) {
                order.add(i);
            }
            for (int round = -warmup; round < rounds; round++) {
                Collections.shuffle(order, random);
                for (int i : order) {
                    Variant v = variants.get(i);
                    long start = System.nanoTime();
                    String body = timedSearch(index, v.body);
                    double elapsed = (System.nanoTime() - start) / 1e6;
                    if (round >= 0) {
                        ms.get(v.name)[round] = elapsed;
                        took.get(v.name)[round] = ((Number) XContentHelper.convertToMap(JsonXContent.jsonXContent, body, false).get("took"))
                            .doubleValue();
                    }
                }
            }
            double[] base = ms.get(variants.get(0).name);
            double[] baseTook = took.get(variants.get(0).name);
            md.append("### `multi_vector` encoding `").append(encoding).append("`\n\n");
            md.append("| variant | candidates | hits | wall p50 ms | wall p90 ms | server took, mean ms | cost: p50 of paired wall diff (ms) "
                + "| cost: mean of paired took diff (ms) | cost per 1,000 candidates, wall / took (ms) |\n");
            md.append("|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
            for (Variant v : variants) {
                double[] x = ms.get(v.name);
                double[] t = took.get(v.name);
                double[] diff = new double[rounds];
                double[] tookDiff = new double[rounds];
                for (int i = 0; i < rounds; i++) {
                    diff[i] = x[i] - base[i];
                    tookDiff[i] = t[i] - baseTook[i];
                }
                int candidates = v.name.contains("window 1000") ? 1000 : v.name.contains("window 100") ? 100 : v.name.startsWith("relevance") ? docs : 0;
                double cost = percentile(diff, 50);
                double tookCost = mean(tookDiff);
                boolean isBase = v == variants.get(0);
                if (isBase == false) {
                    summary.computeIfAbsent(encoding, e -> new LinkedHashMap<>())
                        .put(v.name, Map.of("candidates", candidates, "wall_p50_diff_ms", cost, "took_mean_diff_ms", tookCost));
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f | %.2f | %s | %s | %s |%n", v.name,
                    candidates == 0 ? "-" : candidates, hitsInfo.get(v.name), percentile(x, 50), percentile(x, 90), mean(t),
                    isBase ? "-" : String.format(Locale.ROOT, "%+.2f", cost), isBase ? "-" : String.format(Locale.ROOT, "%+.2f", tookCost),
                    candidates == 0 ? "-" : String.format(Locale.ROOT, "%.2f / %.2f", cost * 1000 / candidates, tookCost * 1000 / candidates)));
            }
            md.append('\n');
            call("DELETE", "/" + index, null);
        }
        Files.writeString(out.resolve("e2e.md"), md.toString(), StandardCharsets.UTF_8);
        XContentBuilder json = JsonXContent.contentBuilder().prettyPrint().map(Map.of("docs", docs, "rounds", rounds, "costs", summary));
        Files.writeString(out.resolve("e2e.json"), BytesReference.bytes(json).utf8ToString(), StandardCharsets.UTF_8);
        System.out.print(md);
    }

    private static String describe(Map<String, Object> nodes) {
        Map<?, ?> all = (Map<?, ?>) nodes.get("nodes");
        Map<?, ?> node = (Map<?, ?>) all.values().iterator().next();
        Map<?, ?> os = (Map<?, ?>) node.get("os");
        Map<?, ?> jvm = (Map<?, ?>) node.get("jvm");
        Map<?, ?> mem = (Map<?, ?>) jvm.get("mem");
        return String.format(Locale.ROOT, "%s processors, JVM %s %s, heap max %s MB", os.get("allocated_processors"), jvm.get("vm_name"),
            jvm.get("version"), ((Number) mem.get("heap_max_in_bytes")).longValue() >> 20);
    }

    static double percentile(double[] x, double pct) {
        double[] s = x.clone();
        Arrays.sort(s);
        int i = (int) Math.ceil(pct / 100 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))];
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }
}
