/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.model.onnx.InferenceRunner;
import io.neuralrescore.model.onnx.OnnxModelLoader;
import io.neuralrescore.model.onnx.OnnxOptions;
import io.neuralrescore.stats.RescoreStats;

/** Where tests find models: the repository's generated test models and the build's bundled models. */
public final class TestModels {
    private TestModels() {}

    public static Path repoRoot() {
        String root = System.getProperty("tests.repo.root");
        return root != null ? Path.of(root) : Path.of("").toAbsolutePath();
    }

    /** Small generated models committed under {@code models/test}. */
    public static Path testModels() {
        return repoRoot().resolve("models").resolve("test");
    }

    /** Models the zip ships (the default model, unpacked by the build). */
    public static Path bundledModels() {
        String dir = System.getProperty("tests.bundled.models");
        return dir != null ? Path.of(dir) : repoRoot().resolve("target").resolve("bundled-models");
    }

    /** A registry over test and bundled models, running inference on the calling thread. */
    public static ModelRegistry registry(BatchLimits limits) {
        RescoreStats stats = new RescoreStats();
        InferenceRunner runner = new InferenceRunner(null, limits, stats);
        return new ModelRegistry(List.of(testModels(), bundledModels()), new OnnxModelLoader(OnnxOptions.cpu(1), runner), stats);
    }

    public static ModelManifest manifest(String id) throws IOException {
        Path dir = Files.isDirectory(testModels().resolve(id)) ? testModels().resolve(id) : bundledModels().resolve(id);
        return ModelManifest.read(id, dir);
    }

    /** Models this project trained and ships, with their check data, under {@code models/release}. */
    public static Path releaseModels() {
        return repoRoot().resolve("models").resolve("release");
    }

    /** Rows of a model's {@code expected.tsv} (a test model's, else a released model's), as column name to value. */
    public static List<Map<String, String>> expected(String id) throws IOException {
        Path dir = Files.isDirectory(testModels().resolve(id)) ? testModels().resolve(id) : releaseModels().resolve(id);
        List<String> lines = Files.readAllLines(dir.resolve("expected.tsv"), StandardCharsets.UTF_8);
        String[] header = lines.get(0).split("\t", -1);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isEmpty()) {
                continue;
            }
            String[] cells = line.split("\t", -1);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.length; i++) {
                row.put(header[i], cells[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    public static long[] longs(String spaceSeparated) {
        return spaceSeparated.isBlank() ? new long[0] : Arrays.stream(spaceSeparated.trim().split(" ")).mapToLong(Long::parseLong).toArray();
    }

    public static float[] floats(String spaceSeparated) {
        String[] parts = spaceSeparated.trim().split(" ");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i]);
        }
        return out;
    }
}
