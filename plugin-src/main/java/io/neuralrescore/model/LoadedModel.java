/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.io.Closeable;

/**
 * A model with its native resources (session, tokenizer). Owned by the {@link ModelRegistry}, which closes it once the
 * node closes and no search holds it any more. Implementations are thread-safe.
 */
public interface LoadedModel extends Closeable {
    ModelManifest manifest();

    /** Where it runs, e.g. {@code cpu} or {@code cuda:0}. */
    String device();

    @Override
    void close();
}
