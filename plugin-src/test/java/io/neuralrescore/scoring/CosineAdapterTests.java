/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.opensearch.test.OpenSearchTestCase;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.neuralrescore.scoring.CosineAdapter.Family;
import io.neuralrescore.scoring.CosineAdapter.Layer;
import io.neuralrescore.scoring.CosineAdapter.Params;

/**
 * The Cosine Adapter's math: hand-computed values of both families, monotonicity in the cosine for random queries and
 * random networks, a softplus that does not overflow, and the shape checks. The reference rows of the shipped test
 * adapters ({@code expected.tsv}, computed in Python) are checked in {@code CosineAdapterModelTests}.
 */
public class CosineAdapterTests extends OpenSearchTestCase {

    private static final double LN2 = Math.log(2);

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** One linear layer that passes a 2-d query through: the query is the raw parameters. */
    private static CosineAdapter identity(Family family) {
        float[][] w = family == Family.LINEAR_SIGMOID ? new float[][] { { 1, 0 }, { 0, 1 } } : new float[][] { { 1, 0 } };
        return new CosineAdapter(family, 2, List.of(new Layer(w, new float[w.length], false)));
    }

    // ---- hand-computed values ----------------------------------------------------------------------------------

    public void testLinearSigmoidHandComputed() {
        CosineAdapter adapter = identity(Family.LINEAR_SIGMOID);
        // r_a = 0: a = softplus(0) = ln 2; b = 0; p(1) = sigmoid(ln 2) = 1 / (1 + 1/2) = 2/3
        Params p = adapter.params(new float[] { 0f, 0f });
        assertEquals(Family.LINEAR_SIGMOID, p.family());
        assertEquals(LN2, p.first(), 1e-7);
        assertEquals(0f, p.second(), 0f);
        assertEquals(2.0 / 3.0, p.map(1f), 1e-7);
        assertEquals(0.5, p.map(0f), 1e-7);
        assertEquals(1.0 / 3.0, p.map(-1f), 1e-7); // sigmoid(-x) = 1 - sigmoid(x)

        // r_a = ln(e - 1): a = ln(1 + e - 1) = 1; b = -1; p(cos) = sigmoid(cos - 1)
        p = adapter.params(new float[] { (float) Math.log(Math.E - 1), -1f });
        assertEquals(1.0, p.first(), 1e-6);
        assertEquals(-1f, p.second(), 0f);
        assertEquals(0.5, p.map(1f), 1e-6);
        assertEquals(0.2689414213699951, p.map(0f), 1e-6); // sigmoid(-1)
        assertEquals(0.3775406687981454, p.map(0.5f), 1e-6); // sigmoid(-0.5)
        assertEquals("sigmoid(" + p.first() + " * cos + -1.0)", p.describe());
    }

    /** Two layers with a ReLU: every intermediate value worked out by hand. */
    public void testHiddenReluLayerHandComputed() {
        Layer hidden = new Layer(new float[][] { { 1, -1 }, { -1, 1 }, { 0.5f, 0.5f } }, new float[] { 0, 0, -1 }, true);
        Layer out = new Layer(new float[][] { { 1, 3, -2 }, { 0, 1, 4 } }, new float[] { -1, -2 }, false);
        CosineAdapter adapter = new CosineAdapter(Family.LINEAR_SIGMOID, 2, List.of(hidden, out));
        // q = (2, 0.5): hidden = relu(1.5, -1.5, 0.25) = (1.5, 0, 0.25)
        // r_a = 1.5 + 0 - 0.5 - 1 = 0 -> a = ln 2; b = 0 + 0 + 1 - 2 = -1
        Params p = adapter.params(new float[] { 2f, 0.5f });
        assertEquals(LN2, p.first(), 1e-7);
        assertEquals(-1f, p.second(), 1e-7f);
        assertEquals(sigmoid(LN2 * 0.5 - 1), p.map(0.5f), 1e-7);
        assertEquals(0.3422178196521405, p.map(0.5f), 1e-7);
        assertEquals(0.2362613945337373, p.map(-0.25f), 1e-7);
        // without the ReLU the second hidden unit would be -1.5 and r_a = -4.5: the activation matters
        CosineAdapter linear = new CosineAdapter(
            Family.LINEAR_SIGMOID,
            2,
            List.of(new Layer(hidden.weight(), hidden.bias(), false), out)
        );
        assertEquals(CosineAdapter.softplus(-4.5f), linear.params(new float[] { 2f, 0.5f }).first(), 1e-7f);
    }

