/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.opensearch.test.OpenSearchTestCase;

/** Vector math against straightforward double-precision computations on random data. */
public class VectorMathTests extends OpenSearchTestCase {

    private static float[] randomVector(int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = randomFloat() * 2 - 1;
        }
        return v;
    }

    private static double dotDouble(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    public void testCosineAgainstBruteForce() {
        for (int run = 0; run < 500; run++) {
            int dim = between(1, 1024);
            float[] a = randomVector(dim);
            float[] b = randomBoolean() ? randomVector(dim) : a.clone();
            double want = dotDouble(a, b) / Math.sqrt(dotDouble(a, a) * dotDouble(b, b));
            assertEquals("dim " + dim, want, VectorMath.cosine(a, b), 1e-4);
        }
    }

    public void testCosineHandComputed() {
        assertEquals(1f, VectorMath.cosine(new float[] { 1, 0 }, new float[] { 3, 0 }), 1e-7f);
        assertEquals(0f, VectorMath.cosine(new float[] { 1, 0 }, new float[] { 0, 2 }), 1e-7f);
        assertEquals(-1f, VectorMath.cosine(new float[] { 1, 1 }, new float[] { -2, -2 }), 1e-6f);
        assertEquals(0.6f, VectorMath.cosine(new float[] { 3, 4 }, new float[] { 1, 0 }), 1e-6f);
        // scale-invariant
        float[] a = randomVector(32);
        float[] b = randomVector(32);
        float[] scaled = a.clone();
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] *= 1000f;
        }
        assertEquals(VectorMath.cosine(a, b), VectorMath.cosine(scaled, b), 1e-5f);
    }

    public void testCosineOfZeroVectorIsZero() {
        assertEquals(0f, VectorMath.cosine(new float[3], new float[] { 1, 2, 3 }), 0f);
        assertEquals(0f, VectorMath.cosine(new float[] { 1, 2, 3 }, new float[3]), 0f);
        assertEquals(0f, VectorMath.cosine(new float[3], new float[3]), 0f);
    }

    public void testDotAgainstBruteForce() {
        for (int run = 0; run < 200; run++) {
            int dim = between(1, 700);
            float[] a = randomVector(dim);
            float[] b = randomVector(dim);
            assertEquals(dotDouble(a, b), VectorMath.dot(a, b), 1e-3);
        }
    }

    public void testDimensionMismatch() {
        assertEquals(
            "vector dimensions differ: 3 != 2",
            expectThrows(IllegalArgumentException.class, () -> VectorMath.cosine(new float[3], new float[2])).getMessage()
        );
        assertEquals(
            "vector dimensions differ: 1 != 4",
            expectThrows(IllegalArgumentException.class, () -> VectorMath.dot(new float[1], new float[4])).getMessage()
        );
    }

    public void testL2Normalize() {
        for (int run = 0; run < 200; run++) {
            float[] v = randomVector(between(1, 512));
            float[] original = v.clone();
            double norm = Math.sqrt(dotDouble(v, v));
            assertSame("in place", v, VectorMath.l2NormalizeInPlace(v));
            assertEquals(1.0, Math.sqrt(dotDouble(v, v)), 1e-5);
            for (int i = 0; i < v.length; i++) {
                assertEquals(original[i] / norm, v[i], 1e-6);
            }
        }
        assertArrayEquals(new float[] { 0.6f, 0.8f }, VectorMath.l2NormalizeInPlace(new float[] { 3, 4 }), 1e-7f);
        assertArrayEquals("zero vector left as is", new float[3], VectorMath.l2NormalizeInPlace(new float[3]), 0f);
    }

    public void testMaskedMeanAgainstBruteForce() {
        for (int run = 0; run < 200; run++) {
            int batch = between(1, 4);
            int seq = between(1, 40);
            int dim = between(1, 48);
            float[] hidden = randomVector(batch * seq * dim);
            int row = between(0, batch - 1);
            long[] mask = new long[seq + (randomBoolean() ? between(1, 5) : 0)]; // a longer mask is allowed
            for (int t = 0; t < mask.length; t++) {
                mask[t] = randomBoolean() ? 1 : 0;
            }
            int offset = row * seq * dim;
            float[] got = VectorMath.maskedMean(hidden, offset, seq, dim, mask);
            assertEquals(dim, got.length);
            int count = 0;
            for (int t = 0; t < seq; t++) {
                count += mask[t] != 0 ? 1 : 0;
            }
            for (int d = 0; d < dim; d++) {
                double sum = 0;
                for (int t = 0; t < seq; t++) {
                    if (mask[t] != 0) {
                        sum += hidden[offset + t * dim + d];
                    }
                }
                double want = count == 0 ? 0 : sum / count;
                assertEquals("row " + row + " dim " + d, want, got[d], 1e-5);
            }
        }
    }

    public void testMaskedMeanHandComputed() {
        // two tokens of dim 2 after an unrelated first sequence; the second token is masked out
        float[] hidden = { 9, 9, 9, 9, 1, 2, 100, 200 };
        assertArrayEquals(new float[] { 1, 2 }, VectorMath.maskedMean(hidden, 4, 2, 2, new long[] { 1, 0 }), 0f);
        assertArrayEquals(new float[] { 50.5f, 101f }, VectorMath.maskedMean(hidden, 4, 2, 2, new long[] { 1, 1 }), 0f);
        assertArrayEquals("all masked: zeros", new float[2], VectorMath.maskedMean(hidden, 4, 2, 2, new long[] { 0, 0 }), 0f);
    }

    public void testMaskedMeanShortMask() {
        assertEquals(
            "mask has 2 entries, expected at least 3",
            expectThrows(IllegalArgumentException.class, () -> VectorMath.maskedMean(new float[6], 0, 3, 2, new long[2])).getMessage()
        );
    }
}
