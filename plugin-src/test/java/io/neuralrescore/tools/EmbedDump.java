/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.tools;

import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.testing.TestModels;

/**
 * Dumps embeddings exactly as the plugin computes them (same ONNX graph, tokenizer, batching and pooling code), so the
 * Cosine Adapter trainer ({@code models/adapter}) fits the vectors the plugin will see at search time.
 *
 * <p>Input is a JSONL file (BEIR layout: {@code _id} or {@code id}, {@code text}, optional {@code title}) or a TSV file.
 * The text of a record is its fields joined in order with one space, blank fields skipped: what the plugin's
 * {@code text_embedding} processor and rescorer build from {@code fields: [title, text]}.
 *
 * <p>Output, for {@code --out PREFIX}: {@code PREFIX.f32} (float32 little-endian, row-major {@code [count, dimension]}),
 * {@code PREFIX.ids} (one id per line, row order) and {@code PREFIX.meta.json}. Run it through
 * {@code models/adapter/embed.sh}.
 */
public final class EmbedDump {
    private EmbedDump() {}

    private static final String USAGE = """
        usage: EmbedDump --in FILE --out PREFIX [--model all-minilm-l6-v2] [--max-length 256]
                         [--format jsonl|tsv] [--fields title,text]          (jsonl)
                         [--id-col 0] [--text-col 1] [--header] [--dedupe]   (tsv; --dedupe also works for jsonl)
                         [--chunk 512] [--single]   (--single: one text per inference call, as the plugin embeds a query_text)
        """;

    public static void main(String[] args) throws Exception {
        // Loading ONNX Runtime's JNI library overflows the launcher's default main-thread stack (SIGSEGV, no hs_err).
        Throwable[] failure = new Throwable[1];
        Thread worker = new Thread(null, () -> {
            try {
                run(args);
            } catch (Throwable t) {
                failure[0] = t;
            }
        }, "embed-dump", 64L << 20);
        worker.start();
        worker.join();
        if (failure[0] != null) {
            failure[0].printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        Path in = Path.of(require(opts, "in"));
        Path out = Path.of(require(opts, "out"));
        String model = opts.getOrDefault("model", "all-minilm-l6-v2");
        int maxLength = Integer.parseInt(opts.getOrDefault("max-length", "256"));
        int chunk = Integer.parseInt(opts.getOrDefault("chunk", "512"));
        String format = opts.getOrDefault("format", in.toString().endsWith(".jsonl") ? "jsonl" : "tsv");
        boolean dedupe = opts.containsKey("dedupe");
        boolean single = opts.containsKey("single");

        List<String> ids = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        String describe;
        if (format.equals("jsonl")) {
            List<String> fields = Arrays.asList(opts.getOrDefault("fields", "title,text").split(","));
            readJsonl(in, fields, dedupe, ids, texts);
            describe = "jsonl fields " + fields;
        } else if (format.equals("tsv")) {
            int idCol = Integer.parseInt(opts.getOrDefault("id-col", "0"));
            int textCol = Integer.parseInt(opts.getOrDefault("text-col", "1"));
            readTsv(in, idCol, textCol, opts.containsKey("header"), dedupe, ids, texts);
            describe = "tsv id column " + idCol + " text column " + textCol;
        } else {
            throw new IllegalArgumentException("unknown --format [" + format + "]\n" + USAGE);
        }
        long empty = texts.stream().filter(String::isEmpty).count();
        System.err.printf(Locale.ROOT, "%s: %d records (%s), %d with no text%n", in, ids.size(), describe, empty);

        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path matrix = Path.of(out + ".f32");
        Path tmp = Path.of(out + ".f32.tmp");
        int dim = -1;
        long start = System.nanoTime();
        try (
            ModelRegistry registry = TestModels.registry(new BatchLimits(8192, 64));
            ModelLease lease = registry.acquire(model);
            OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)
        ) {
            TextEmbedder embedder = lease.as(TextEmbedder.class, "embed_dump");
            for (int from = 0; from < texts.size(); from += chunk) {
                List<String> part = texts.subList(from, Math.min(texts.size(), from + chunk));
                float[][] vectors;
                if (single) {
                    vectors = new float[part.size()][];
                    for (int i = 0; i < part.size(); i++) {
                        vectors[i] = embedder.embed(List.of(part.get(i)), maxLength)[0];
                    }
                } else {
                    vectors = embedder.embed(part, maxLength);
                }
                for (float[] v : vectors) {
                    if (dim < 0) {
                        dim = v.length;
                    }
                    ByteBuffer buf = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                    buf.asFloatBuffer().put(v);
                    os.write(buf.array());
                }
                double secs = (System.nanoTime() - start) / 1e9;
                System.err.printf(Locale.ROOT, "  %d/%d embedded, %.0f s%n", from + part.size(), texts.size(), secs);
            }
        }
        Files.move(tmp, matrix, StandardCopyOption.REPLACE_EXISTING);
        Files.write(Path.of(out + ".ids"), ids, StandardCharsets.UTF_8);
        String meta = String.format(
            Locale.ROOT,
            "{\"count\": %d, \"dimension\": %d, \"dtype\": \"float32-le\", \"model\": \"%s\", \"max_length\": %d, "
                + "\"input\": \"%s\", \"input_sha256\": \"%s\", \"text\": \"%s\", \"dedupe\": %b, \"single\": %b, \"seconds\": %.1f}%n",
            ids.size(),
            dim,
            model,
            maxLength,
            in.toAbsolutePath(),
            sha256(in),
            describe,
            dedupe,
            single,
            (System.nanoTime() - start) / 1e9
        );
        Files.writeString(Path.of(out + ".meta.json"), meta, StandardCharsets.UTF_8);
        System.err.print(meta);
    }

