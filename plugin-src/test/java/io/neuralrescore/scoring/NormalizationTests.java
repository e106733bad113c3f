/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.opensearch.test.OpenSearchTestCase;

public class NormalizationTests extends OpenSearchTestCase {

    public void testNoneIsIdentity() {
        for (float v : new float[] { 0f, -3.5f, 1e30f, Float.MIN_VALUE, Float.NaN }) {
            assertEquals(Float.floatToIntBits(v), Float.floatToIntBits(Normalization.NONE.apply(v)));
        }
    }

    public void testSigmoidValues() {
        assertEquals(0.5f, Normalization.SIGMOID.apply(0f), 0f);
        assertEquals(0.7310586f, Normalization.SIGMOID.apply(1f), 1e-7f);
        assertEquals(0.26894143f, Normalization.SIGMOID.apply(-1f), 1e-7f);
        assertEquals(0.95257413f, Normalization.SIGMOID.apply(3f), 1e-7f);
        assertEquals(4.539787e-5f, Normalization.SIGMOID.apply(-10f), 1e-11f);
        // saturates without NaN or overflow
        assertEquals(1f, Normalization.SIGMOID.apply(1000f), 0f);
        assertEquals(0f, Normalization.SIGMOID.apply(-1000f), 0f);
        assertEquals(1f, Normalization.SIGMOID.apply(Float.POSITIVE_INFINITY), 0f);
        assertEquals(0f, Normalization.SIGMOID.apply(Float.NEGATIVE_INFINITY), 0f);
    }

    public void testSigmoidAgainstDoubleAndMonotone() {
        float[] xs = new float[1000];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = randomFloat() * 40 - 20;
        }
        java.util.Arrays.sort(xs);
        float previous = 0f;
        for (float x : xs) {
            double want = 1.0 / (1.0 + Math.exp(-x));
            float got = Normalization.SIGMOID.apply(x);
            assertEquals("sigmoid(" + x + ")", want, got, 1e-7);
            assertEquals("symmetric", 1.0, got + Normalization.SIGMOID.apply(-x), 1e-6);
            assertTrue("monotone at " + x, got >= previous);
            previous = got;
        }
    }

    public void testFromString() {
        assertSame(Normalization.NONE, Normalization.fromString("none"));
        assertSame(Normalization.SIGMOID, Normalization.fromString("sigmoid"));
        assertEquals("none", Normalization.NONE.jsonName());
        assertEquals("sigmoid", Normalization.SIGMOID.jsonName());
        for (String bad : new String[] { "softmax", "SIGMOID", "", null }) {
            assertEquals(
                "illegal normalize [" + bad + "], must be one of [none, sigmoid]",
                expectThrows(IllegalArgumentException.class, () -> Normalization.fromString(bad)).getMessage()
            );
        }
    }
}
