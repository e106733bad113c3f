/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import java.util.List;

/** Raw model scores for a window of texts, one per text, in order. */
public interface WindowScorer {
    float[] score(List<String> texts);

    /** What the score is, for explanations, e.g. {@code cross-encoder [my-ce] logit}. */
    String describe();
}
