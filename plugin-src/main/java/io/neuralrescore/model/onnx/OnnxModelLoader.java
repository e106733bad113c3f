/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import ai.onnxruntime.OrtException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.neuralrescore.model.CosineAdapterModel;
import io.neuralrescore.model.LoadedModel;
import io.neuralrescore.model.ModelType;
import io.neuralrescore.model.ModelLoader;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.TextTokenizer;

/** Loads models by manifest type: ONNX graphs with their tokenizer, and cosine adapters from their weights file. */
public final class OnnxModelLoader implements ModelLoader {
    private final OnnxOptions options;
    private final InferenceRunner runner;

    public OnnxModelLoader(OnnxOptions options, InferenceRunner runner) {
        this.options = options;
        this.runner = runner;
    }

    @Override
    public LoadedModel load(ModelManifest manifest, Path folder) throws IOException {
        if (manifest.type() == ModelType.COSINE_ADAPTER) {
            return CosineAdapterModel.load(manifest, folder); // plain weights, no graph or tokenizer
        }
        Path tokenizerFile = folder.resolve(manifest.tokenizerFile());
        if (Files.isRegularFile(tokenizerFile) == false) {
            throw new IllegalArgumentException("model [" + manifest.id() + "] has no tokenizer file [" + manifest.tokenizerFile() + "]");
        }
        OnnxSession session;
        try {
            session = OnnxSession.open(manifest, folder, options);
        } catch (OrtException e) {
            throw new IOException("cannot open ONNX model [" + manifest.id() + "]: " + e.getMessage(), e);
        }
        TextTokenizer tokenizer;
        try {
            tokenizer = TextTokenizer.load(tokenizerFile, manifest.maxLength());
        } catch (IOException | RuntimeException e) {
            session.close();
            throw e;
        }
        try {
            return build(manifest, folder, session, tokenizer);
        } catch (IOException | RuntimeException e) {
            session.close();
            tokenizer.close();
            throw e;
        }
    }

    private LoadedModel build(ModelManifest manifest, Path folder, OnnxSession session, TextTokenizer tokenizer) throws IOException {
        return switch (manifest.type()) {
            case CROSS_ENCODER -> new OnnxCrossEncoder(manifest, session, tokenizer, runner);
            case BI_ENCODER -> new OnnxTextEmbedder(manifest, session, tokenizer, runner);
            case COLBERT -> {
                String projectionFile = manifest.colbert().projectionFile();
                float[] projection = projectionFile == null
                    ? null
                    : OnnxTokenEncoder.readProjection(folder.resolve(projectionFile), manifest.dimension());
                yield new OnnxTokenEncoder(
                    manifest,
                    session,
                    tokenizer,
                    runner,
                    OnnxTokenEncoder.Options.forColbert(manifest),
                    projection,
                    manifest.dimension(),
                    true
                );
            }
            default -> throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] has type [" + manifest.type().jsonName() + "], which this plugin version cannot load yet"
            );
        };
    }
}
