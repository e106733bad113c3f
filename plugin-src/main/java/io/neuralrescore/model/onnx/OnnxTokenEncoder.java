/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import ai.djl.huggingface.tokenizers.Encoding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.ModelManifest;
import io.neuralrescore.model.TextTokenizer;
import io.neuralrescore.model.TokenEncoder;
import io.neuralrescore.model.TokenInputs;
import io.neuralrescore.scoring.VectorMath;

/**
 * Token encoder over an ONNX graph with {@code [batch, seq, hidden]} output: ColBERT/PyLate exports (markers,
 * query augmentation, skiplist, optional projection) and, with those options off, plain bi-encoders used zero-shot.
 */
public final class OnnxTokenEncoder implements TokenEncoder {
    /** Options of the token pipeline; {@link #forBiEncoder} gives the zero-shot defaults. */
    public record Options(
        String queryMarker,
        String documentMarker,
        int queryMaxLength,
        int documentMaxLength,
        boolean queryAugmentation,
        boolean punctuationSkiplist,
        boolean normalize
    ) {
        public static Options forBiEncoder(ModelManifest m) {
            return new Options(null, null, m.maxLength(), m.maxLength(), false, true, true);
        }

        public static Options forColbert(ModelManifest m) {
            ModelManifest.ColbertOptions c = m.colbert();
            return new Options(
                c.queryMarker(),
                c.documentMarker(),
                c.queryMaxLength(),
                c.documentMaxLength(),
                c.queryAugmentation(),
                c.punctuationSkiplist(),
                m.normalize()
            );
        }
    }

    private final ModelManifest manifest;
    private final OnnxSession session;
    private final TextTokenizer tokenizer;
    private final InferenceRunner runner;
    private final Options options;
    private final float[] projection; // [dim, hidden] row-major, or null
    private final int dimension;
    private final long queryMarkerId;
    private final long documentMarkerId;
    private final long maskId;
    private final boolean ownsSession;

    public OnnxTokenEncoder(
        ModelManifest manifest,
        OnnxSession session,
        TextTokenizer tokenizer,
        InferenceRunner runner,
        Options options,
        float[] projection,
        int dimension,
        boolean ownsSession
    ) {
        this.manifest = manifest;
        this.session = session;
        this.tokenizer = tokenizer;
        this.runner = runner;
        this.options = options;
        this.projection = projection;
        this.dimension = dimension;
        this.ownsSession = ownsSession;
        this.queryMarkerId = markerId(options.queryMarker());
        this.documentMarkerId = markerId(options.documentMarker());
        this.maskId = options.queryAugmentation() ? requireToken("[MASK]") : -1;
    }

    private long markerId(String marker) {
        return marker == null ? -1 : requireToken(marker);
    }

    private long requireToken(String token) {
        long id = tokenizer.tokenId(token);
        if (id < 0) {
            throw new IllegalArgumentException("model [" + manifest.id() + "]: tokenizer has no token [" + token + "]");
        }
        return id;
    }

    /** Reads a little-endian float32 {@code [dimension, hidden]} projection matrix. */
    public static float[] readProjection(Path file, int dimension) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length % (4 * dimension) != 0) {
            throw new IllegalArgumentException(
                "projection file [" + file.getFileName() + "] has " + bytes.length + " bytes, not a multiple of 4 * dimension " + dimension
            );
        }
        float[] w = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(w);
        return w;
    }

    @Override
    public TokenVectors encodeQuery(String text) {
        int room = options.queryMaxLength() - (queryMarkerId >= 0 ? 1 : 0);
        Encoding enc = tokenizer.encodeRaw(List.of(text), room, true)[0];
        TokenInputs.Prepared p = TokenInputs.prepare(
            enc,
            queryMarkerId,
            options.queryMarker(),
            options.queryAugmentation() ? options.queryMaxLength() : 0,
            maskId,
            false
        );
        return run(List.of(p)).get(0);
    }

    @Override
    public List<TokenVectors> encodeDocuments(List<String> texts) {
        int room = options.documentMaxLength() - (documentMarkerId >= 0 ? 1 : 0);
        Encoding[] encs = tokenizer.encodeRaw(texts, room, true);
        List<TokenInputs.Prepared> prepared = new ArrayList<>(encs.length);
        for (Encoding e : encs) {
            prepared.add(TokenInputs.prepare(e, documentMarkerId, options.documentMarker(), 0, -1, options.punctuationSkiplist()));
        }
        return run(prepared);
    }

    private List<TokenVectors> run(List<TokenInputs.Prepared> prepared) {
        Encoded[] inputs = new Encoded[prepared.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = prepared.get(i).input();
        }
        TokenVectors[] out = new TokenVectors[inputs.length];
        runner.run(inputs, manifest.maxBatchSize(), (members, batch) -> {
            OnnxSession.Output o = session.run(batch);
            long[] shape = o.shape();
            if (shape.length != 3) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] output [" + manifest.output() + "] must be [batch, seq, dim] for token vectors"
                );
            }
            int seq = (int) shape[1];
            int hidden = (int) shape[2];
            if (projection == null && hidden != dimension) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] outputs token vectors of dimension " + hidden + " but its manifest says " + dimension
                );
            }
            if (projection != null && projection.length != dimension * hidden) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] projection is not [" + dimension + ", " + hidden + "]"
                );
            }
            for (int row = 0; row < members.length; row++) {
                TokenInputs.Prepared p = prepared.get(members[row]);
                float[][] vectors = new float[p.kept()][];
                String[] tokens = new String[vectors.length];
                int k = 0;
                for (int t = 0; t < p.input().length(); t++) {
                    if (p.keep()[t] == false) {
                        continue;
                    }
                    int base = (row * seq + t) * hidden;
                    float[] v = new float[dimension];
                    if (projection == null) {
                        System.arraycopy(o.values(), base, v, 0, hidden);
                    } else {
                        for (int j = 0; j < dimension; j++) {
                            float s = 0f;
                            int w = j * hidden;
                            for (int h = 0; h < hidden; h++) {
                                s += projection[w + h] * o.values()[base + h];
                            }
                            v[j] = s;
                        }
                    }
                    vectors[k] = options.normalize() ? VectorMath.l2NormalizeInPlace(v) : v;
                    tokens[k] = p.tokens()[t];
                    k++;
                }
                out[members[row]] = new TokenVectors(vectors, tokens);
            }
        });
        return List.of(out);
    }

    @Override
    public int tokenDimension() {
        return dimension;
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
        if (ownsSession) {
            try {
                session.close();
            } finally {
                tokenizer.close();
            }
        }
    }
}
