/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.neuralrescore.model.onnx.BatchLimits;
import io.neuralrescore.model.onnx.OnnxModelLoader;
import io.neuralrescore.model.onnx.OnnxOptions;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.testing.TestModels;

/**
 * Loading {@code cosine_adapter} folders: the shipped test adapters reproduce the Python reference
 * ({@code models/tools/make_test_adapters.py}), and every malformed folder fails with a message naming the model
 * and what is wrong.
 */
public class CosineAdapterModelTests extends OpenSearchTestCase {

    private static final String[] TEST_ADAPTERS = { "test-adapter", "test-adapter-power", "test-adapter-tiny-bi" };

    private static CosineAdapterModel loadTestAdapter(String id) throws IOException {
        return CosineAdapterModel.load(TestModels.manifest(id), TestModels.testModels().resolve(id));
    }

    /** Every row of each test adapter's expected.tsv: (query embedding, cosine) -> probability, to 1e-5. */
    public void testExpectedRowsOfTheTestAdapters() throws IOException {
        for (String id : TEST_ADAPTERS) {
            CosineAdapterModel model = loadTestAdapter(id);
            List<Map<String, String>> rows = TestModels.expected(id);
            assertEquals(id, 8, rows.size());
            for (Map<String, String> row : rows) {
                float[] q = TestModels.floats(row.get("query"));
                float cos = Float.parseFloat(row.get("cosine"));
                double want = Double.parseDouble(row.get("probability"));
                assertEquals(id + " at cos " + cos, want, model.adapter().params(q).map(cos), 1e-5);
            }
        }
    }

    public void testWhatTheTestAdaptersDeclare() throws IOException {
        CosineAdapterModel sigmoid = loadTestAdapter("test-adapter");
        assertEquals("all-minilm-l6-v2", sigmoid.embeddingModel());
        assertEquals(CosineAdapter.Family.LINEAR_SIGMOID, sigmoid.adapter().family());
        assertEquals(384, sigmoid.adapter().inputDim());
        assertEquals(ModelType.COSINE_ADAPTER, sigmoid.manifest().type());
        assertEquals("cpu", sigmoid.device());
        CosineAdapterModel power = loadTestAdapter("test-adapter-power");
        assertEquals(CosineAdapter.Family.POWER, power.adapter().family());
        CosineAdapterModel tiny = loadTestAdapter("test-adapter-tiny-bi");
        assertEquals("tiny-bi", tiny.embeddingModel());
        assertEquals(16, tiny.adapter().inputDim());
    }

    /** The registry hands adapters out through the same loader as ONNX models, as {@link CosineAdapterModel}. */
    public void testLoadsThroughTheRegistry() {
        try (ModelRegistry registry = TestModels.registry(new BatchLimits(512, 8)); ModelLease lease = registry.acquire("test-adapter-power")) {
            CosineAdapterModel model = lease.as(CosineAdapterModel.class, "test");
            assertEquals("test-adapter-power", model.manifest().id());
            assertEquals(
                "[cosine_filter] model [test-adapter-power] of type [cosine_adapter] cannot serve it",
                expectThrows(IllegalArgumentException.class, () -> lease.as(TextEmbedder.class, "cosine_filter")).getMessage()
            );
        }
    }

    // ---- malformed folders ------------------------------------------------------------------------------------

    private static final String MANIFEST = "{\"type\": \"cosine_adapter\", \"embedding_model\": \"enc\", \"family\": \"power\", \"dimension\": 2}";
    /** A valid power adapter for dimension 2: one hidden relu layer of 3, then 1 output. */
    private static final String WEIGHTS = "{\"family\": \"power\", \"input_dim\": 2, \"layers\": ["
        + "{\"weight\": [[1, 2], [3, 4], [5, 6]], \"bias\": [0, 0, 0], \"activation\": \"relu\"},"
        + "{\"weight\": [[1, 1, 1]], \"bias\": [0.5], \"activation\": \"none\"}]}";

