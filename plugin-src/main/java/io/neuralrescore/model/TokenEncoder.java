/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.List;

/** Encodes texts to one vector per token (late interaction). */
public interface TokenEncoder extends LoadedModel {
    /** Token vectors of a text and the tokens they stand for (for explanations). */
    record TokenVectors(float[][] vectors, String[] tokens) {}

    /** Query side: markers and {@code [MASK]} augmentation as the model's manifest says. */
    TokenVectors encodeQuery(String text);

    /** Document side: markers and the punctuation skiplist as the model's manifest says. */
    List<TokenVectors> encodeDocuments(List<String> texts);

    /** Dimension of each token vector. */
    int tokenDimension();
}
