/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.apache.lucene.document.LateInteractionField;
import org.apache.lucene.util.BytesRef;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * How a document's token matrix is stored in doc values. {@link #FLOAT} is Lucene's {@link LateInteractionField}
 * format, so Lucene's own late-interaction tools read our fields; the others share its layout of a little-endian
 * {@code int} dimension followed by the tokens:
 * <ul>
 * <li>{@code float16}: 2 bytes per component (IEEE half precision);</li>
 * <li>{@code int8}: per token a float scale (max |x| / 127) then one signed byte per component;</li>
 * <li>{@code bit}: per token the signs of its components, 1 bit each, scored by Hamming similarity.</li>
 * </ul>
 */
public enum VectorEncoding {
    FLOAT,
    FLOAT16,
    INT8,
    BIT;

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static VectorEncoding fromString(String value) {
        for (VectorEncoding e : values()) {
            if (e.jsonName().equals(value)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown encoding [" + value + "], expected one of [float, float16, int8, bit]");
    }

    /** Bytes one token takes, header excluded. */
    public int bytesPerToken(int dims) {
        return switch (this) {
            case FLOAT -> 4 * dims;
            case FLOAT16 -> 2 * dims;
            case INT8 -> 4 + dims;
            case BIT -> (dims + 7) / 8;
        };
    }

    /** Encodes a non-empty matrix whose rows all have {@code dims} components. */
    public byte[] encode(float[][] tokens, int dims) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a multi-vector needs at least one token vector");
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].length != dims) {
                throw new IllegalArgumentException(
                    "token vector [" + i + "] has dimension [" + tokens[i].length + "], expected [" + dims + "]"
                );
            }
            for (float v : tokens[i]) {
                if (Float.isFinite(v) == false) {
                    throw new IllegalArgumentException("token vector [" + i + "] has a non-finite component [" + v + "]");
                }
                // from 65520 up, half precision rounds to Infinity: scores would silently become NaN
                if (this == FLOAT16 && Math.abs(v) >= 65520f) {
                    throw new IllegalArgumentException(
                        "token vector [" + i + "] has a component [" + v + "] outside the float16 range [-65504, 65504]"
                    );
                }
            }
        }
        if (this == FLOAT) {
            BytesRef ref = LateInteractionField.encode(tokens);
            return ref.bytes.length == ref.length ? ref.bytes : java.util.Arrays.copyOfRange(ref.bytes, ref.offset, ref.offset + ref.length);
        }
        ByteBuffer out = ByteBuffer.allocate(4 + tokens.length * bytesPerToken(dims)).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(dims);
        for (float[] t : tokens) {
            switch (this) {
                case FLOAT16 -> {
                    for (float v : t) {
                        out.putShort(Float.floatToFloat16(v));
                    }
                }
                case INT8 -> {
                    float max = 0f;
                    for (float v : t) {
                        max = Math.max(max, Math.abs(v));
                    }
                    float scale = max == 0f ? 1f : max / 127f;
                    out.putFloat(scale);
                    for (float v : t) {
                        out.put((byte) Math.max(-127, Math.min(127, Math.round(v / scale))));
                    }
                }
                case BIT -> {
                    byte[] bits = new byte[(dims + 7) / 8];
                    for (int d = 0; d < dims; d++) {
                        if (t[d] > 0f) {
                            bits[d >> 3] |= (byte) (1 << (d & 7));
                        }
                    }
                    out.put(bits);
                }
                default -> throw new AssertionError(this);
            }
        }
        return out.array();
    }

    /** Decodes a stored matrix; see {@link MultiVector}. */
    public MultiVector decode(BytesRef bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes.bytes, bytes.offset, bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        int dims = in.getInt();
        int per = bytesPerToken(dims);
        if (dims <= 0 || (bytes.length - 4) % per != 0) {
            throw new IllegalArgumentException(
                "stored multi-vector of " + bytes.length + " bytes does not match encoding [" + jsonName() + "] with dimension " + dims
            );
        }
        int n = (bytes.length - 4) / per;
        if (this == BIT) {
            int words = (dims + 63) / 64;
            long[][] bits = new long[n][words];
            for (int t = 0; t < n; t++) {
                for (int b = 0; b < per; b++) {
                    bits[t][b >> 3] |= (in.get() & 0xFFL) << ((b & 7) * 8);
                }
            }
            return MultiVector.ofBits(bits, dims);
        }
        float[][] tokens = new float[n][dims];
        for (int t = 0; t < n; t++) {
            float[] row = tokens[t];
            switch (this) {
                case FLOAT -> in.asFloatBuffer().get(row).position();
                case FLOAT16 -> {
                    for (int d = 0; d < dims; d++) {
                        row[d] = Float.float16ToFloat(in.getShort());
                    }
                }
                case INT8 -> {
                    float scale = in.getFloat();
                    for (int d = 0; d < dims; d++) {
                        row[d] = in.get() * scale;
                    }
                }
                default -> throw new AssertionError(this);
            }
            if (this == FLOAT) {
                in.position(in.position() + 4 * dims);
            }
        }
        return MultiVector.ofFloats(tokens);
    }

    /** Signs of a float matrix as bits, for scoring float queries against {@link #BIT} documents. */
    public static long[][] binarize(float[][] tokens) {
        long[][] out = new long[tokens.length][];
        for (int t = 0; t < tokens.length; t++) {
            float[] row = tokens[t];
            long[] bits = new long[(row.length + 63) / 64];
            for (int d = 0; d < row.length; d++) {
                if (row[d] > 0f) {
                    bits[d >> 6] |= 1L << (d & 63);
                }
            }
            out[t] = bits;
        }
        return out;
    }
}