    private Path folder(String manifest, String weightsName, String weights) throws IOException {
        Path dir = createTempDir().resolve("my-adapter");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("model.json"), manifest, StandardCharsets.UTF_8);
        if (weights != null) {
            Files.writeString(dir.resolve(weightsName), weights, StandardCharsets.UTF_8);
        }
        return dir;
    }

    private CosineAdapterModel load(String manifest, String weightsName, String weights) throws IOException {
        Path dir = folder(manifest, weightsName, weights);
        return CosineAdapterModel.load(ModelManifest.read("my-adapter", dir), dir);
    }

    private String loadError(String manifest, String weights) {
        return loadError(manifest, "adapter.json", weights);
    }

    private String loadError(String manifest, String weightsName, String weights) {
        return expectThrows(IllegalArgumentException.class, () -> load(manifest, weightsName, weights)).getMessage();
    }

    public void testValidFolderLoads() throws IOException {
        CosineAdapterModel model = load(MANIFEST, "adapter.json", WEIGHTS);
        assertEquals("enc", model.embeddingModel());
        // q = (1, 0): hidden = (1, 3, 5), r_g = 9.5, g = softplus(9.5) = 9.5000748...
        CosineAdapter.Params p = model.adapter().params(new float[] { 1, 0 });
        assertEquals(9.5 + Math.log1p(Math.exp(-9.5)), p.first(), 1e-5);
        // a named weights file
        String manifest = MANIFEST.replace("}", ", \"weights_file\": \"w.json\"}");
        assertEquals(CosineAdapter.Family.POWER, load(manifest, "w.json", WEIGHTS).adapter().family());
        // family and input_dim in the weights file are optional
        assertEquals(
            CosineAdapter.Family.POWER,
            load(MANIFEST, "adapter.json", WEIGHTS.replace("\"family\": \"power\", \"input_dim\": 2, ", "")).adapter().family()
        );
    }

    public void testMissingManifestKeys() {
        assertEquals(
            "invalid manifest for model [my-adapter]: [embedding_model] is required",
            loadError(MANIFEST.replace("\"embedding_model\": \"enc\", ", ""), WEIGHTS)
        );
        assertEquals(
            "invalid manifest for model [my-adapter]: [embedding_model] is required",
            loadError(MANIFEST.replace("\"enc\"", "7"), WEIGHTS)
        );
        assertEquals(
            "invalid manifest for model [my-adapter]: [family] is required",
            loadError(MANIFEST.replace("\"family\": \"power\", ", ""), WEIGHTS)
        );
        assertEquals(
            "invalid manifest for model [my-adapter]: unknown adapter family [sigmoid], expected one of [linear_sigmoid, power]",
            loadError(MANIFEST.replace("\"power\"", "\"sigmoid\""), WEIGHTS)
        );
        // the manifest parser itself: dimension is required, unknown keys are refused
        assertEquals(
            "invalid manifest for model [my-adapter]: [dimension] is required for model type [cosine_adapter]",
            expectThrows(
                IllegalArgumentException.class,
                () -> load(MANIFEST.replace(", \"dimension\": 2", ""), "adapter.json", WEIGHTS)
            ).getMessage()
        );
        assertEquals(
            "invalid manifest for model [my-adapter]: unknown keys [pooling] for model type [cosine_adapter]",
            loadError(MANIFEST.replace("}", ", \"pooling\": \"mean\"}"), WEIGHTS)
        );
    }

    public void testBadWeightsFile() {
        assertEquals("model [my-adapter] has no weights file [adapter.json]", loadError(MANIFEST, null));
        assertEquals(
            "model [my-adapter] has no weights file [w.json]",
            loadError(MANIFEST.replace("}", ", \"weights_file\": \"w.json\"}"), WEIGHTS)
        );
        assertEquals(
            "invalid manifest for model [my-adapter]: [weights_file] must be a plain file name",
            loadError(MANIFEST.replace("}", ", \"weights_file\": \"../adapter.json\"}"), WEIGHTS)
        );
        String notJson = loadError(MANIFEST, "{\"layers\": [");
        assertTrue(notJson, notJson.startsWith("model [my-adapter]: weights file [adapter.json] is not valid JSON: "));
        assertEquals("model [my-adapter]: weights file needs a [layers] array", loadError(MANIFEST, "{\"family\": \"power\"}"));
        assertEquals("model [my-adapter]: weights file needs a [layers] array", loadError(MANIFEST, "{\"layers\": {}}"));
        assertEquals(
            "model [my-adapter]: each layer needs [weight] (array of rows) and [bias]",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 2]]}]}")
        );
        assertEquals(
            "model [my-adapter]: each layer needs [weight] (array of rows) and [bias]",
            loadError(MANIFEST, "{\"layers\": [[1, 2]]}")
        );
        assertEquals(
            "model [my-adapter]: expected an array of numbers",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [1, 2], \"bias\": [0]}]}")
        );
        assertEquals(
            "model [my-adapter]: weights must be finite numbers, got [x]",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, \"x\"]], \"bias\": [0]}]}")
        );
        assertEquals(
            "model [my-adapter]: weights must be finite numbers, got [1.0E39]",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 1e39]], \"bias\": [0]}]}")
        );
        assertEquals(
            "model [my-adapter]: layer activation must be [relu] or [none], got [tanh]",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 2]], \"bias\": [0], \"activation\": \"tanh\"}]}")
        );
    }

    public void testFamilyAndDimensionMustAgreeWithTheManifest() {
        assertEquals(
            "model [my-adapter]: manifest family [power] differs from weights file family [linear_sigmoid]",
            loadError(MANIFEST, WEIGHTS.replace("\"family\": \"power\"", "\"family\": \"linear_sigmoid\""))
        );
        assertEquals(
            "model [my-adapter]: manifest dimension [2] differs from weights file input_dim [3]",
            loadError(MANIFEST, WEIGHTS.replace("\"input_dim\": 2", "\"input_dim\": 3"))
        );
    }

    public void testWrongLayerShapes() {
        assertEquals(
            "model [my-adapter]: adapter needs at least one layer",
            loadError(MANIFEST, "{\"layers\": []}")
        );
        // first layer must take the manifest's dimension
        assertEquals(
            "model [my-adapter]: adapter layer 0: weight rows must have 2 columns, got 3",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 2, 3]], \"bias\": [0]}]}")
        );
        assertEquals(
            "model [my-adapter]: adapter layer 0: bias length must equal the number of weight rows",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 2]], \"bias\": [0, 1]}]}")
        );
        assertEquals(
            "model [my-adapter]: adapter layer 1: weight rows must have 3 columns, got 2",
            loadError(MANIFEST, WEIGHTS.replace("[[1, 1, 1]]", "[[1, 1]]"))
        );
        // the last layer's width is the family's parameter count
        assertEquals(
            "model [my-adapter]: adapter family [power] needs 1 outputs, the last layer has 2",
            loadError(MANIFEST, "{\"layers\": [{\"weight\": [[1, 2], [3, 4]], \"bias\": [0, 0]}]}")
        );
        assertEquals(
            "model [my-adapter]: adapter family [linear_sigmoid] needs 2 outputs, the last layer has 1",
            loadError(MANIFEST.replace("\"power\"", "\"linear_sigmoid\""), "{\"layers\": [{\"weight\": [[1, 2]], \"bias\": [0]}]}")
        );
    }

    /** A folder error surfaces through the registry unchanged, so a search naming the adapter gets it as a 400 reason. */
    public void testRegistrySurfacesLoadErrors() throws IOException {
        Path dir = folder(MANIFEST, "adapter.json", WEIGHTS.replace("\"input_dim\": 2", "\"input_dim\": 3"));
        OnnxModelLoader loader = new OnnxModelLoader(OnnxOptions.cpu(1), null);
        try (ModelRegistry registry = new ModelRegistry(List.of(dir.getParent()), loader, new RescoreStats())) {
            assertEquals(
                "model [my-adapter]: manifest dimension [2] differs from weights file input_dim [3]",
                expectThrows(IllegalArgumentException.class, () -> registry.acquire("my-adapter")).getMessage()
            );
        }
    }
}
