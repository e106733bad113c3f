/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.List;

/** Scores (query, text) pairs jointly. */
public interface CrossEncoder extends LoadedModel {
    /**
     * Raw model scores (the manifest's logit), one per text, in the order given.
     *
     * @param maxLength token limit of each pair, specials included; never above the manifest's {@code max_length}
     */
    float[] score(String query, List<String> texts, int maxLength);
}
