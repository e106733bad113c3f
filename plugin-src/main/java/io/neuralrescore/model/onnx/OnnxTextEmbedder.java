/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import java.util.List;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.model.TextTokenizer;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.scoring.VectorMath;

/** Bi-encoder: token outputs pooled (mean over the attention mask, or [CLS]) to one vector per text. */
public final class OnnxTextEmbedder implements TextEmbedder, TokenEncoder {
    private final ModelManifest manifest;
    private final OnnxSession session;
    private final TextTokenizer tokenizer;
    private final InferenceRunner runner;
    /** The same graph's token outputs, for zero-shot late interaction (no markers, no projection). */
    private final OnnxTokenEncoder tokens;

    public OnnxTextEmbedder(ModelManifest manifest, OnnxSession session, TextTokenizer tokenizer, InferenceRunner runner) {
        this.manifest = manifest;
        this.session = session;
        this.tokenizer = tokenizer;
        this.runner = runner;
        this.tokens = manifest.pooling() == ModelManifest.Pooling.NONE
            ? null
            : new OnnxTokenEncoder(
                manifest,
                session,
                tokenizer,
                runner,
                OnnxTokenEncoder.Options.forBiEncoder(manifest),
                null,
                manifest.dimension(),
                false
            );
    }

    private OnnxTokenEncoder tokens() {
        if (tokens == null) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "] outputs pooled vectors only (pooling [none]); it cannot give token vectors"
            );
        }
        return tokens;
    }

    @Override
    public TokenVectors encodeQuery(String text) {
        return tokens().encodeQuery(text);
    }

    @Override
    public List<TokenVectors> encodeDocuments(List<String> texts) {
        return tokens().encodeDocuments(texts);
    }

    @Override
    public int tokenDimension() {
        return manifest.dimension();
    }

    @Override
    public float[][] embed(List<String> texts, int maxLength) {
        Encoded[] encodings = tokenizer.encode(texts, Math.min(maxLength, manifest.maxLength()));
        return embedEncoded(encodings);
    }

    public float[][] embedEncoded(Encoded[] encodings) {
        float[][] vectors = new float[encodings.length][];
        int dim = manifest.dimension();
        runner.run(encodings, manifest.maxBatchSize(), (members, batch) -> {
            OnnxSession.Output out = session.run(batch);
            long[] shape = out.shape();
            int outDim = (int) shape[shape.length - 1];
            if (outDim != dim) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] outputs vectors of dimension " + outDim + " but its manifest says " + dim
                );
            }
            for (int row = 0; row < members.length; row++) {
                float[] v;
                if (shape.length == 2) {
                    v = new float[dim];
                    System.arraycopy(out.values(), row * dim, v, 0, dim);
                } else {
                    int seq = (int) shape[1];
                    int offset = row * seq * dim;
                    v = switch (manifest.pooling()) {
                        case MEAN -> VectorMath.maskedMean(out.values(), offset, seq, dim, batch.rowMask(row));
                        case CLS, NONE -> {
                            float[] cls = new float[dim];
                            System.arraycopy(out.values(), offset, cls, 0, dim);
                            yield cls;
                        }
                    };
                }
                vectors[members[row]] = manifest.normalize() ? VectorMath.l2NormalizeInPlace(v) : v;
            }
        });
        return vectors;
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
