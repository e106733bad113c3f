/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.apache.lucene.util.VectorUtil;

/** Pooling and similarity over dense vectors; inputs are validated up front so callers get a message, not garbage. */
public final class VectorMath {
    private VectorMath() {}

    /** Cosine similarity; zero vectors score 0 rather than NaN. */
    public static float cosine(float[] a, float[] b) {
        checkSameDimension(a, b);
        float dot = VectorUtil.dotProduct(a, b);
        float na = VectorUtil.dotProduct(a, a);
        float nb = VectorUtil.dotProduct(b, b);
        if (na == 0f || nb == 0f) {
            return 0f;
        }
        return (float) (dot / Math.sqrt((double) na * nb));
    }

    public static float dot(float[] a, float[] b) {
        checkSameDimension(a, b);
        return VectorUtil.dotProduct(a, b);
    }

    /** Scales {@code v} to unit length in place; a zero vector is left as is. */
    public static float[] l2NormalizeInPlace(float[] v) {
        float norm2 = VectorUtil.dotProduct(v, v);
        if (norm2 > 0f) {
            float inv = (float) (1.0 / Math.sqrt(norm2));
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
        }
        return v;
    }

    /**
     * Mean of the token vectors of one sequence whose attention mask is 1.
     *
     * @param hidden   flattened {@code [seq, dim]} block starting at {@code offset}
     * @param mask     attention mask of the sequence (length {@code seq})
     */
    public static float[] maskedMean(float[] hidden, int offset, int seq, int dim, long[] mask) {
        if (mask.length < seq) {
            throw new IllegalArgumentException("mask has " + mask.length + " entries, expected at least " + seq);
        }
        float[] out = new float[dim];
        int count = 0;
        for (int t = 0; t < seq; t++) {
            if (mask[t] == 0) {
                continue;
            }
            count++;
            int base = offset + t * dim;
            for (int d = 0; d < dim; d++) {
                out[d] += hidden[base + d];
            }
        }
        if (count > 0) {
            float inv = 1f / count;
            for (int d = 0; d < dim; d++) {
                out[d] *= inv;
            }
        }
        return out;
    }

    private static void checkSameDimension(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vector dimensions differ: " + a.length + " != " + b.length);
        }
    }
}
