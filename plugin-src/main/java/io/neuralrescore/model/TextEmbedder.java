/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.List;

/** Maps texts to single vectors (bi-encoder). */
public interface TextEmbedder extends LoadedModel {
    /** One vector per text, pooled as the manifest says, unit length when the manifest says {@code normalize}. */
    float[][] embed(List<String> texts, int maxLength);

    default int dimension() {
        return manifest().dimension();
    }
}