    public void testPowerHandComputed() {
        CosineAdapter adapter = identity(Family.POWER);
        // r_g = ln(e - 1): g = 1, p = (cos + 1) / 2
        Params p = adapter.params(new float[] { (float) Math.log(Math.E - 1), 123f });
        assertEquals(Family.POWER, p.family());
        assertEquals(1.0, p.first(), 1e-6);
        assertEquals(0.75, p.map(0.5f), 1e-6);
        assertEquals(0.5, p.map(0f), 1e-6);
        assertEquals(1.0, p.map(1f), 1e-6);
        assertEquals(0.0, p.map(-1f), 0);
        // r_g = ln(e^2 - 1): g = 2, p = ((cos + 1) / 2)^2
        p = adapter.params(new float[] { (float) Math.log(Math.E * Math.E - 1), 0f });
        assertEquals(2.0, p.first(), 1e-6);
        assertEquals(0.5625, p.map(0.5f), 1e-6);
        assertEquals(0.0625, p.map(-0.5f), 1e-6);
        // r_g = 0: g = ln 2
        p = adapter.params(new float[] { 0f, 0f });
        assertEquals(0.8192172093439626, p.map(0.5f), 1e-7); // 0.75^ln2
        assertEquals(0.3825461314703953, p.map(-0.5f), 1e-7); // 0.25^ln2
        assertEquals("((cos + 1) / 2) ^ " + p.first(), p.describe());
    }

    /** Cosines a hair outside [-1, 1] (float rounding) stay probabilities. */
    public void testPowerClampsTheBase() {
        Params p = identity(Family.POWER).params(new float[] { 0f, 0f });
        assertEquals(1f, p.map(Math.nextUp(1f)), 0f);
        assertEquals(0f, p.map(Math.nextDown(-1f)), 0f);
        assertFalse(Float.isNaN(p.map(-1.5f)));
    }

    // ---- softplus ----------------------------------------------------------------------------------------------

    public void testSoftplusValues() {
        assertEquals(LN2, CosineAdapter.softplus(0f), 1e-7);
        assertEquals(1.3132616875182228, CosineAdapter.softplus(1f), 1e-6);
        assertEquals(0.31326168751822286, CosineAdapter.softplus(-1f), 1e-7);
        assertEquals(20.000000002061153, CosineAdapter.softplus(20f), 1e-5);
        assertEquals(2.061153620314381e-09, CosineAdapter.softplus(-20f), 1e-15);
        assertEquals(1.9287498479639178e-22, CosineAdapter.softplus(-50f), 1e-28);
    }

    /** ln(1 + e^x) computed naively overflows to infinity past x ~ 88 in float and ~ 709 in double; this one does not. */
    public void testSoftplusStableForLargeMagnitudes() {
        for (float x : new float[] { 89f, 100f, 709f, 710f, 1e4f, 1e30f, Float.MAX_VALUE }) {
            float y = CosineAdapter.softplus(x);
            assertTrue("softplus(" + x + ") = " + y, Float.isFinite(y));
            assertEquals("softplus(" + x + ")", x, y, Math.ulp(x));
        }
        for (float x : new float[] { -89f, -100f, -709f, -710f, -1e4f, -1e30f, -Float.MAX_VALUE }) {
            float y = CosineAdapter.softplus(x);
            assertTrue("softplus(" + x + ") = " + y, y >= 0f && Float.isFinite(y));
            assertEquals("softplus(" + x + ")", 0f, y, 1e-38f);
        }
        for (int i = 0; i < 1000; i++) {
            float x = (randomFloat() * 2 - 1) * 80;
            assertEquals("softplus(" + x + ")", Math.log1p(Math.exp(x)), CosineAdapter.softplus(x), 1e-6 * Math.max(1, Math.abs(x)));
        }
    }

