/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.LateInteractionField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.LateInteractionRescorer;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.rescore.LateInteractionContext;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder.Scoring;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.testing.TestModels;

/**
 * In-process side-by-side of late-interaction rescoring over stored token vectors, on a real corpus encoded with the
 * plugin's own token encoder (zero-shot MiniLM by default):
 * <ul>
 * <li>Lucene's {@link LateInteractionRescorer} over {@link LateInteractionField} (float32; DOT_PRODUCT, i.e.
 * {@code (1 + dot) / 2} per token);</li>
 * <li>the plugin's shard-level rescorer ({@link io.neuralrescore.rescore.LateInteractionRescorer}, the code a shard
 * runs: doc-values reads, decode, MaxSim or XTR, ordering) over the same float field, which is byte for byte the
 * Lucene field, and over {@code float16}, {@code int8} and {@code bit} copies of it;</li>
 * <li>storage: one index per encoding holding only that field, force-merged, bytes on disk per document and per
 * token, next to {@link VectorEncoding#bytesPerToken}.</li>
 * </ul>
 * Each window is a random set of {@code window} documents with decreasing first-pass scores; methods run round-robin
 * per query after a warm-up, single-threaded. Writes a JSON file; {@code harness/late_interaction_bench.py} puts it in
 * the report next to the node-side numbers.
 *
 * <pre>
 * LateInteractionBench --corpus DIR --docs 1100 --queries 30 --windows 100,1000 --rounds 3 --work DIR --out FILE.json
 * </pre>
 */
public final class LateInteractionBench {
    private LateInteractionBench() {}

    private static final Map<VectorEncoding, String> FIELDS = new LinkedHashMap<>();
    static {
        FIELDS.put(VectorEncoding.FLOAT, "tok_float");
        FIELDS.put(VectorEncoding.FLOAT16, "tok_float16");
        FIELDS.put(VectorEncoding.INT8, "tok_int8");
        FIELDS.put(VectorEncoding.BIT, "tok_bit");
    }

    public static void main(String[] args) throws Exception {
        // ONNX Runtime's JNI load needs more stack than the launcher's main thread has
        Throwable[] failure = new Throwable[1];
        Thread worker = new Thread(null, () -> {
            try {
                run(args);
            } catch (Throwable t) {
                failure[0] = t;
            }
        }, "li-bench", 64L << 20);
        worker.start();
        worker.join();
        if (failure[0] != null) {
            failure[0].printStackTrace();
            System.exit(1);
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--") == false || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad arguments " + Arrays.toString(args));
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }

