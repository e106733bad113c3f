/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Late-interaction scores of documents for a query, over token similarities ({@link QueryTokens#similarity}).
 * <ul>
 * <li>ColBERT: for each query token the best similarity over the document's tokens, summed.</li>
 * <li>XTR (Lee et al., NeurIPS 2023): each query token retrieves the {@code k'} most similar tokens across the whole
 * candidate pool; a document is scored only with its retrieved tokens, a query token that retrieved none of the
 * document's tokens counts as the {@code k'}-th retrieved similarity of that query token (imputation), and the
 * per-token scores are averaged.</li>
 * </ul>
 */
public final class LateInteraction {
    private LateInteraction() {}

    /** Scores with per-query-token detail, for explanations. */
    public record Detail(float score, float[] perQueryToken, int[] bestDocToken, boolean[] imputed) {}

    public static float colbert(QueryTokens q, MultiVector doc) {
        float sum = 0f;
        for (int i = 0; i < q.size(); i++) {
            sum += best(q, i, doc)[0];
        }
        return sum;
    }

    public static Detail colbertDetail(QueryTokens q, MultiVector doc) {
        float[] per = new float[q.size()];
        int[] arg = new int[q.size()];
        float sum = 0f;
        for (int i = 0; i < q.size(); i++) {
            float[] b = best(q, i, doc);
            per[i] = b[0];
            arg[i] = (int) b[1];
            sum += per[i];
        }
        return new Detail(sum, per, arg, new boolean[q.size()]);
    }

    private static float[] best(QueryTokens q, int i, MultiVector doc) {
        float max = Float.NEGATIVE_INFINITY;
        int arg = -1;
        for (int t = 0; t < doc.size(); t++) {
            float s = q.similarity(i, doc, t);
            if (s > max) {
                max = s;
                arg = t;
            }
        }
        return new float[] { max, arg };
    }

    /**
     * XTR scores of every document of the pool. Null entries (documents without vectors) score NaN.
     *
     * @param kPrime tokens each query token retrieves from the pool; at least 1
     */
    public static Detail[] xtr(QueryTokens q, MultiVector[] pool, int kPrime) {
        if (kPrime < 1) {
            throw new IllegalArgumentException("top_k_prime must be at least 1, got " + kPrime);
        }
        int nq = q.size();
        int nd = pool.length;
        // best retrieved similarity per (doc, query token); NaN = none retrieved
        float[][] retrieved = new float[nd][nq];
        for (float[] row : retrieved) {
            Arrays.fill(row, Float.NaN);
        }
        int[][] arg = new int[nd][nq];
        float[] kth = new float[nq];
        for (int i = 0; i < nq; i++) {
            // min-heap of the k' best (similarity, doc, token), ties broken by (doc, token) for determinism
            PriorityQueue<long[]> heap = new PriorityQueue<>(kPrime + 1, (a, b) -> {
                int c = Float.compare(Float.intBitsToFloat((int) a[0]), Float.intBitsToFloat((int) b[0]));
                if (c != 0) {
                    return c;
                }
                c = Long.compare(b[1], a[1]);
                return c != 0 ? c : Long.compare(b[2], a[2]);
            });
            for (int d = 0; d < nd; d++) {
                MultiVector doc = pool[d];
                if (doc == null) {
                    continue;
                }
                for (int t = 0; t < doc.size(); t++) {
                    float s = q.similarity(i, doc, t);
                    if (heap.size() < kPrime) {
                        heap.add(new long[] { Float.floatToIntBits(s), d, t });
                    } else if (s > Float.intBitsToFloat((int) heap.peek()[0])) {
                        heap.poll();
                        heap.add(new long[] { Float.floatToIntBits(s), d, t });
                    }
                }
            }
            kth[i] = heap.isEmpty() ? 0f : Float.intBitsToFloat((int) heap.peek()[0]);
            for (long[] e : heap) {
                float s = Float.intBitsToFloat((int) e[0]);
                int d = (int) e[1];
                if (Float.isNaN(retrieved[d][i]) || s > retrieved[d][i]) {
                    retrieved[d][i] = s;
                    arg[d][i] = (int) e[2];
                }
            }
        }
        Detail[] out = new Detail[nd];
        for (int d = 0; d < nd; d++) {
            if (pool[d] == null) {
                out[d] = new Detail(Float.NaN, null, null, null);
                continue;
            }
            float[] per = new float[nq];
            boolean[] imputed = new boolean[nq];
            int[] best = new int[nq];
            float sum = 0f;
            for (int i = 0; i < nq; i++) {
                if (Float.isNaN(retrieved[d][i])) {
                    per[i] = kth[i];
                    imputed[i] = true;
                    best[i] = -1;
                } else {
                    per[i] = retrieved[d][i];
                    best[i] = arg[d][i];
                }
                sum += per[i];
            }
            out[d] = new Detail(sum / nq, per, best, imputed);
        }
        return out;
    }
}
