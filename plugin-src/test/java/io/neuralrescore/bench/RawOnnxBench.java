/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.xcontent.XContentBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.model.TextTokenizer;
import io.neuralrescore.model.onnx.BatchPlanner;
import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.settings.RescoreSettings;

/**
 * The ceiling the plugin is measured against: ONNX Runtime called directly in one process, one thread issuing
 * batches (as the plugin's one-thread inference pool does) with the plugin's session options, on the same model and
 * the same (query, text) pairs, tokenized by the plugin's {@link TextTokenizer} so the tokens are identical.
 * <p>
 * Two batchings of every group of pairs (one group = one search request's window):
 * <ul>
 * <li>{@code bucketed}: {@link BatchPlanner#plan} with the plugin's token budget and batch size (what the plugin does);</li>
 * <li>{@code padded}: fixed-size batches in arrival order ({@link BatchPlanner#fixed}), each padded to its longest
 * member: the naive baseline.</li>
 * </ul>
 * Input: JSON lines {@code {"group": "w100", "query": "...", "texts": ["...", ...]}}; groups with the same name are
 * summed. Output: JSON with pairs/s per group name and mode, tokenization time apart, and every score so the
 * harness can check them against the plugin's; or, with {@code --serve true}, one group at a time on request (see
 * {@link #serve}). Run by {@code harness/bench.py}; by hand:
 * <pre>
 * java -cp "$BUILD/test-classes:$BUILD/classes:$(cat $BUILD/test-classpath.txt)" io.neuralrescore.bench.RawOnnxBench \
 *   --model-dir models/test/tiny-ce --pairs pairs.jsonl --out raw.json
 * </pre>
 */
public final class RawOnnxBench {
    private RawOnnxBench() {}

    /** The plugin's default padding limit ({@code plugins.rescore.batch.max_padding}). */
    static final double MAX_PADDING = RescoreSettings.BATCH_MAX_PADDING.getDefault(org.opensearch.common.settings.Settings.EMPTY);

    record Group(String name, String query, List<String> texts) {}