    private static void readJsonl(Path in, List<String> fields, boolean dedupe, List<String> ids, List<String> texts)
        throws IOException {
        Set<String> seen = new HashSet<>();
        for (String line : Files.readAllLines(in, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> record = XContentHelper.convertToMap(JsonXContent.jsonXContent, line, false);
            Object id = record.containsKey("_id") ? record.get("_id") : record.get("id");
            if (id == null) {
                throw new IllegalArgumentException("record without _id or id: " + line);
            }
            if (dedupe && seen.add(id.toString()) == false) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            for (String field : fields) {
                append(sb, record.get(field));
            }
            ids.add(id.toString());
            texts.add(sb.toString());
        }
    }

    private static void readTsv(Path in, int idCol, int textCol, boolean header, boolean dedupe, List<String> ids, List<String> texts)
        throws IOException {
        Set<String> seen = new HashSet<>();
        List<String> lines = Files.readAllLines(in, StandardCharsets.UTF_8);
        for (String line : lines.subList(header ? 1 : 0, lines.size())) {
            if (line.isEmpty()) {
                continue;
            }
            String[] cells = line.split("\t", -1);
            if (dedupe && seen.add(cells[idCol]) == false) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            append(sb, cells[textCol]);
            ids.add(cells[idCol]);
            texts.add(sb.toString());
        }
    }

    /** Same joining as the plugin's {@code SourceTexts} and ingest processor: blank values skipped, one space between. */
    private static void append(StringBuilder sb, Object value) {
        if (value == null || value instanceof Map<?, ?>) {
            return;
        }
        if (value instanceof Collection<?> values) {
            for (Object v : values) {
                append(sb, v);
            }
            return;
        }
        String s = value.toString();
        if (s.isBlank()) {
            return;
        }
        if (sb.isEmpty() == false) {
            sb.append(' ');
        }
        sb.append(s);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--") == false) {
                throw new IllegalArgumentException("unexpected argument [" + args[i] + "]\n" + USAGE);
            }
            String key = args[i].substring(2);
            boolean flag = key.equals("header") || key.equals("dedupe") || key.equals("single");
            if (flag) {
                opts.put(key, "true");
            } else if (i + 1 < args.length) {
                opts.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("option [--" + key + "] needs a value\n" + USAGE);
            }
        }
        return opts;
    }

    private static String require(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + key + "\n" + USAGE);
        }
        return v;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
