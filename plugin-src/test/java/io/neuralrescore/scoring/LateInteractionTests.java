/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.apache.lucene.util.BytesRef;
import org.opensearch.test.OpenSearchTestCase;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * ColBERT MaxSim and XTR against straightforward double-precision references, for every encoding, on random data:
 * documents go through encode/decode, and the reference works on what the scorer sees (decoded floats, or the sign
 * bits of the query and of the documents for {@code bit}).
 */
public class LateInteractionTests extends OpenSearchTestCase {

    // ---- references ------------------------------------------------------------------------------------------

    /** Stored-and-read-back document: the matrix as the field keeps it. */
    private static MultiVector store(VectorEncoding encoding, float[][] tokens) {
        int dims = tokens[0].length;
        return encoding.decode(new BytesRef(encoding.encode(tokens, dims)));
    }

    /** Similarity of query token {@code q} and doc token {@code t}, in double, from first principles. */
    private static double refSim(float[][] query, int q, VectorEncoding encoding, float[][] original, MultiVector doc, int t) {
        int dims = query[q].length;
        if (encoding == VectorEncoding.BIT) {
            int differ = 0;
            for (int d = 0; d < dims; d++) {
                if ((query[q][d] > 0f) != (original[t][d] > 0f)) {
                    differ++;
                }
            }
            return 1.0 - 2.0 * differ / dims;
        }
        double s = 0;
        float[] row = doc.floats()[t];
        for (int d = 0; d < dims; d++) {
            s += (double) query[q][d] * row[d];
        }
        return s;
    }

    private static double[][] refSims(float[][] query, VectorEncoding encoding, float[][] original, MultiVector doc) {
        double[][] sims = new double[query.length][doc.size()];
        for (int q = 0; q < query.length; q++) {
            for (int t = 0; t < doc.size(); t++) {
                sims[q][t] = refSim(query, q, encoding, original, doc, t);
            }
        }
        return sims;
    }

    private static double refColbert(double[][] sims) {
        double total = 0;
        for (double[] row : sims) {
            total += Arrays.stream(row).max().getAsDouble();
        }
        return total;
    }

    private record Hit(double sim, int doc, int token) {}

    /** XTR by the book: per query token sort every (sim, doc, token) of the pool, keep the top k', impute with the k'-th. */
    private static double[][] refXtrPerToken(double[][][] sims, int kPrime) {
        int nd = sims.length;
        int nq = -1;
        for (double[][] s : sims) {
            if (s != null) {
                nq = s.length;
            }
        }
        double[][] per = new double[nd][];
        if (nq < 0) {
            return per;
        }
        for (int d = 0; d < nd; d++) {
            if (sims[d] != null) {
                per[d] = new double[nq];
            }
        }
        for (int q = 0; q < nq; q++) {
            List<Hit> all = new ArrayList<>();
            for (int d = 0; d < nd; d++) {
                if (sims[d] == null) {
                    continue;
                }
                for (int t = 0; t < sims[d][q].length; t++) {
                    all.add(new Hit(sims[d][q][t], d, t));
                }
            }
            all.sort(Comparator.comparingDouble(Hit::sim).reversed().thenComparingInt(Hit::doc).thenComparingInt(Hit::token));
            List<Hit> top = all.subList(0, Math.min(kPrime, all.size()));
            double kth = top.get(top.size() - 1).sim();
            for (int d = 0; d < nd; d++) {
                if (sims[d] == null) {
                    continue;
                }
                double best = Double.NaN;
                for (Hit h : top) {
                    if (h.doc() == d && (Double.isNaN(best) || h.sim() > best)) {
                        best = h.sim();
                    }
                }
                per[d][q] = Double.isNaN(best) ? kth : best;
            }
        }
        return per;
    }

    private static float[][] randomUnitMatrix(int tokens, int dims) {
        float[][] m = new float[tokens][dims];
        for (float[] row : m) {
            double norm = 0;
            for (int d = 0; d < dims; d++) {
                row[d] = (float) random().nextGaussian();
                norm += row[d] * row[d];
            }
            for (int d = 0; d < dims; d++) {
                row[d] /= (float) Math.sqrt(norm);
            }
        }
        return m;
    }

    /** Tolerance of a float sum of {@code terms} values each of magnitude up to 1, against a double reference. */
    private static double tolerance(int terms) {
        return 1e-5 * terms + 1e-6;
    }