    /** Huge raw parameters give a step function, never NaN, for cosines other than the step itself. */
    public void testLargeRawParametersSaturateWithoutNaN() {
        CosineAdapter adapter = identity(Family.LINEAR_SIGMOID);
        Params steep = adapter.params(new float[] { 1e6f, 0f });
        assertEquals(1f, steep.map(0.01f), 0f);
        assertEquals(0f, steep.map(-0.01f), 0f);
        assertEquals(0.5f, steep.map(0f), 0f);
        Params flat = adapter.params(new float[] { -1e6f, 3f });
        assertEquals(sigmoid(3), flat.map(-1f), 1e-7);
        assertEquals(sigmoid(3), flat.map(1f), 1e-7);
        Params g = identity(Family.POWER).params(new float[] { 1e6f, 0f });
        assertEquals(0f, g.map(0.99f), 0f);
        assertEquals(1f, g.map(1f), 0f);
        Params g0 = identity(Family.POWER).params(new float[] { -1e6f, 0f });
        assertEquals(1f, g0.map(-0.99f), 0f);
    }

    // ---- monotonicity ------------------------------------------------------------------------------------------

    private static float[] randomVector(int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random().nextGaussian();
        }
        return v;
    }

    private static float[][] randomMatrix(int rows, int cols, double scale) {
        float[][] m = new float[rows][];
        for (int r = 0; r < rows; r++) {
            m[r] = randomVector(cols);
            for (int c = 0; c < cols; c++) {
                m[r][c] *= (float) scale;
            }
        }
        return m;
    }

    /** A random network of 0 to 2 hidden layers for {@code family}. */
    private static CosineAdapter randomAdapter(Family family, int dim) {
        List<Layer> layers = new ArrayList<>();
        int in = dim;
        int hidden = between(0, 2);
        for (int h = 0; h < hidden; h++) {
            int out = between(1, 16);
            layers.add(new Layer(randomMatrix(out, in, 1 / Math.sqrt(in)), randomVector(out), randomBoolean()));
            in = out;
        }
        layers.add(new Layer(randomMatrix(family.outputs(), in, 2 / Math.sqrt(in)), randomVector(family.outputs()), false));
        return new CosineAdapter(family, dim, layers);
    }

    /** The mapping in double precision, from the formulas of models/MANIFEST.md. */
    private static double exact(Params p, double cos) {
        return p.family() == Family.LINEAR_SIGMOID ? sigmoid(p.first() * cos + p.second()) : Math.pow((cos + 1) / 2, p.first());
    }

    /** For every query the mapping never decreases with the cosine, and increases wherever it is not saturated. */
    public void testMonotonicInCosineForRandomQueries() {
        for (int run = 0; run < 200; run++) {
            Family family = randomFrom(Family.values());
            int dim = between(1, 64);
            CosineAdapter adapter = randomAdapter(family, dim);
            Params p = adapter.params(randomVector(dim));
            assertTrue("parameter of " + family + " must be > 0 (softplus), got " + p.first(), p.first() >= 0f);
            float[] cosines = new float[200];
            for (int i = 0; i < cosines.length; i++) {
                cosines[i] = randomFloat() * 2 - 1;
            }
            cosines[0] = -1f;
            cosines[1] = 1f;
            Arrays.sort(cosines);
            float prev = -1f;
            for (float c : cosines) {
                float y = p.map(c);
                assertTrue(p.describe() + " at " + c + " = " + y, y >= 0f && y <= 1f);
                assertEquals(p.describe() + " at " + c, exact(p, c), y, 1e-5);
                assertTrue(p.describe() + " decreases at cos " + c + ": " + prev + " -> " + y, y >= prev);
                prev = y;
            }
            // strictly increasing on a coarse grid wherever the exact mapping moves by more than float precision
            for (float c = -0.9f; c < 0.9f; c += 0.1f) {
                if (exact(p, c + 0.1f) - exact(p, c) > 1e-5) {
                    assertTrue(p.describe() + " flat between " + c + " and " + (c + 0.1f), p.map(c + 0.1f) > p.map(c));
                }
            }
        }
    }

    /** The threshold is one global number: a hit is relevant when p >= threshold, so p == threshold is relevant. */
    public void testThresholdAtTheMappedValue() {
        Params p = identity(Family.LINEAR_SIGMOID).params(new float[] { randomFloat(), randomFloat() - 0.5f });
        float cos = randomFloat();
        float threshold = p.map(cos);
        assertTrue(p.map(cos) >= threshold);
        assertTrue("a larger cosine stays relevant", p.map(Math.min(1f, cos + 0.01f)) >= threshold);
        assertTrue("a smaller cosine does not", p.map(cos - 0.01f) < threshold);
    }

    // ---- shape validation --------------------------------------------------------------------------------------

    private static String shapeError(Family family, int inputDim, List<Layer> layers) {
        return expectThrows(IllegalArgumentException.class, () -> new CosineAdapter(family, inputDim, layers)).getMessage();
    }

    public void testShapeValidation() {
        assertEquals("adapter needs at least one layer", shapeError(Family.POWER, 2, List.of()));
        assertEquals(
            "adapter layer 0: bias length must equal the number of weight rows",
            shapeError(Family.POWER, 2, List.of(new Layer(new float[][] { { 1, 2 } }, new float[] { 1, 2 }, false)))
        );
        assertEquals(
            "adapter layer 0: bias length must equal the number of weight rows",
            shapeError(Family.POWER, 2, List.of(new Layer(new float[0][], new float[0], false)))
        );
        assertEquals(
            "adapter layer 0: weight rows must have 2 columns, got 3",
            shapeError(Family.POWER, 2, List.of(new Layer(new float[][] { { 1, 2, 3 } }, new float[] { 0 }, false)))
        );
        assertEquals(
            "adapter layer 1: weight rows must have 3 columns, got 2",
            shapeError(
                Family.LINEAR_SIGMOID,
                2,
                List.of(
                    new Layer(new float[][] { { 1, 2 }, { 1, 2 }, { 1, 2 } }, new float[3], true),
                    new Layer(new float[][] { { 1, 2, 3 }, { 1, 2 } }, new float[2], false)
                )
            )
        );
        assertEquals(
            "adapter family [linear_sigmoid] needs 2 outputs, the last layer has 1",
            shapeError(Family.LINEAR_SIGMOID, 2, List.of(new Layer(new float[][] { { 1, 2 } }, new float[1], false)))
        );
        assertEquals(
            "adapter family [power] needs 1 outputs, the last layer has 2",
            shapeError(Family.POWER, 2, List.of(new Layer(new float[][] { { 1, 2 }, { 3, 4 } }, new float[2], false)))
        );
        CosineAdapter adapter = identity(Family.LINEAR_SIGMOID);
        assertEquals(
            "adapter takes embeddings of dimension 2, got 3",
            expectThrows(IllegalArgumentException.class, () -> adapter.params(new float[3])).getMessage()
        );
        assertEquals(2, adapter.inputDim());
        assertEquals(Family.LINEAR_SIGMOID, adapter.family());
    }

    public void testFamilyNames() {
        assertEquals(Family.LINEAR_SIGMOID, Family.fromString("linear_sigmoid"));
        assertEquals(Family.POWER, Family.fromString("power"));
        assertEquals("linear_sigmoid", Family.LINEAR_SIGMOID.jsonName());
        assertEquals(
            "unknown adapter family [POWER], expected one of [linear_sigmoid, power]",
            expectThrows(IllegalArgumentException.class, () -> Family.fromString("POWER")).getMessage()
        );
    }
}
