/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

/** A decoded token matrix: float rows, or sign bits for the {@code bit} encoding. */
public final class MultiVector {
    private final float[][] floats;
    private final long[][] bits;
    private final int dims;

    private MultiVector(float[][] floats, long[][] bits, int dims) {
        this.floats = floats;
        this.bits = bits;
        this.dims = dims;
    }

    public static MultiVector ofFloats(float[][] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a multi-vector needs at least one token vector");
        }
        int dims = tokens[0].length;
        for (float[] t : tokens) {
            if (t.length != dims) {
                throw new IllegalArgumentException("token vectors differ in dimension: " + dims + " != " + t.length);
            }
        }
        return new MultiVector(tokens, null, dims);
    }

    public static MultiVector ofBits(long[][] bits, int dims) {
        return new MultiVector(null, bits, dims);
    }

    public boolean isBits() {
        return bits != null;
    }

    public int size() {
        return bits != null ? bits.length : floats.length;
    }

    public int dims() {
        return dims;
    }

    public float[][] floats() {
        if (floats == null) {
            throw new IllegalStateException("bit-encoded multi-vector has no float tokens");
        }
        return floats;
    }

    public long[][] bits() {
        if (bits == null) {
            throw new IllegalStateException("float multi-vector has no bit tokens");
        }
        return bits;
    }
}
