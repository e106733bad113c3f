/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.opensearch.test.OpenSearchTestCase;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Manifests: every type with its defaults, and the exact message of every validation error. */
public class ModelManifestTests extends OpenSearchTestCase {
    private static final String PREFIX = "invalid manifest for model [m]: ";

    private static ModelManifest parse(String json) throws IOException {
        return ModelManifest.parse("m", new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    /** The message {@code json} is refused with, less the common prefix (which is asserted). */
    private static String error(String json) {
        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> parse(json));
        assertTrue(e.getMessage(), e.getMessage().startsWith(PREFIX));
        return e.getMessage().substring(PREFIX.length());
    }

    // ---- valid manifests ---------------------------------------------------------------------------------------

    public void testCrossEncoderDefaults() throws IOException {
        ModelManifest m = parse("{\"type\": \"cross_encoder\"}");
        assertEquals("m", m.id());
        assertEquals(ModelType.CROSS_ENCODER, m.type());
        assertEquals("model.onnx", m.modelFile());
        assertEquals("tokenizer.json", m.tokenizerFile());
        assertEquals(512, m.maxLength());
        assertEquals(new ModelManifest.InputNames("input_ids", "attention_mask", "token_type_ids"), m.inputs());
        assertEquals("logits", m.output());
        assertEquals("", m.description());
        assertEquals("", m.license());
        assertEquals(0, m.logitIndex());
        assertEquals(ModelManifest.Pooling.NONE, m.pooling());
        assertTrue(m.normalize());
        assertEquals(0, m.dimension());
        assertNull(m.colbert());
        assertEquals(Map.of("type", "cross_encoder"), m.raw());
    }

    public void testCrossEncoderAllKeys() throws IOException {
        ModelManifest m = parse(
            "{\"type\": \"cross_encoder\", \"model_file\": \"ce.onnx\", \"tokenizer_file\": \"tok.json\", \"max_length\": 256,"
                + " \"inputs\": {\"input_ids\": \"ids\", \"attention_mask\": \"mask\", \"token_type_ids\": null},"
                + " \"output\": \"scores\", \"logit_index\": 1, \"description\": \"d\", \"license\": \"MIT\", \"name\": \"n\"}"
        );
        assertEquals("ce.onnx", m.modelFile());
        assertEquals("tok.json", m.tokenizerFile());
        assertEquals(256, m.maxLength());
        assertEquals(new ModelManifest.InputNames("ids", "mask", null), m.inputs());
        assertEquals("scores", m.output());
        assertEquals(1, m.logitIndex());
        assertEquals("d", m.description());
        assertEquals("MIT", m.license());
        assertEquals("n", m.raw().get("name"));
    }

    public void testPartialInputsKeepDefaults() throws IOException {
        ModelManifest m = parse("{\"type\": \"cross_encoder\", \"inputs\": {\"attention_mask\": \"mask\"}}");
        assertEquals(new ModelManifest.InputNames("input_ids", "mask", "token_type_ids"), m.inputs());
    }

    public void testBiEncoderDefaults() throws IOException {
        ModelManifest m = parse("{\"type\": \"bi_encoder\", \"dimension\": 384}");
        assertEquals(ModelType.BI_ENCODER, m.type());
        assertEquals("last_hidden_state", m.output());
        assertEquals(ModelManifest.Pooling.MEAN, m.pooling());
        assertTrue(m.normalize());
        assertEquals(384, m.dimension());
        assertEquals("model.onnx", m.modelFile());
        assertEquals(512, m.maxLength());
        assertNull(m.colbert());
    }

    public void testBiEncoderOptions() throws IOException {
        for (ModelManifest.Pooling pooling : ModelManifest.Pooling.values()) {
            String name = pooling.name().toLowerCase(java.util.Locale.ROOT);
            ModelManifest m = parse(
                "{\"type\": \"bi_encoder\", \"dimension\": 1, \"pooling\": \"" + name + "\", \"normalize\": false, \"output\": \"pooled\"}"
            );
            assertEquals(pooling, m.pooling());
            assertFalse(m.normalize());
            assertEquals(1, m.dimension());
            assertEquals("pooled", m.output());
        }
        assertEquals(65536, parse("{\"type\": \"bi_encoder\", \"dimension\": 65536}").dimension());
    }

    public void testBiEncoderPrefixes() throws IOException {
        ModelManifest plain = parse("{\"type\": \"bi_encoder\", \"dimension\": 384}");
        assertEquals("", plain.queryPrefix());
        assertEquals("", plain.documentPrefix());
        ModelManifest e5 = parse(
            "{\"type\": \"bi_encoder\", \"dimension\": 384, \"query_prefix\": \"query: \", \"document_prefix\": \"passage: \"}"
        );
        assertEquals("query: ", e5.queryPrefix());
        assertEquals("passage: ", e5.documentPrefix());
        assertEquals(
            "[query_prefix] must be a string, got [3]",
            error("{\"type\": \"bi_encoder\", \"dimension\": 384, \"query_prefix\": 3}")
        );
        assertEquals(
            "unknown keys [document_prefix] for model type [cross_encoder]",
            error("{\"type\": \"cross_encoder\", \"document_prefix\": \"passage: \"}")
        );
    }

    public void testColbertDefaults() throws IOException {
        ModelManifest m = parse("{\"type\": \"colbert\", \"dimension\": 128}");
        assertEquals(ModelType.COLBERT, m.type());
        assertEquals(128, m.dimension());
        assertTrue(m.normalize());
        assertEquals("last_hidden_state", m.output());
        assertEquals(ModelManifest.Pooling.NONE, m.pooling());
        assertEquals(new ModelManifest.ColbertOptions(null, "[unused0]", "[unused1]", 32, 180, true, true), m.colbert());
    }

    public void testColbertOptions() throws IOException {
        ModelManifest m = parse(
            "{\"type\": \"colbert\", \"dimension\": 96, \"projection_file\": \"proj.bin\", \"query_marker\": \"[Q] \","
                + " \"document_marker\": null, \"query_max_length\": 64, \"document_max_length\": 300,"
                + " \"query_augmentation\": false, \"skiplist\": \"none\", \"normalize\": false}"
        );
        assertEquals(new ModelManifest.ColbertOptions("proj.bin", "[Q] ", null, 64, 300, false, false), m.colbert());
        assertFalse(m.normalize());
    }

    public void testCosineAdapterDefaults() throws IOException {
        ModelManifest m = parse(
            "{\"type\": \"cosine_adapter\", \"dimension\": 384, \"embedding_model\": \"all-minilm-l6-v2\", \"family\": \"isotonic\","
                + " \"weights_file\": \"w.bin\"}"
        );
        assertEquals(ModelType.COSINE_ADAPTER, m.type());
        assertNull("adapters have no graph", m.modelFile());
        assertNull("adapters have no tokenizer", m.tokenizerFile());
        assertEquals(384, m.dimension());
        assertEquals("all-minilm-l6-v2", m.raw().get("embedding_model"));
        assertEquals("w.bin", m.raw().get("weights_file"));
    }

    public void testFromMapCopies() {
        Map<String, Object> map = new HashMap<>();
        map.put("type", "cross_encoder");
        ModelManifest m = ModelManifest.fromMap("x", map);
        map.put("type", "colbert");
        assertEquals(ModelType.CROSS_ENCODER, m.type());
        assertEquals("cross_encoder", m.raw().get("type"));
    }

    public void testEveryTestModelManifestParses() throws IOException {
        Path root = io.neuralrescore.testing.TestModels.testModels();
        assumeTrue("test models present", Files.isDirectory(root));
        try (var dirs = Files.list(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                ModelManifest m = ModelManifest.read(dir.getFileName().toString(), dir);
                assertEquals(dir.getFileName().toString(), m.id());
            }
        }
    }

    public void testReadFromFolder() throws IOException {
        Path dir = createTempDir();
        Files.writeString(dir.resolve(ModelManifest.FILE_NAME), "{\"type\": \"bi_encoder\", \"dimension\": 8}");
        ModelManifest m = ModelManifest.read("folder-id", dir);
        assertEquals("folder-id", m.id());
        assertEquals(8, m.dimension());

        Path empty = createTempDir();
        assertEquals(
            "model [x] has no model.json in its folder",
            expectThrows(IllegalArgumentException.class, () -> ModelManifest.read("x", empty)).getMessage()
        );
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    /** Jackson's own words follow the prefix; only their start is stable enough to assert. */
    public void testMalformedJson() {
        String message = error("{not json");
        assertTrue(
            message,
            message.startsWith("is not valid JSON: Unexpected character ('n' (code 110)): was expecting double-quote to start property name")
        );
        message = error("{\"type\": \"cross_encoder\",}");
        assertTrue(message, message.startsWith("is not valid JSON: Unexpected character ('}' (code 125))"));
    }

    public void testMissingType() {
        assertEquals("[type] is required", error("{}"));
        assertEquals("[type] is required", error("{\"model_file\": \"x.onnx\"}"));
        assertEquals("[type] is required", error("{\"type\": null}"));
    }

    public void testUnknownType() {
        String expected = "unknown model type [%s], expected one of [cross_encoder, bi_encoder, colbert, cosine_adapter]";
        assertEquals(String.format(java.util.Locale.ROOT, expected, "reranker"), error("{\"type\": \"reranker\"}"));
        assertEquals(String.format(java.util.Locale.ROOT, expected, "CROSS_ENCODER"), error("{\"type\": \"CROSS_ENCODER\"}"));
        assertEquals(String.format(java.util.Locale.ROOT, expected, "3"), error("{\"type\": 3}"));
    }

    public void testUnknownKeys() {
        assertEquals("unknown keys [max_lenght] for model type [cross_encoder]", error("{\"type\": \"cross_encoder\", \"max_lenght\": 5}"));
        // keys of another type are unknown too; listed sorted
        assertEquals(
            "unknown keys [dimension, pooling] for model type [cross_encoder]",
            error("{\"type\": \"cross_encoder\", \"pooling\": \"mean\", \"dimension\": 3}")
        );
        assertEquals(
            "unknown keys [logit_index] for model type [bi_encoder]",
            error("{\"type\": \"bi_encoder\", \"dimension\": 3, \"logit_index\": 1}")
        );
        assertEquals(
            "unknown keys [pooling, weights_file] for model type [colbert]",
            error("{\"type\": \"colbert\", \"dimension\": 3, \"weights_file\": \"w\", \"pooling\": \"cls\"}")
        );
        assertEquals(
            "unknown keys [skiplist] for model type [cosine_adapter]",
            error("{\"type\": \"cosine_adapter\", \"dimension\": 3, \"skiplist\": \"none\"}")
        );
    }

    public void testWrongValueTypes() {
        String ce = "{\"type\": \"cross_encoder\", ";
        assertEquals("[model_file] must be a string, got [3]", error(ce + "\"model_file\": 3}"));
        assertEquals("[tokenizer_file] must be a string, got [true]", error(ce + "\"tokenizer_file\": true}"));
        assertEquals("[output] must be a string, got [[a, b]]", error(ce + "\"output\": [\"a\", \"b\"]}"));
        assertEquals("[description] must be a string, got [{x=1}]", error(ce + "\"description\": {\"x\": 1}}"));
        assertEquals("[license] must be a string, got [1.5]", error(ce + "\"license\": 1.5}"));
        assertEquals("[max_length] must be an integer, got [128.0]", error(ce + "\"max_length\": 128.0}"));
        assertEquals("[max_length] must be an integer, got [128]", error(ce + "\"max_length\": \"128\"}"));
        assertEquals("[logit_index] must be an integer, got [false]", error(ce + "\"logit_index\": false}"));
        String bi = "{\"type\": \"bi_encoder\", \"dimension\": 4, ";
        assertEquals("[normalize] must be true or false, got [yes]", error(bi + "\"normalize\": \"yes\"}"));
        assertEquals("[normalize] must be true or false, got [1]", error(bi + "\"normalize\": 1}"));
        assertEquals("[pooling] must be a string, got [2]", error(bi + "\"pooling\": 2}"));
        assertEquals("[dimension] must be an integer, got [384]", error("{\"type\": \"bi_encoder\", \"dimension\": \"384\"}"));
    }

    public void testBadPooling() {
        assertEquals(
            "[pooling] must be one of [mean, cls, none], got [max]",
            error("{\"type\": \"bi_encoder\", \"dimension\": 4, \"pooling\": \"max\"}")
        );
        assertEquals(
            "[pooling] must be one of [mean, cls, none], got [MEAN]",
            error("{\"type\": \"bi_encoder\", \"dimension\": 4, \"pooling\": \"MEAN\"}")
        );
    }

    public void testOutOfRangeInts() {
        String ce = "{\"type\": \"cross_encoder\", ";
        assertEquals("[max_length] must be between 2 and 8192, got [1]", error(ce + "\"max_length\": 1}"));
        assertEquals("[max_length] must be between 2 and 8192, got [8193]", error(ce + "\"max_length\": 8193}"));
        assertEquals("[max_length] must be between 2 and 8192, got [-1]", error(ce + "\"max_length\": -1}"));
        assertEquals(
            "[max_length] must be between 2 and 8192, got [99999999999]",
            error(ce + "\"max_length\": 99999999999}")
        );
        assertEquals("[logit_index] must be between 0 and 1024, got [-1]", error(ce + "\"logit_index\": -1}"));
        assertEquals("[logit_index] must be between 0 and 1024, got [1025]", error(ce + "\"logit_index\": 1025}"));
        assertEquals("[dimension] must be between 1 and 65536, got [0]", error("{\"type\": \"bi_encoder\", \"dimension\": 0}"));
        assertEquals("[dimension] must be between 1 and 65536, got [65537]", error("{\"type\": \"colbert\", \"dimension\": 65537}"));
        String colbert = "{\"type\": \"colbert\", \"dimension\": 8, ";
        assertEquals("[query_max_length] must be between 2 and 8192, got [1]", error(colbert + "\"query_max_length\": 1}"));
        assertEquals("[document_max_length] must be between 2 and 8192, got [9000]", error(colbert + "\"document_max_length\": 9000}"));
        // the bounds themselves are fine
        assertEquals(2, expectNoError(ce + "\"max_length\": 2}").maxLength());
        assertEquals(8192, expectNoError(ce + "\"max_length\": 8192}").maxLength());
        assertEquals(1024, expectNoError(ce + "\"logit_index\": 1024}").logitIndex());
    }

    private static ModelManifest expectNoError(String json) {
        try {
            return parse(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    public void testDimensionRequired() {
        assertEquals("[dimension] is required for model type [bi_encoder]", error("{\"type\": \"bi_encoder\"}"));
        assertEquals("[dimension] is required for model type [colbert]", error("{\"type\": \"colbert\"}"));
        assertEquals("[dimension] is required for model type [cosine_adapter]", error("{\"type\": \"cosine_adapter\"}"));
        assertEquals("[dimension] is required for model type [bi_encoder]", error("{\"type\": \"bi_encoder\", \"dimension\": null}"));
    }

    public void testFileNamesMustStayInTheFolder() {
        for (String key : List.of("model_file", "tokenizer_file")) {
            for (String bad : List.of("", "../model.onnx", "sub/model.onnx", "/abs.onnx", "..\\x.onnx", "c:\\x.onnx", "..", "a..b")) {
                String json = "{\"type\": \"cross_encoder\", \"" + key + "\": \"" + bad.replace("\\", "\\\\") + "\"}";
                assertEquals(
                    "[" + key + "] must be a plain file name inside the model folder, got [" + bad + "]",
                    error(json)
                );
            }
        }
        assertEquals(
            "[projection_file] must be a plain file name inside the model folder, got [../w.bin]",
            error("{\"type\": \"colbert\", \"dimension\": 8, \"projection_file\": \"../w.bin\"}")
        );
    }

    public void testInputsErrors() {
        String ce = "{\"type\": \"cross_encoder\", \"inputs\": ";
        assertEquals("[inputs] must be an object", error(ce + "[\"input_ids\"]}"));
        assertEquals("[inputs] must be an object", error(ce + "\"input_ids\"}"));
        assertEquals(
            "[inputs] has unknown key [pixel_values], expected [input_ids, attention_mask, token_type_ids]",
            error(ce + "{\"pixel_values\": \"x\"}}")
        );
        assertEquals("[inputs.input_ids] must be a string, got [3]", error(ce + "{\"input_ids\": 3}}"));
        assertEquals("[inputs.attention_mask] must be a string, got [{a=b}]", error(ce + "{\"attention_mask\": {\"a\": \"b\"}}}"));
        assertEquals("[inputs.token_type_ids] must be a string or null, got [false]", error(ce + "{\"token_type_ids\": false}}"));
        assertEquals("[inputs.input_ids] must not be null", error(ce + "{\"input_ids\": null}}"));
        assertEquals("[inputs.attention_mask] must not be null", error(ce + "{\"attention_mask\": null}}"));
    }

    public void testColbertOptionErrors() {
        String colbert = "{\"type\": \"colbert\", \"dimension\": 8, ";
        assertEquals("[skiplist] must be [punctuation] or [none], got [all]", error(colbert + "\"skiplist\": \"all\"}"));
        assertEquals("[skiplist] must be a string, got [false]", error(colbert + "\"skiplist\": false}"));
        assertEquals("[query_marker] must be a string, got [1]", error(colbert + "\"query_marker\": 1}"));
        assertEquals("[document_marker] must be a string, got [[x]]", error(colbert + "\"document_marker\": [\"x\"]}"));
        assertEquals("[query_augmentation] must be true or false, got [yes]", error(colbert + "\"query_augmentation\": \"yes\"}"));
        assertEquals("[query_max_length] must be an integer, got [a]", error(colbert + "\"query_max_length\": \"a\"}"));
    }

    /** The message names the model whatever the id. */
    public void testMessageNamesTheModel() {
        IllegalArgumentException e = expectThrows(
            IllegalArgumentException.class,
            () -> ModelManifest.parse("my-ce.v2", new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)))
        );
        assertEquals("invalid manifest for model [my-ce.v2]: [type] is required", e.getMessage());
    }
}
