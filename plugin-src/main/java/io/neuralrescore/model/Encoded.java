/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

/**
 * Token ids of one sequence (specials included) and their segment ids. The attention mask is 1 for the first
 * {@code attended} positions and 0 after them: all of them for plain texts; ColBERT queries leave their
 * {@code [MASK]} augmentation unattended (models/MANIFEST.md) though its output vectors are scored.
 */
public record Encoded(long[] ids, long[] typeIds, int attended) {
    public Encoded {
        if (attended < 0 || attended > ids.length) {
            throw new IllegalArgumentException("attended positions [" + attended + "] must be within the sequence length [" + ids.length + "]");
        }
    }

    /** A sequence attended over its whole length. */
    public Encoded(long[] ids, long[] typeIds) {
        this(ids, typeIds, ids.length);
    }

    public int length() {
        return ids.length;
    }
}
