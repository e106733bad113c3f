/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import io.neuralrescore.model.Encoded;

/** Row-major {@code [size, length]} input tensors of one batch, right-padded with id 0 and mask 0. */
public record PaddedBatch(int size, int length, long[] ids, long[] mask, long[] typeIds, long realTokens) {

    public static PaddedBatch of(Encoded[] encodings, int[] members) {
        int length = 1;
        for (int m : members) {
            length = Math.max(length, encodings[m].length());
        }
        int size = members.length;
        long[] ids = new long[size * length];
        long[] mask = new long[size * length];
        long[] types = new long[size * length];
        long real = 0;
        for (int row = 0; row < size; row++) {
            Encoded e = encodings[members[row]];
            int base = row * length;
            System.arraycopy(e.ids(), 0, ids, base, e.length());
            System.arraycopy(e.typeIds(), 0, types, base, e.length());
            for (int t = 0; t < e.attended(); t++) {
                mask[base + t] = 1;
            }
            real += e.length();
        }
        return new PaddedBatch(size, length, ids, mask, types, real);
    }

    /** Attention mask of one row. */
    public long[] rowMask(int row) {
        long[] out = new long[length];
        System.arraycopy(mask, row * length, out, 0, length);
        return out;
    }
}
