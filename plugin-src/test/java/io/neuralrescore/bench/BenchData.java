/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.json.JsonXContent;

/**
 * Deterministic inputs shared by the micro benchmarks: seeded random vectors and lengths, real texts and the real
 * tokenizer from the repository (no build output needed). Paths resolve against {@code -Dbench.repo.root}, else
 * the working directory.
 */
public final class BenchData {
    private BenchData() {}

    public static Path repoRoot() {
        String root = System.getProperty("bench.repo.root", System.getProperty("tests.repo.root"));
        return root != null ? Path.of(root) : Path.of("").toAbsolutePath();
    }

    /** all-MiniLM-L6-v2's tokenizer.json (the test models carry an identical copy). */
    public static Path tokenizerFile() {
        return repoRoot().resolve("models/test/tiny-ce/tokenizer.json");
    }

    /** {@code count} unit-free random vectors of {@code dim} floats in [-1, 1). */
    public static float[][] vectors(int count, int dim, long seed) {
        Random r = new Random(seed);
        float[][] out = new float[count][dim];
        for (float[] v : out) {
            for (int i = 0; i < dim; i++) {
                v[i] = r.nextFloat() * 2 - 1;
            }
        }
        return out;
    }

    /** Sequence lengths shaped like tokenized passages: 20..maxLength, skewed short. */
    public static int[] lengths(int count, int maxLength, long seed) {
        Random r = new Random(seed);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            double u = r.nextDouble();
            out[i] = 20 + (int) ((maxLength - 20) * u * u);
        }
        return out;
    }

    /** Title + text of the first {@code count} documents of the demo's SciFact sample (harness/data/scifact-sample). */
    public static List<String> sampleTexts(int count) {
        Path corpus = repoRoot().resolve("harness/data/scifact-sample/corpus.jsonl");
        try {
            List<String> out = new ArrayList<>(count);
            for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
                if (out.size() == count) {
                    break;
                }
                var doc = XContentHelper.convertToMap(JsonXContent.jsonXContent, line, false);
                out.add(doc.get("title") + " " + doc.get("text"));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + corpus + " (set -Dbench.repo.root to the repository)", e);
        }
    }

    /** The first SciFact sample query, for pair encodings. */
    public static String sampleQuery() {
        return "APOE4 expression in iPSC-derived neurons increases AlphaBeta production and tau phosphorylation causing GABA neuron degeneration.";
    }
}