    private static void log(String fmt, Object... args) {
        System.err.printf(Locale.ROOT, fmt + "%n", args);
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        Path corpus = Path.of(o.getOrDefault("corpus", "/work/shared/data/scifact"));
        int docs = Integer.parseInt(o.getOrDefault("docs", "1100"));
        int queries = Integer.parseInt(o.getOrDefault("queries", "30"));
        int[] windows = Arrays.stream(o.getOrDefault("windows", "100,1000").split(",")).mapToInt(Integer::parseInt).toArray();
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "3"));
        int kPrime = Integer.parseInt(o.getOrDefault("top-k-prime", "1000"));
        String model = o.getOrDefault("model", "all-minilm-l6-v2");
        Path work = Path.of(o.getOrDefault("work", "/tmp/li-bench"));
        Path out = Path.of(o.getOrDefault("out", work.resolve("java-bench.json").toString()));
        Files.createDirectories(work);

        List<String> texts = readCorpus(corpus.resolve("corpus.jsonl"), docs);
        List<String> queryTexts = readQueries(corpus.resolve("queries.jsonl"), queries);
        Path cache = work.resolve("vectors-" + model + "-" + corpus.getFileName() + "-" + texts.size() + ".bin");
        float[][][] vectors;
        float[][][] queryVectors = new float[queryTexts.size()][][];
        try (ModelRegistry registry = TestModels.registry(new BatchLimits(8192, 32)); ModelLease lease = registry.acquire(model)) {
            TokenEncoder encoder = lease.as(TokenEncoder.class, "bench");
            if (Files.exists(cache)) {
                vectors = readVectors(cache);
                log("read %d documents' token vectors from %s", vectors.length, cache);
            } else {
                vectors = new float[texts.size()][][];
                long t0 = System.nanoTime();
                for (int from = 0; from < texts.size(); from += 32) {
                    List<TokenEncoder.TokenVectors> enc = encoder.encodeDocuments(texts.subList(from, Math.min(texts.size(), from + 32)));
                    for (int i = 0; i < enc.size(); i++) {
                        vectors[from + i] = enc.get(i).vectors();
                    }
                    log("  encoded %d/%d documents [%.0f s]", Math.min(texts.size(), from + 32), texts.size(), (System.nanoTime() - t0) / 1e9);
                }
                writeVectors(cache, vectors);
            }
            for (int i = 0; i < queryTexts.size(); i++) {
                queryVectors[i] = encoder.encodeQuery(queryTexts.get(i)).vectors();
            }
        }
        int dims = vectors[0][0].length;
        long tokens = Arrays.stream(vectors).mapToLong(m -> m.length).sum();
        double tokensPerDoc = (double) tokens / vectors.length;
        double queryTokens = Arrays.stream(queryVectors).mapToInt(q -> q.length).average().orElse(0);
        log("%d docs, %.1f tokens/doc, dims %d; %d queries, %.1f tokens/query", vectors.length, tokensPerDoc, dims, queryVectors.length, queryTokens);

        Map<String, Object> result = new LinkedHashMap<>();
        Map<String, Object> conditions = new LinkedHashMap<>();
        conditions.put("corpus", corpus.toString());
        conditions.put("docs", vectors.length);
        conditions.put("tokens_per_doc", tokensPerDoc);
        conditions.put("dims", dims);
        conditions.put("queries", queryVectors.length);
        conditions.put("tokens_per_query", queryTokens);
        conditions.put("model", model);
        conditions.put("rounds", rounds);
        conditions.put("xtr_top_k_prime", kPrime);
        conditions.put("java", System.getProperty("java.version"));
        conditions.put("vector_module", ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        conditions.put("load_average_start", loadAverage());
        result.put("conditions", conditions);
        result.put("storage", storage(work, vectors, dims));

        Path indexPath = work.resolve("index-all");
        deleteTree(indexPath);
        try (Directory dir = FSDirectory.open(indexPath)) {
            try (IndexWriter w = new IndexWriter(dir, new IndexWriterConfig())) {
                for (float[][] m : vectors) {
                    Document d = new Document();
                    d.add(new LateInteractionField(FIELDS.get(VectorEncoding.FLOAT), m));
                    for (Map.Entry<VectorEncoding, String> e : FIELDS.entrySet()) {
                        if (e.getKey() != VectorEncoding.FLOAT) {
                            d.add(new BinaryDocValuesField(e.getValue(), new BytesRef(e.getKey().encode(m, dims))));
                        }
                    }
                    w.addDocument(d);
                }
                w.forceMerge(1);
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                IndexSearcher searcher = new IndexSearcher(reader);
                List<Map<String, Object>> timings = new ArrayList<>();
                for (int window : windows) {
                    if (window > vectors.length) {
                        log("skipping window %d: only %d docs", window, vectors.length);
                        continue;
                    }
                    timings.addAll(time(searcher, queryVectors, window, rounds, kPrime));
                }
                result.put("timings", timings);
                result.put("agreement", agreement(searcher, queryVectors, Math.min(100, vectors.length)));
            }
        }
        conditions.put("load_average_end", loadAverage());
        Files.writeString(out, toJson(result), StandardCharsets.UTF_8);
        log("wrote %s", out);
    }

    // ---- timing ------------------------------------------------------------------------------------------------

    private interface Method {
        TopDocs rescore(TopDocs in, float[][] query) throws IOException;
    }

    private static TopDocs window(int maxDoc, int window, Random r) {
        int[] perm = new int[maxDoc];
        for (int i = 0; i < maxDoc; i++) {
            perm[i] = i;
        }
        for (int i = maxDoc - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        ScoreDoc[] sd = new ScoreDoc[window];
        for (int i = 0; i < window; i++) {
            sd[i] = new ScoreDoc(perm[i], window - i);
        }
        return new TopDocs(new TotalHits(window, TotalHits.Relation.EQUAL_TO), sd);
    }

    private static TopDocs copy(TopDocs td) {
        ScoreDoc[] sd = new ScoreDoc[td.scoreDocs.length];
        for (int i = 0; i < sd.length; i++) {
            sd[i] = new ScoreDoc(td.scoreDocs[i].doc, td.scoreDocs[i].score);
        }
        return new TopDocs(td.totalHits, sd);
    }

    private static LateInteractionContext context(int window, VectorEncoding encoding, Scoring scoring, int kPrime, float[][] query) {
        return new LateInteractionContext(
            window,
            new LateInteractionContext.Options(FIELDS.get(encoding), encoding, scoring, kPrime, ScoreMode.REPLACE, 1f, 1f, null, null),
            new QueryTokens(query),
            null,
            null,
            List.of(),
            new RescoreStats()
        );
    }

    private static Map<String, Method> methods(IndexSearcher searcher, int window, int kPrime) {
        Map<String, Method> m = new LinkedHashMap<>();
        m.put(
            "lucene LateInteractionRescorer, float",
            (in, q) -> LateInteractionRescorer.create(FIELDS.get(VectorEncoding.FLOAT), q, VectorSimilarityFunction.DOT_PRODUCT)
                .rescore(searcher, in, window)
        );
        for (VectorEncoding e : FIELDS.keySet()) {
            m.put(
                "plugin colbert, " + e.jsonName(),
                (in, q) -> io.neuralrescore.rescore.LateInteractionRescorer.INSTANCE.rescore(in, searcher, context(window, e, Scoring.COLBERT, kPrime, q))
            );
        }
        for (VectorEncoding e : FIELDS.keySet()) {
            m.put(
                "plugin xtr k'=" + kPrime + ", " + e.jsonName(),
                (in, q) -> io.neuralrescore.rescore.LateInteractionRescorer.INSTANCE.rescore(in, searcher, context(window, e, Scoring.XTR, kPrime, q))
            );
        }
        return m;
    }

    private static List<Map<String, Object>> time(IndexSearcher searcher, float[][][] queries, int window, int rounds, int kPrime)
        throws IOException {
        int maxDoc = searcher.getIndexReader().maxDoc();
        Random r = new Random(42 + window);
        TopDocs[] firstPass = new TopDocs[queries.length];
        for (int i = 0; i < queries.length; i++) {
            firstPass[i] = window(maxDoc, window, r);
        }
        Map<String, Method> methods = methods(searcher, window, kPrime);
        Map<String, List<Long>> nanos = new LinkedHashMap<>();
        for (String name : methods.keySet()) {
            nanos.put(name, new ArrayList<>());
        }
        long sink = 0;
        log("window %d: warm-up", window);
        for (int i = 0; i < Math.min(queries.length, 10); i++) {
            for (Method m : methods.values()) {
                sink += m.rescore(copy(firstPass[i]), queries[i]).scoreDocs[0].doc;
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < queries.length; i++) {
                for (Map.Entry<String, Method> m : methods.entrySet()) {
                    TopDocs in = copy(firstPass[i]);
                    long t0 = System.nanoTime();
                    TopDocs outDocs = m.getValue().rescore(in, queries[i]);
                    long dt = System.nanoTime() - t0;
                    sink += outDocs.scoreDocs[0].doc;
                    nanos.get(m.getKey()).add(dt);
                }
            }
            log("window %d: round %d/%d done", window, round + 1, rounds);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, List<Long>> e : nanos.entrySet()) {
            long[] v = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
            double mean = Arrays.stream(v).average().orElse(0) / 1e6;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", e.getKey());
            row.put("window", window);
            row.put("calls", v.length);
            row.put("mean_ms", mean);
            row.put("p50_ms", v[v.length / 2] / 1e6);
            row.put("p90_ms", v[(int) Math.min(v.length - 1, Math.round(v.length * 0.9))] / 1e6);
            row.put("docs_per_s", window / (mean / 1e3));
            out.add(row);
            log("  %-42s window %4d: mean %8.2f ms  p50 %8.2f ms", e.getKey(), window, mean, v[v.length / 2] / 1e6);
        }
        if (sink == 42) {
            log("(sink)");
        }
        return out;
    }

    /** Lucene's DOT_PRODUCT MaxSim is (query tokens + dot MaxSim) / 2: check it against the plugin's float scores. */
    private static Map<String, Object> agreement(IndexSearcher searcher, float[][][] queries, int window) throws IOException {
        Random r = new Random(7);
        double maxAbs = 0;
        int compared = 0;
        int sameOrder = 0;
        for (float[][] q : queries) {
            TopDocs in = window(searcher.getIndexReader().maxDoc(), window, r);
            TopDocs lucene = LateInteractionRescorer.create(FIELDS.get(VectorEncoding.FLOAT), q, VectorSimilarityFunction.DOT_PRODUCT)
                .rescore(searcher, copy(in), window);
            TopDocs ours = io.neuralrescore.rescore.LateInteractionRescorer.INSTANCE.rescore(
                copy(in),
                searcher,
                context(window, VectorEncoding.FLOAT, Scoring.COLBERT, window, q)
            );
            Map<Integer, Float> byDoc = new HashMap<>();
            for (ScoreDoc sd : ours.scoreDocs) {
                byDoc.put(sd.doc, sd.score);
            }
            boolean same = true;
            for (int i = 0; i < lucene.scoreDocs.length; i++) {
                float want = (q.length + byDoc.get(lucene.scoreDocs[i].doc)) / 2f;
                maxAbs = Math.max(maxAbs, Math.abs(want - lucene.scoreDocs[i].score));
                same &= lucene.scoreDocs[i].doc == ours.scoreDocs[i].doc;
                compared++;
            }
            sameOrder += same ? 1 : 0;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("window", window);
        out.put("hits_compared", compared);
        out.put("max_abs_diff_lucene_vs_(nq+plugin)/2", maxAbs);
        out.put("queries_with_identical_order", sameOrder);
        out.put("queries", queries.length);
        log("agreement: max |lucene - (nq + plugin)/2| = %.3g over %d hits; identical order for %d/%d queries", maxAbs, compared, sameOrder, queries.length);
        return out;
    }

    // ---- storage -----------------------------------------------------------------------------------------------

    private static List<Map<String, Object>> storage(Path work, float[][][] vectors, int dims) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        long tokens = Arrays.stream(vectors).mapToLong(m -> m.length).sum();
        for (VectorEncoding e : FIELDS.keySet()) {
            Path p = work.resolve("index-" + e.jsonName());
            deleteTree(p);
            long payload = 0;
            // no compound file, so the doc-values files (.dvd data, .dvm metadata) can be measured on their own
            IndexWriterConfig config = new IndexWriterConfig().setUseCompoundFile(false);
            config.getMergePolicy().setNoCFSRatio(0.0);
            try (Directory dir = FSDirectory.open(p); IndexWriter w = new IndexWriter(dir, config)) {
                for (float[][] m : vectors) {
                    byte[] bytes = e.encode(m, dims);
                    payload += bytes.length;
                    Document d = new Document();
                    d.add(new BinaryDocValuesField("tok", new BytesRef(bytes)));
                    w.addDocument(d);
                }
                w.forceMerge(1);
                w.commit();
            }
            long total = 0;
            long docValues = 0;
            try (Stream<Path> files = Files.list(p)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    long size = Files.size(f);
                    total += size;
                    String name = f.getFileName().toString();
                    if (name.endsWith(".dvd") || name.endsWith(".dvm")) {
                        docValues += size;
                    }
                }
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("encoding", e.jsonName());
            row.put("bytes_per_token_formula", e.bytesPerToken(dims));
            row.put("payload_bytes_per_doc", (double) payload / vectors.length);
            row.put("doc_values_bytes_per_doc", (double) docValues / vectors.length);
            row.put("index_bytes_per_doc", (double) total / vectors.length);
            row.put("doc_values_bytes_per_token", (double) docValues / tokens);
            out.add(row);
            log("storage %-8s: %d B/token by formula, %.0f B/doc payload, %.0f B/doc doc values on disk, %.1f B/token on disk", e.jsonName(),
                e.bytesPerToken(dims), (double) payload / vectors.length, (double) docValues / vectors.length, (double) docValues / tokens);
            deleteTree(p);
        }
        return out;
    }

    // ---- inputs ------------------------------------------------------------------------------------------------

    /** Title and text joined by a space, as the ingest processor with {@code fields: [title, text]} builds it. */
    private static List<String> readCorpus(Path file, int limit) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (out.size() == limit) {
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                Map<String, Object> d = XContentHelper.convertToMap(JsonXContent.jsonXContent, line, false);
                StringBuilder sb = new StringBuilder();
                for (String f : List.of("title", "text")) {
                    Object v = d.get(f);
                    if (v != null && v.toString().isBlank() == false) {
                        if (sb.isEmpty() == false) {
                            sb.append(' ');
                        }
                        sb.append(v);
                    }
                }
                out.add(sb.toString());
            }
        }
        return out;
    }

    private static List<String> readQueries(Path file, int limit) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (out.size() == limit) {
                    break;
                }
                if (line.isBlank() == false) {
                    out.add(String.valueOf(XContentHelper.convertToMap(JsonXContent.jsonXContent, line, false).get("text")));
                }
            }
        }
        return out;
    }

    private static void writeVectors(Path file, float[][][] vectors) throws IOException {
        Path tmp = Path.of(file + ".tmp");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            out.writeInt(vectors.length);
            for (float[][] m : vectors) {
                out.writeInt(m.length);
                out.writeInt(m[0].length);
                for (float[] row : m) {
                    for (float x : row) {
                        out.writeFloat(x);
                    }
                }
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static float[][][] readVectors(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            float[][][] out = new float[in.readInt()][][];
            for (int d = 0; d < out.length; d++) {
                out[d] = new float[in.readInt()][in.readInt()];
                for (float[] row : out[d]) {
                    for (int k = 0; k < row.length; k++) {
                        row[k] = in.readFloat();
                    }
                }
            }
            return out;
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.exists(p) == false) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    // ---- output ------------------------------------------------------------------------------------------------

    private static String toJson(Object value) throws IOException {
        try (var b = JsonXContent.contentBuilder().prettyPrint()) {
            b.value(value);
            return org.opensearch.core.common.bytes.BytesReference.bytes(b).utf8ToString();
        }
    }
}