    /** One pass over all groups in one mode. */
    static final class Pass {
        long nanos;
        long batches;
        long realTokens;
        long paddedTokens;
        int pairs;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = options(args);
        Path modelDir = Path.of(require(opt, "--model-dir"));
        Path pairsFile = Path.of(require(opt, "--pairs"));
        Path out = opt.containsKey("--serve") ? null : Path.of(require(opt, "--out"));
        ModelManifest manifest = ModelManifest.read(modelDir.getFileName().toString(), modelDir);
        int maxLength = Math.min(Integer.parseInt(opt.getOrDefault("--max-length", "" + manifest.maxLength())), manifest.maxLength());
        int threads = Integer.parseInt(opt.getOrDefault("--threads", "" + Runtime.getRuntime().availableProcessors()));
        int maxTokens = Integer.parseInt(opt.getOrDefault("--max-tokens", "8192"));
        int maxBatch = Integer.parseInt(opt.getOrDefault("--max-batch", "64"));
        int paddedBatch = Integer.parseInt(opt.getOrDefault("--padded-batch", "32"));
        int reps = Integer.parseInt(opt.getOrDefault("--reps", "1"));
        // ORT's default (spinning intra-op threads), as the plugin; "0" to compare without spinning
        String spinning = opt.get("--allow-spinning");
        List<String> modes = List.of(opt.getOrDefault("--modes", "bucketed,padded").split(","));
        boolean cross = manifest.type() == ModelType.CROSS_ENCODER;
        if (cross == false && manifest.type() != ModelType.BI_ENCODER) {
            throw new IllegalArgumentException("model type [" + manifest.type().jsonName() + "] is not benchmarked here");
        }
        List<Group> groups = readGroups(pairsFile);

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (
            OrtSession.SessionOptions so = sessionOptions(threads, spinning);
            OrtSession session = env.createSession(modelDir.resolve(manifest.modelFile()).toString(), so);
            TextTokenizer tokenizer = TextTokenizer.load(modelDir.resolve(manifest.tokenizerFile()), manifest.maxLength())
        ) {
            Runner runner = new Runner(env, session, manifest, cross);
            // tokenization, timed apart: the plugin does the same work per request on the search thread
            long tokStart = System.nanoTime();
            List<Encoded[]> encoded = new ArrayList<>();
            List<Encoded> queries = new ArrayList<>();
            for (Group g : groups) {
                if (cross) {
                    encoded.add(tokenizer.encodePairs(g.query(), g.texts(), maxLength));
                } else {
                    encoded.add(tokenizer.encode(g.texts(), maxLength));
                    queries.add(tokenizer.encode(List.of(g.query()), maxLength)[0]);
                }
            }
            long tokNanos = System.nanoTime() - tokStart;

            // warm-up: one group in each mode (JIT, ORT arenas)
            for (String mode : modes) {
                runGroup(runner, mode, encoded.get(0), cross ? null : queries.get(0), maxTokens, maxBatch, paddedBatch, new Pass());
            }
            if (opt.containsKey("--serve")) {
                serve(runner, encoded, queries, cross, maxTokens, maxBatch, paddedBatch, tokNanos);
                return;
            }
            Map<String, Map<String, List<Pass>>> passes = new LinkedHashMap<>(); // group name -> mode -> reps
            Map<Integer, float[]> scores = new HashMap<>();
            for (int rep = 0; rep < reps; rep++) {
                for (String mode : modes) { // modes alternate so drift of a noisy machine hits both alike
                    Map<String, Pass> byName = new LinkedHashMap<>();
                    for (int i = 0; i < groups.size(); i++) {
                        Pass p = byName.computeIfAbsent(groups.get(i).name(), k -> new Pass());
                        float[] s = runGroup(runner, mode, encoded.get(i), cross ? null : queries.get(i), maxTokens, maxBatch, paddedBatch, p);
                        if (mode.equals(modes.get(0)) && rep == 0) {
                            scores.put(i, s);
                        }
                    }
                    for (Map.Entry<String, Pass> e : byName.entrySet()) {
                        passes.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>()).computeIfAbsent(mode, k -> new ArrayList<>()).add(e.getValue());
                    }
                }
            }
            write(out, spinning, manifest, modelDir, maxLength, threads, maxTokens, maxBatch, paddedBatch, reps, tokNanos, groups, encoded, passes, scores);
        }
    }

    /**
     * Serve mode ({@code --serve true}): after loading, tokenizing and warming up, prints {@code READY} and then answers
     * stdin commands {@code <group index> <mode>} with one JSON line on stdout (nanos, pairs, batches, tokens,
     * scores), until {@code quit}. The harness interleaves these runs with the plugin's requests for the same groups,
     * so drift on a noisy machine hits both sides alike.
     */
    static void serve(Runner runner, List<Encoded[]> encoded, List<Encoded> queries, boolean cross, int maxTokens, int maxBatch, int paddedBatch, long tokNanos)
        throws IOException, OrtException {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
        java.io.PrintStream out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        long pairs = 0;
        for (Encoded[] e : encoded) {
            pairs += e.length;
        }
        out.println("READY {\"groups\": " + encoded.size() + ", \"tokenize_seconds\": " + tokNanos / 1e9 + ", \"tokenize_pairs_per_s\": " + pairs / (tokNanos / 1e9) + "}");
        for (String line; (line = in.readLine()) != null;) {
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("quit")) {
                break;
            }
            String[] parts = line.split(" ");
            int i = Integer.parseInt(parts[0]);
            Pass p = new Pass();
            float[] scores = runGroup(runner, parts[1], encoded.get(i), cross ? null : queries.get(i), maxTokens, maxBatch, paddedBatch, p);
            StringBuilder sb = new StringBuilder();
            sb.append("{\"group\": ").append(i).append(", \"mode\": \"").append(parts[1]).append("\", \"nanos\": ").append(p.nanos);
            sb.append(", \"pairs\": ").append(p.pairs).append(", \"batches\": ").append(p.batches);
            sb.append(", \"real_tokens\": ").append(p.realTokens).append(", \"padded_tokens\": ").append(p.paddedTokens).append(", \"scores\": [");
            for (int k = 0; k < scores.length; k++) {
                sb.append(k == 0 ? "" : ", ").append(Float.isFinite(scores[k]) ? Float.toString(scores[k]) : "null");
            }
            out.println(sb.append("]}"));
        }
    }

    static OrtSession.SessionOptions sessionOptions(int threads, String spinning) throws OrtException {
        // the plugin's OnnxSession options: full graph optimization, intra-op threads, one inter-op thread, sequential
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        if (spinning != null) {
            so.addConfigEntry("session.intra_op.allow_spinning", spinning);
        }
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        return so;
    }

    /** Runs one group's batches; returns one score per text, in the group's order. */
    static float[] runGroup(Runner runner, String mode, Encoded[] enc, Encoded query, int maxTokens, int maxBatch, int paddedBatch, Pass pass)
        throws OrtException {
        int[] lengths = new int[enc.length];
        for (int i = 0; i < enc.length; i++) {
            lengths[i] = enc[i].length();
        }
        List<int[]> plan = switch (mode) {
            case "bucketed" -> BatchPlanner.plan(lengths, maxTokens, maxBatch, MAX_PADDING);
            case "padded" -> BatchPlanner.fixed(enc.length, paddedBatch);
            default -> {
                if (mode.startsWith("cap")) { // e.g. cap0.1: bucketed with at most 10% padding per batch
                    yield BatchPlanner.plan(lengths, maxTokens, maxBatch, Double.parseDouble(mode.substring(3)));
                }
                throw new IllegalArgumentException("unknown mode [" + mode + "]");
            }
        };
        long start = System.nanoTime();
        float[] queryVector = query == null ? null : runner.embed(new Encoded[] { query }, new int[] { 0 }, pass)[0];
        float[] scores = new float[enc.length];
        for (int[] members : plan) {
            if (queryVector == null) {
                float[] s = runner.logits(enc, members, pass);
                for (int r = 0; r < members.length; r++) {
                    scores[members[r]] = s[r];
                }
            } else {
                float[][] v = runner.embed(enc, members, pass);
                for (int r = 0; r < members.length; r++) {
                    scores[members[r]] = VectorMath.cosine(queryVector, v[r]);
                }
            }
        }
        pass.nanos += System.nanoTime() - start;
        pass.pairs += enc.length;
        return scores;
    }

    /** Builds the input tensors of a batch and runs the session. */
    static final class Runner {
        final OrtEnvironment env;
        final OrtSession session;
        final ModelManifest manifest;
        final boolean cross;
        final String output;

        Runner(OrtEnvironment env, OrtSession session, ModelManifest manifest, boolean cross) {
            this.env = env;
            this.session = session;
            this.manifest = manifest;
            this.cross = cross;
            this.output = manifest.output();
        }

        private float[] run(Encoded[] enc, int[] members, Pass pass, long[][] maskOut, long[] shapeOut) throws OrtException {
            int len = 1;
            for (int m : members) {
                len = Math.max(len, enc[m].length());
            }
            int n = members.length;
            long[] ids = new long[n * len];
            long[] mask = new long[n * len];
            long[] types = new long[n * len];
            long real = 0;
            for (int r = 0; r < n; r++) {
                Encoded e = enc[members[r]];
                System.arraycopy(e.ids(), 0, ids, r * len, e.length());
                System.arraycopy(e.typeIds(), 0, types, r * len, e.length());
                for (int t = 0; t < e.length(); t++) {
                    mask[r * len + t] = 1;
                }
                real += e.length();
            }
            long[] shape = { n, len };
            ModelManifest.InputNames in = manifest.inputs();
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                feed.put(in.inputIds(), OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
                feed.put(in.attentionMask(), OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
                if (in.tokenTypeIds() != null) {
                    feed.put(in.tokenTypeIds(), OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
                }
                try (OrtSession.Result result = session.run(feed, Set.of(output))) {
                    OnnxTensor t = (OnnxTensor) result.get(output).orElseThrow();
                    long[] s = t.getInfo().getShape();
                    System.arraycopy(s, 0, shapeOut, 0, Math.min(s.length, shapeOut.length));
                    shapeOut[3] = s.length;
                    FloatBuffer fb = t.getFloatBuffer();
                    float[] values = new float[fb.remaining()];
                    fb.get(values);
                    maskOut[0] = mask;
                    pass.batches++;
                    pass.realTokens += real;
                    pass.paddedTokens += (long) n * len - real;
                    return values;
                }
            } finally {
                for (OnnxTensor t : feed.values()) {
                    t.close();
                }
            }
        }

        float[] logits(Encoded[] enc, int[] members, Pass pass) throws OrtException {
            long[][] mask = new long[1][];
            long[] shape = new long[4];
            float[] v = run(enc, members, pass, mask, shape);
            int columns = shape[3] == 1 ? 1 : (int) shape[1];
            int logit = manifest.logitIndex();
            float[] out = new float[members.length];
            for (int r = 0; r < members.length; r++) {
                out[r] = v[r * columns + logit];
            }
            return out;
        }

        float[][] embed(Encoded[] enc, int[] members, Pass pass) throws OrtException {
            long[][] mask = new long[1][];
            long[] shape = new long[4];
            float[] v = run(enc, members, pass, mask, shape);
            int dim = manifest.dimension();
            float[][] out = new float[members.length][];
            for (int r = 0; r < members.length; r++) {
                float[] vec;
                if (shape[3] == 2) {
                    vec = new float[dim];
                    System.arraycopy(v, r * dim, vec, 0, dim);
                } else {
                    int seq = (int) shape[1];
                    if (manifest.pooling() == ModelManifest.Pooling.MEAN) {
                        long[] rowMask = new long[seq];
                        System.arraycopy(mask[0], r * seq, rowMask, 0, seq);
                        vec = VectorMath.maskedMean(v, r * seq * dim, seq, dim, rowMask);
                    } else {
                        vec = new float[dim];
                        System.arraycopy(v, r * seq * dim, vec, 0, dim);
                    }
                }
                out[r] = manifest.normalize() ? VectorMath.l2NormalizeInPlace(vec) : vec;
            }
            return out;
        }
    }

    @SuppressWarnings("unchecked")
    static List<Group> readGroups(Path file) throws IOException {
        List<Group> groups = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> m = XContentHelper.convertToMap(JsonXContent.jsonXContent, line, false);
            groups.add(new Group((String) m.get("group"), (String) m.get("query"), (List<String>) m.get("texts")));
        }
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no pairs in [" + file + "]");
        }
        return groups;
    }

    static void write(
        Path out,
        String spinning,
        ModelManifest manifest,
        Path modelDir,
        int maxLength,
        int threads,
        int maxTokens,
        int maxBatch,
        int paddedBatch,
        int reps,
        long tokNanos,
        List<Group> groups,
        List<Encoded[]> encoded,
        Map<String, Map<String, List<Pass>>> passes,
        Map<Integer, float[]> scores
    ) throws IOException {
        long totalPairs = 0;
        long totalTokens = 0;
        for (Encoded[] e : encoded) {
            totalPairs += e.length;
            for (Encoded x : e) {
                totalTokens += x.length();
            }
        }
        try (OutputStream os = Files.newOutputStream(out); XContentBuilder b = new XContentBuilder(JsonXContent.jsonXContent, os)) {
            b.startObject();
            b.field("model", modelDir.getFileName().toString());
            b.field("type", manifest.type().jsonName());
            b.field("max_length", maxLength);
            b.field("intra_op_threads", threads);
            b.field("allow_spinning", spinning == null ? "default" : spinning);
            b.field("bucketed_max_tokens", maxTokens);
            b.field("bucketed_max_batch", maxBatch);
            b.field("padded_batch", paddedBatch);
            b.field("reps", reps);
            b.field("pairs", totalPairs);
            b.field("tokens", totalTokens);
            b.field("tokenize_seconds", tokNanos / 1e9);
            b.field("tokenize_pairs_per_s", totalPairs / (tokNanos / 1e9));
            b.startObject("groups");
            for (Map.Entry<String, Map<String, List<Pass>>> g : passes.entrySet()) {
                b.startObject(g.getKey());
                for (Map.Entry<String, List<Pass>> m : g.getValue().entrySet()) {
                    b.startObject(m.getKey());
                    List<Double> rates = new ArrayList<>();
                    Pass first = m.getValue().get(0);
                    for (Pass p : m.getValue()) {
                        rates.add(p.pairs / (p.nanos / 1e9));
                    }
                    rates.sort(null);
                    b.field("pairs", first.pairs);
                    b.field("pairs_per_s_reps", rates);
                    b.field("pairs_per_s", rates.get(rates.size() / 2));
                    b.field("batches", first.batches);
                    b.field("real_tokens", first.realTokens);
                    b.field("padded_tokens", first.paddedTokens);
                    b.endObject();
                }
                b.endObject();
            }
            b.endObject();
            b.startArray("scores");
            for (int i = 0; i < groups.size(); i++) {
                b.startArray();
                for (float s : scores.get(i)) {
                    b.value(s);
                }
                b.endArray();
            }
            b.endArray();
            b.endObject();
        }
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--") == false || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got [" + String.join(" ", args) + "]");
            }
            opt.put(args[i], args[++i]);
        }
        return opt;
    }

    static String require(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return v;
    }
}
