/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model folder's {@code model.json}: what the model is and how to feed it. Parsing is strict so that a typo in a
 * key is an error naming the key rather than a silently ignored option. See {@code models/MANIFEST.md}.
 */
public final class ModelManifest {
    public static final String FILE_NAME = "model.json";

    /** How a bi-encoder's token outputs become one vector. */
    public enum Pooling {
        MEAN,
        CLS,
        NONE;

        static Pooling fromString(String v) {
            for (Pooling p : values()) {
                if (p.name().toLowerCase(Locale.ROOT).equals(v)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("[pooling] must be one of [mean, cls, none], got [" + v + "]");
        }
    }

    /** ColBERT-family encoding options (model type {@code colbert}); defaults follow ColBERT/PyLate. */
    public record ColbertOptions(
        String projectionFile,
        String queryMarker,
        String documentMarker,
        int queryMaxLength,
        int documentMaxLength,
        boolean queryAugmentation,
        boolean punctuationSkiplist
    ) {}

    /** Graph input names; {@code tokenTypeIds} is null for graphs without that input. */
    public record InputNames(String inputIds, String attentionMask, String tokenTypeIds) {}

    private static final Set<String> COMMON_KEYS = Set.of(
        "type",
        "model_file",
        "tokenizer_file",
        "max_length",
        "inputs",
        "output",
        "description",
        "license",
        "name",
        "max_batch_size"
    );
    private static final Map<ModelType, Set<String>> TYPE_KEYS = Map.of(
        ModelType.CROSS_ENCODER,
        Set.of("logit_index"),
        ModelType.BI_ENCODER,
        Set.of("pooling", "normalize", "dimension", "query_prefix", "document_prefix"),
        ModelType.COLBERT,
        Set.of(
            "dimension",
            "normalize",
            "projection_file",
            "query_marker",
            "document_marker",
            "query_max_length",
            "document_max_length",
            "query_augmentation",
            "skiplist"
        ),
        ModelType.COSINE_ADAPTER,
        Set.of("embedding_model", "family", "weights_file", "dimension")
    );

    private final String id;
    private final ModelType type;
    private final String modelFile;
    private final String tokenizerFile;
    private final int maxLength;
    private final InputNames inputs;
    private final String output;
    private final String description;
    private final String license;
    private final int maxBatchSize;
    private final int logitIndex;
    private final Pooling pooling;
    private final String queryPrefix;
    private final String documentPrefix;
    private final boolean normalize;
    private final int dimension;
    private final ColbertOptions colbert;
    private final Map<String, Object> raw;

    private ModelManifest(String id, Map<String, Object> map) {
        this.id = id;
        this.raw = map;
        Object typeValue = map.get("type");
        if (typeValue == null) {
            throw error(id, "[type] is required");
        }
        try {
            this.type = ModelType.fromString(String.valueOf(typeValue));
        } catch (IllegalArgumentException e) {
            throw error(id, e.getMessage());
        }
        Set<String> unknown = new TreeSet<>(map.keySet());
        unknown.removeAll(COMMON_KEYS);
        unknown.removeAll(TYPE_KEYS.get(type));
        if (unknown.isEmpty() == false) {
            throw error(id, "unknown keys " + unknown + " for model type [" + type.jsonName() + "]");
        }
        this.modelFile = fileName(id, map, "model_file", type == ModelType.COSINE_ADAPTER ? null : "model.onnx");
        this.tokenizerFile = fileName(id, map, "tokenizer_file", type == ModelType.COSINE_ADAPTER ? null : "tokenizer.json");
        this.maxLength = intValue(id, map, "max_length", 512, 2, 8192);
        this.inputs = parseInputs(id, map.get("inputs"));
        this.output = stringValue(id, map, "output", type == ModelType.CROSS_ENCODER ? "logits" : "last_hidden_state");
        this.description = stringValue(id, map, "description", "");
        this.license = stringValue(id, map, "license", "");
        this.maxBatchSize = intValue(id, map, "max_batch_size", 0, 0, 4096);
        this.logitIndex = intValue(id, map, "logit_index", 0, 0, 1024);
        this.pooling = type == ModelType.BI_ENCODER ? parsePooling(id, map) : Pooling.NONE;
        this.queryPrefix = stringValue(id, map, "query_prefix", "");
        this.documentPrefix = stringValue(id, map, "document_prefix", "");
        this.normalize = boolValue(id, map, "normalize", true);
        boolean needsDimension = type == ModelType.BI_ENCODER || type == ModelType.COLBERT || type == ModelType.COSINE_ADAPTER;
        this.dimension = needsDimension ? requiredInt(id, map, "dimension", 1, 65536) : 0;
        this.colbert = type == ModelType.COLBERT ? parseColbert(id, map) : null;
    }

    /** Reads and validates {@code <folder>/model.json}; {@code id} is the folder name. */
    public static ModelManifest read(String id, Path folder) throws IOException {
        Path file = folder.resolve(FILE_NAME);
        if (Files.isRegularFile(file) == false) {
            throw new IllegalArgumentException("model [" + id + "] has no " + FILE_NAME + " in its folder");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(id, in);
        }
    }

    public static ModelManifest parse(String id, InputStream json) throws IOException {
        Map<String, Object> map;
        try (
            XContentParser parser = XContentType.JSON.xContent()
                .createParser(NamedXContentRegistry.EMPTY, DeprecationHandler.THROW_UNSUPPORTED_OPERATION, json)
        ) {
            map = parser.map();
        } catch (IOException | RuntimeException e) {
            // Jackson reports malformed JSON as an IOException; either way the message names the model
            throw error(id, "is not valid JSON: " + e.getMessage());
        }
        return new ModelManifest(id, new LinkedHashMap<>(map));
    }

    public static ModelManifest fromMap(String id, Map<String, Object> map) {
        return new ModelManifest(id, new LinkedHashMap<>(map));
    }

    private static IllegalArgumentException error(String id, String message) {
        return new IllegalArgumentException("invalid manifest for model [" + id + "]: " + message);
    }

    private static String fileName(String id, Map<String, Object> map, String key, String defaultValue) {
        String value = stringValue(id, map, key, defaultValue);
        if (value == null) {
            return null;
        }
        if (value.isEmpty() || value.contains("/") || value.contains("\\") || value.contains("..")) {
            throw error(id, "[" + key + "] must be a plain file name inside the model folder, got [" + value + "]");
        }
        return value;
    }

    private static String stringValue(String id, Map<String, Object> map, String key, String defaultValue) {
        Object v = map.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof String s) {
            return s;
        }
        throw error(id, "[" + key + "] must be a string, got [" + v + "]");
    }