    // ---- ColBERT ---------------------------------------------------------------------------------------------

    public void testColbertMatchesBruteForceForEveryEncoding() {
        for (VectorEncoding encoding : VectorEncoding.values()) {
            for (int run = 0; run < 10; run++) {
                int dims = randomFrom(3, 64, 96, 128, 384, randomIntBetween(1, 200));
                float[][] query = randomUnitMatrix(randomIntBetween(1, 32), dims);
                float[][] original = randomUnitMatrix(randomIntBetween(1, 60), dims);
                MultiVector doc = store(encoding, original);
                QueryTokens q = new QueryTokens(query);
                double[][] sims = refSims(query, encoding, original, doc);
                double want = refColbert(sims);
                float got = LateInteraction.colbert(q, doc);
                assertEquals(encoding + " dims " + dims, want, got, tolerance(query.length));

                LateInteraction.Detail detail = LateInteraction.colbertDetail(q, doc);
                assertEquals(got, detail.score(), 0f);
                for (int i = 0; i < query.length; i++) {
                    double best = Arrays.stream(sims[i]).max().getAsDouble();
                    assertEquals(best, detail.perQueryToken()[i], tolerance(1));
                    int arg = detail.bestDocToken()[i];
                    assertEquals("the reported token has the best similarity", best, sims[i][arg], tolerance(1));
                    assertFalse(detail.imputed()[i]);
                }
            }
        }
    }

