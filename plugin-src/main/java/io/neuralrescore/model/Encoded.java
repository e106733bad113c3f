/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

/** Token ids of one sequence (specials included) and their segment ids; the attention mask is all ones up to length. */
public record Encoded(long[] ids, long[] typeIds) {
    public int length() {
        return ids.length;
    }
}