    private static boolean boolValue(String id, Map<String, Object> map, String key, boolean defaultValue) {
        Object v = map.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw error(id, "[" + key + "] must be true or false, got [" + v + "]");
    }

    private static int intValue(String id, Map<String, Object> map, String key, int defaultValue, int min, int max) {
        Object v = map.get(key);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Integer || v instanceof Long) {
            long l = ((Number) v).longValue();
            if (l < min || l > max) {
                throw error(id, "[" + key + "] must be between " + min + " and " + max + ", got [" + l + "]");
            }
            return (int) l;
        }
        throw error(id, "[" + key + "] must be an integer, got [" + v + "]");
    }

    private static int requiredInt(String id, Map<String, Object> map, String key, int min, int max) {
        if (map.get(key) == null) {
            throw error(id, "[" + key + "] is required for model type [" + String.valueOf(map.get("type")) + "]");
        }
        return intValue(id, map, key, 0, min, max);
    }

    private static InputNames parseInputs(String id, Object value) {
        Map<String, String> names = new HashMap<>();
        names.put("input_ids", "input_ids");
        names.put("attention_mask", "attention_mask");
        names.put("token_type_ids", "token_type_ids");
        if (value != null) {
            if (value instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String key = String.valueOf(e.getKey());
                    if (names.containsKey(key) == false) {
                        throw error(id, "[inputs] has unknown key [" + key + "], expected [input_ids, attention_mask, token_type_ids]");
                    }
                    Object name = e.getValue();
                    if (name != null && name instanceof String == false) {
                        // only token_type_ids may be null (graphs without that input)
                        String allowed = key.equals("token_type_ids") ? "a string or null" : "a string";
                        throw error(id, "[inputs." + key + "] must be " + allowed + ", got [" + name + "]");
                    }
                    if (name == null && key.equals("token_type_ids") == false) {
                        throw error(id, "[inputs." + key + "] must not be null");
                    }
                    names.put(key, (String) name);
                }
            } else {
                throw error(id, "[inputs] must be an object");
            }
        }
        return new InputNames(names.get("input_ids"), names.get("attention_mask"), names.get("token_type_ids"));
    }

    private static Pooling parsePooling(String id, Map<String, Object> map) {
        String value = stringValue(id, map, "pooling", "mean"); // its own error already names the model
        try {
            return Pooling.fromString(value);
        } catch (IllegalArgumentException e) {
            throw error(id, e.getMessage());
        }
    }

    private static ColbertOptions parseColbert(String id, Map<String, Object> map) {
        String skiplist = stringValue(id, map, "skiplist", "punctuation");
        if (skiplist.equals("punctuation") == false && skiplist.equals("none") == false) {
            throw error(id, "[skiplist] must be [punctuation] or [none], got [" + skiplist + "]");
        }
        return new ColbertOptions(
            fileName(id, map, "projection_file", null),
            map.containsKey("query_marker") ? stringValue(id, map, "query_marker", null) : "[unused0]",
            map.containsKey("document_marker") ? stringValue(id, map, "document_marker", null) : "[unused1]",
            intValue(id, map, "query_max_length", 32, 2, 8192),
            intValue(id, map, "document_max_length", 180, 2, 8192),
            boolValue(id, map, "query_augmentation", true),
            skiplist.equals("punctuation")
        );
    }

    public String id() {
        return id;
    }

    public ModelType type() {
        return type;
    }

    public String modelFile() {
        return modelFile;
    }

    public String tokenizerFile() {
        return tokenizerFile;
    }

    public int maxLength() {
        return maxLength;
    }

    public InputNames inputs() {
        return inputs;
    }

    public String output() {
        return output;
    }

    public String description() {
        return description;
    }

    public String license() {
        return license;
    }

    /**
     * Most sequences per inference batch for this model, or 0 for the node's setting. 1 gives exact one-at-a-time
     * scores for dynamically quantized (int8) graphs, whose activation scales depend on the whole batch.
     */
    public int maxBatchSize() {
        return maxBatchSize;
    }

    public int logitIndex() {
        return logitIndex;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** Text put before every query a bi-encoder embeds (e.g. {@code "query: "} for E5); empty for none. */
    public String queryPrefix() {
        return queryPrefix;
    }

    /** Text put before every document a bi-encoder embeds (e.g. {@code "passage: "} for E5); empty for none. */
    public String documentPrefix() {
        return documentPrefix;
    }

    public boolean normalize() {
        return normalize;
    }

    public int dimension() {
        return dimension;
    }

    public ColbertOptions colbert() {
        return colbert;
    }

    /** The manifest as parsed, for type-specific keys read by later model kinds. */
    public Map<String, Object> raw() {
        return raw;
    }
}
