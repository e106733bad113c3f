/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import java.util.List;

import io.neuralrescore.model.CrossEncoder;
import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.TextTokenizer;

/** Hugging Face style cross-encoder: {@code [CLS] query [SEP] text [SEP]} in, {@code logits [batch, n]} out. */
public final class OnnxCrossEncoder implements CrossEncoder {
    private final ModelManifest manifest;
    private final OnnxSession session;
    private final TextTokenizer tokenizer;
    private final InferenceRunner runner;

    public OnnxCrossEncoder(ModelManifest manifest, OnnxSession session, TextTokenizer tokenizer, InferenceRunner runner) {
        this.manifest = manifest;
        this.session = session;
        this.tokenizer = tokenizer;
        this.runner = runner;
    }

    @Override
    public float[] score(String query, List<String> texts, int maxLength) {
        Encoded[] encodings = tokenizer.encodePairs(query, texts, Math.min(maxLength, manifest.maxLength()));
        return scoreEncoded(encodings);
    }

    /** Scores already tokenized pairs; benchmarks use it to time inference apart from tokenization. */
    public float[] scoreEncoded(Encoded[] encodings) {
        float[] scores = new float[encodings.length];
        int logit = manifest.logitIndex();
        runner.run(encodings, manifest.maxBatchSize(), (members, batch) -> {
            OnnxSession.Output out = session.run(batch);
            int columns = out.shape().length == 1 ? 1 : (int) out.shape()[1];
            if (logit >= columns) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] has " + columns + " logits per pair but logit_index is " + logit
                );
            }
            for (int row = 0; row < members.length; row++) {
                scores[members[row]] = out.values()[row * columns + logit];
            }
        });
        return scores;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public ModelManifest manifest() {
        return manifest;
    }

    @Override
    public String device() {
        return session.device();
    }

    @Override
    public void close() {
        try {
            session.close();
        } finally {
            tokenizer.close();
        }
    }
}
