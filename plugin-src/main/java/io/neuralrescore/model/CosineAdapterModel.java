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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.neuralrescore.scoring.CosineAdapter;

/** A loaded {@code cosine_adapter} model: its weights, and the bi-encoder it belongs to. */
public final class CosineAdapterModel implements LoadedModel {
    private final ModelManifest manifest;
    private final CosineAdapter adapter;
    private final String embeddingModel;

    private CosineAdapterModel(ModelManifest manifest, CosineAdapter adapter, String embeddingModel) {
        this.manifest = manifest;
        this.adapter = adapter;
        this.embeddingModel = embeddingModel;
    }

    public static CosineAdapterModel load(ModelManifest manifest, Path folder) throws IOException {
        Map<String, Object> raw = manifest.raw();
        Object embedding = raw.get("embedding_model");
        if (embedding instanceof String == false) {
            throw new IllegalArgumentException("invalid manifest for model [" + manifest.id() + "]: [embedding_model] is required");
        }
        Object familyValue = raw.get("family");
        if (familyValue instanceof String == false) {
            throw new IllegalArgumentException("invalid manifest for model [" + manifest.id() + "]: [family] is required");
        }
        CosineAdapter.Family family;
        try {
            family = CosineAdapter.Family.fromString((String) familyValue);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid manifest for model [" + manifest.id() + "]: " + e.getMessage(), e);
        }
        String weightsFile = raw.get("weights_file") instanceof String s ? s : "adapter.json";
        if (weightsFile.contains("/") || weightsFile.contains("\\") || weightsFile.contains("..")) {
            throw new IllegalArgumentException("invalid manifest for model [" + manifest.id() + "]: [weights_file] must be a plain file name");
        }
        Path file = folder.resolve(weightsFile);
        if (Files.isRegularFile(file) == false) {
            throw new IllegalArgumentException("model [" + manifest.id() + "] has no weights file [" + weightsFile + "]");
        }
        Map<String, Object> weights;
        try (
            InputStream in = Files.newInputStream(file);
            XContentParser parser = XContentType.JSON.xContent()
                .createParser(NamedXContentRegistry.EMPTY, DeprecationHandler.THROW_UNSUPPORTED_OPERATION, in)
        ) {
            weights = parser.map();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "]: weights file [" + weightsFile + "] is not valid JSON: " + e.getMessage(),
                e
            );
        }
        if (weights.get("family") != null && family.jsonName().equals(weights.get("family")) == false) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "]: manifest family [" + family.jsonName() + "] differs from weights file family [" + weights.get("family") + "]"
            );
        }
        Object inputDim = weights.get("input_dim");
        if (inputDim != null && (inputDim instanceof Number n && n.doubleValue() == manifest.dimension()) == false) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "]: manifest dimension [" + manifest.dimension() + "] differs from weights file input_dim [" + inputDim + "]"
            );
        }
        List<CosineAdapter.Layer> layers = new ArrayList<>();
        Object layerList = weights.get("layers");
        if (layerList instanceof List<?> list) {
            for (Object l : list) {
                layers.add(layer(manifest.id(), l));
            }
        } else {
            throw new IllegalArgumentException("model [" + manifest.id() + "]: weights file needs a [layers] array");
        }
        CosineAdapter adapter;
        try {
            adapter = new CosineAdapter(family, manifest.dimension(), layers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model [" + manifest.id() + "]: " + e.getMessage(), e);
        }
        return new CosineAdapterModel(manifest, adapter, (String) embedding);
    }

    private static CosineAdapter.Layer layer(String id, Object value) {
        if (value instanceof Map<?, ?> m && m.get("weight") instanceof List<?> rows && m.get("bias") instanceof List<?> bias) {
            float[][] w = new float[rows.size()][];
            for (int r = 0; r < w.length; r++) {
                w[r] = floats(id, rows.get(r));
            }
            Object activation = m.get("activation");
            boolean relu = "relu".equals(activation);
            if (activation != null && relu == false && "none".equals(activation) == false) {
                throw new IllegalArgumentException("model [" + id + "]: layer activation must be [relu] or [none], got [" + activation + "]");
            }
            return new CosineAdapter.Layer(w, floats(id, bias), relu);
        }
        throw new IllegalArgumentException("model [" + id + "]: each layer needs [weight] (array of rows) and [bias]");
    }

    private static float[] floats(String id, Object value) {
        if (value instanceof List<?> list) {
            float[] out = new float[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (list.get(i) instanceof Number n && Float.isFinite(n.floatValue())) {
                    out[i] = n.floatValue();
                } else {
                    throw new IllegalArgumentException("model [" + id + "]: weights must be finite numbers, got [" + list.get(i) + "]");
                }
            }
            return out;
        }
        throw new IllegalArgumentException("model [" + id + "]: expected an array of numbers");
    }

    public CosineAdapter adapter() {
        return adapter;
    }

    /** Id of the bi-encoder the adapter was trained on. */
    public String embeddingModel() {
        return embeddingModel;
    }

    @Override
    public ModelManifest manifest() {
        return manifest;
    }

    @Override
    public String device() {
        return "cpu";
    }

    @Override
    public void close() {}
}
