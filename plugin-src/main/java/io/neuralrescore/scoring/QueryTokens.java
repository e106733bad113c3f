/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

/**
 * Query token vectors ready for scoring, with their sign bits when documents are {@code bit}-encoded. Similarity
 * of a query and a document token: dot product of floats (cosine for unit vectors); for bits,
 * {@code 1 - 2 * hamming / dims}, the same scale.
 */
public final class QueryTokens {
    private final float[][] vectors;
    private final long[][] bits;
    private final int dims;

    public QueryTokens(float[][] vectors) {
        if (vectors == null || vectors.length == 0) {
            throw new IllegalArgumentException("query needs at least one token vector");
        }
        this.dims = vectors[0].length;
        for (float[] v : vectors) {
            if (v.length != dims || dims == 0) {
                throw new IllegalArgumentException("query token vectors must all have the same, non-zero dimension");
            }
        }
        this.vectors = vectors;
        this.bits = VectorEncoding.binarize(vectors);
    }

    public int size() {
        return vectors.length;
    }

    public int dims() {
        return dims;
    }

    public float[][] vectors() {
        return vectors;
    }

    /** Similarity of query token {@code q} and document token {@code t}. */
    public float similarity(int q, MultiVector doc, int t) {
        if (doc.dims() != dims) {
            throw new IllegalArgumentException("query tokens have dimension " + dims + " but document tokens have " + doc.dims());
        }
        if (doc.isBits()) {
            long[] a = bits[q];
            long[] b = doc.bits()[t];
            int hamming = 0;
            for (int w = 0; w < a.length; w++) {
                hamming += Long.bitCount(a[w] ^ b[w]);
            }
            return 1f - 2f * hamming / dims;
        }
        return org.apache.lucene.util.VectorUtil.dotProduct(vectors[q], doc.floats()[t]);
    }
}