    public void testSimilarityScales() {
        // the bit similarity 1 - 2 * hamming / dims is on the cosine scale: identical signs 1, opposite -1
        float[] v = { 0.5f, -0.25f, 0.1f, -0.9f, 0.3f };
        float[] neg = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            neg[i] = -v[i];
        }
        QueryTokens q = new QueryTokens(new float[][] { v });
        assertEquals(1f, q.similarity(0, store(VectorEncoding.BIT, new float[][] { v }), 0), 0f);
        assertEquals(-1f, q.similarity(0, store(VectorEncoding.BIT, new float[][] { neg }), 0), 0f);
        float[] oneFlip = v.clone();
        oneFlip[2] = -0.1f;
        assertEquals(1f - 2f / 5, q.similarity(0, store(VectorEncoding.BIT, new float[][] { oneFlip }), 0), 1e-7f);
        double dot = 0;
        for (float x : v) {
            dot += x * x;
        }
        assertEquals(dot, q.similarity(0, store(VectorEncoding.FLOAT, new float[][] { v }), 0), 1e-6);
    }

    public void testQueryTokensValidation() {
        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> new QueryTokens(new float[0][]));
        assertEquals("query needs at least one token vector", e.getMessage());
        e = expectThrows(IllegalArgumentException.class, () -> new QueryTokens(null));
        assertEquals("query needs at least one token vector", e.getMessage());
        e = expectThrows(IllegalArgumentException.class, () -> new QueryTokens(new float[][] { { 1, 2 }, { 3 } }));
        assertEquals("query token vectors must all have the same, non-zero dimension", e.getMessage());
        e = expectThrows(IllegalArgumentException.class, () -> new QueryTokens(new float[][] { {} }));
        assertEquals("query token vectors must all have the same, non-zero dimension", e.getMessage());
        QueryTokens q = new QueryTokens(new float[][] { { 1, 0, 0 } });
        for (VectorEncoding encoding : VectorEncoding.values()) {
            MultiVector doc = store(encoding, new float[][] { { 1, 0 } });
            e = expectThrows(IllegalArgumentException.class, () -> LateInteraction.colbert(q, doc));
            assertEquals("query tokens have dimension 3 but document tokens have 2", e.getMessage());
        }
    }

    // ---- XTR -------------------------------------------------------------------------------------------------

    private static double[][][] poolSims(float[][] query, VectorEncoding encoding, float[][][] originals, MultiVector[] pool) {
        double[][][] sims = new double[pool.length][][];
        for (int d = 0; d < pool.length; d++) {
            if (pool[d] != null) {
                sims[d] = refSims(query, encoding, originals[d], pool[d]);
            }
        }
        return sims;
    }

    private void assertXtr(float[][] query, VectorEncoding encoding, float[][][] originals, MultiVector[] pool, int kPrime) {
        QueryTokens q = new QueryTokens(query);
        double[][][] sims = poolSims(query, encoding, originals, pool);
        double[][] want = refXtrPerToken(sims, kPrime);
        LateInteraction.Detail[] got = LateInteraction.xtr(q, pool, kPrime);
        assertEquals(pool.length, got.length);
        for (int d = 0; d < pool.length; d++) {
            String where = encoding + " k'=" + kPrime + " doc " + d;
            if (pool[d] == null) {
                assertTrue(where + ": a doc without vectors scores NaN", Float.isNaN(got[d].score()));
                assertNull(got[d].perQueryToken());
                continue;
            }
            double mean = Arrays.stream(want[d]).average().getAsDouble();
            assertEquals(where, mean, got[d].score(), tolerance(query.length));
            for (int i = 0; i < query.length; i++) {
                assertEquals(where + " token " + i, want[d][i], got[d].perQueryToken()[i], tolerance(1));
                if (got[d].imputed()[i] == false) {
                    int t = got[d].bestDocToken()[i];
                    assertEquals(where + ": the reported token has the reported similarity", sims[d][i][t], got[d].perQueryToken()[i], tolerance(1));
                } else {
                    assertEquals(-1, got[d].bestDocToken()[i]);
                }
                // closed form: a retrieved token beats the k'-th, an unretrieved one is below it, so per-token
                // score = max(k'-th similarity, the doc's best similarity); ties at the k'-th give the same value
                double docBest = Arrays.stream(sims[d][i]).max().getAsDouble();
                double kth = kth(sims, i, kPrime);
                assertEquals(where + " closed form", Math.max(kth, docBest), got[d].perQueryToken()[i], tolerance(1));
            }
        }
    }

    private static double kth(double[][][] sims, int q, int kPrime) {
        List<Double> all = new ArrayList<>();
        for (double[][] s : sims) {
            if (s != null) {
                for (double v : s[q]) {
                    all.add(v);
                }
            }
        }
        all.sort(Comparator.reverseOrder());
        return all.get(Math.min(kPrime, all.size()) - 1);
    }

    private float[][][] randomPool(int docs, int dims, int maxTokens) {
        float[][][] originals = new float[docs][][];
        for (int d = 0; d < docs; d++) {
            originals[d] = rarely() ? null : randomUnitMatrix(randomIntBetween(1, maxTokens), dims);
        }
        return originals;
    }

    private static MultiVector[] storePool(VectorEncoding encoding, float[][][] originals) {
        MultiVector[] pool = new MultiVector[originals.length];
        for (int d = 0; d < pool.length; d++) {
            pool[d] = originals[d] == null ? null : store(encoding, originals[d]);
        }
        return pool;
    }

    public void testXtrMatchesBruteForceForEveryEncoding() {
        for (VectorEncoding encoding : VectorEncoding.values()) {
            for (int run = 0; run < 8; run++) {
                int dims = randomFrom(8, 64, 128, randomIntBetween(1, 100));
                float[][][] originals = randomPool(randomIntBetween(1, 25), dims, 20);
                if (Arrays.stream(originals).allMatch(o -> o == null)) {
                    originals[0] = randomUnitMatrix(3, dims);
                }
                MultiVector[] pool = storePool(encoding, originals);
                float[][] query = randomUnitMatrix(randomIntBetween(1, 12), dims);
                int tokens = Arrays.stream(originals).filter(o -> o != null).mapToInt(o -> o.length).sum();
                for (int kPrime : new int[] { 1, 2, randomIntBetween(1, tokens), tokens, tokens + 1, 1_000_000 }) {
                    assertXtr(query, encoding, originals, pool, kPrime);
                }
            }
        }
    }

    public void testXtrWithManyTiesOnBits() {
        // few dimensions: bit similarities take only dims + 1 values, so the k'-th boundary cuts through ties
        for (int run = 0; run < 20; run++) {
            int dims = randomIntBetween(1, 4);
            float[][][] originals = randomPool(randomIntBetween(2, 15), dims, 6);
            originals[0] = randomUnitMatrix(2, dims);
            MultiVector[] pool = storePool(VectorEncoding.BIT, originals);
            float[][] query = randomUnitMatrix(randomIntBetween(1, 5), dims);
            for (int kPrime = 1; kPrime <= 12; kPrime++) {
                assertXtr(query, VectorEncoding.BIT, originals, pool, kPrime);
            }
        }
    }

    public void testXtrDoesNotDependOnPoolOrder() {
        // explain recomputes XTR over the window in doc-id order while rescore uses first-pass order
        for (VectorEncoding encoding : VectorEncoding.values()) {
            int dims = encoding == VectorEncoding.BIT ? 3 : 16;
            float[][][] originals = randomPool(12, dims, 5);
            originals[0] = randomUnitMatrix(2, dims);
            MultiVector[] pool = storePool(encoding, originals);
            QueryTokens q = new QueryTokens(randomUnitMatrix(4, dims));
            int kPrime = randomIntBetween(1, 20);
            LateInteraction.Detail[] a = LateInteraction.xtr(q, pool, kPrime);
            int[] perm = new int[pool.length];
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < pool.length; i++) {
                order.add(i);
            }
            java.util.Collections.shuffle(order, random());
            MultiVector[] shuffled = new MultiVector[pool.length];
            for (int i = 0; i < pool.length; i++) {
                perm[i] = order.get(i);
                shuffled[i] = pool[perm[i]];
            }
            LateInteraction.Detail[] b = LateInteraction.xtr(q, shuffled, kPrime);
            for (int i = 0; i < pool.length; i++) {
                assertEquals(encoding + " doc " + perm[i], a[perm[i]].score(), b[i].score(), 0f);
            }
        }
    }

    public void testXtrEdgeCases() {
        int dims = 8;
        float[][] query = randomUnitMatrix(3, dims);
        QueryTokens q = new QueryTokens(query);
        float[][][] originals = { randomUnitMatrix(4, dims), null, randomUnitMatrix(2, dims), randomUnitMatrix(5, dims) };
        MultiVector[] pool = storePool(VectorEncoding.FLOAT, originals);

        // k' above the pool's 11 tokens: every token is retrieved, nothing is imputed, XTR = MaxSim / query tokens
        for (int kPrime : new int[] { 11, 12, 1000 }) {
            LateInteraction.Detail[] all = LateInteraction.xtr(q, pool, kPrime);
            for (int d : new int[] { 0, 2, 3 }) {
                assertEquals(LateInteraction.colbert(q, pool[d]) / 3, all[d].score(), 1e-6f);
                for (boolean imputed : all[d].imputed()) {
                    assertFalse(imputed);
                }
            }
        }

        // k' = 1: each query token retrieves only the pool's best token, which every other doc is imputed with
        LateInteraction.Detail[] one = LateInteraction.xtr(q, pool, 1);
        float[] best = new float[3];
        for (int i = 0; i < 3; i++) {
            best[i] = Float.NEGATIVE_INFINITY;
            for (int d : new int[] { 0, 2, 3 }) {
                best[i] = Math.max(best[i], one[d].perQueryToken()[i]);
            }
        }
        for (int d : new int[] { 0, 2, 3 }) {
            assertArrayEquals(best, one[d].perQueryToken(), 0f);
            assertEquals((best[0] + best[1] + best[2]) / 3, one[d].score(), 1e-6f);
        }

        // a doc none of whose tokens is retrieved scores the mean of the k'-th similarities
        // (the other doc holds each query token three times: with k' = 3 it takes every retrieval)
        float[] far = new float[dims];
        far[0] = 1e-3f;
        float[][] lone = new float[9][];
        for (int i = 0; i < 9; i++) {
            lone[i] = query[i / 3].clone();
        }
        float[][][] two = { lone, { far } };
        LateInteraction.Detail[] d2 = LateInteraction.xtr(q, storePool(VectorEncoding.FLOAT, two), 3);
        for (int i = 0; i < 3; i++) {
            assertTrue("the far doc retrieved nothing", d2[1].imputed()[i]);
            assertEquals(-1, d2[1].bestDocToken()[i]);
        }
        float[] kth = d2[1].perQueryToken();
        float mean = (kth[0] + kth[1] + kth[2]) / 3;
        assertEquals(mean, d2[1].score(), 1e-6f);

        // every doc null: all NaN, no failure
        LateInteraction.Detail[] none = LateInteraction.xtr(q, new MultiVector[3], 5);
        for (LateInteraction.Detail d : none) {
            assertTrue(Float.isNaN(d.score()));
        }
        assertEquals(0, LateInteraction.xtr(q, new MultiVector[0], 5).length);

        IllegalArgumentException e = expectThrows(IllegalArgumentException.class, () -> LateInteraction.xtr(q, pool, 0));
        assertEquals("top_k_prime must be at least 1, got 0", e.getMessage());
    }
}
