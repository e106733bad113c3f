/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import java.util.List;

import io.neuralrescore.model.ModelLease;
import io.neuralrescore.model.ModelRegistry;
import io.neuralrescore.model.TextEmbedder;
import io.neuralrescore.stats.StatName;

/** Query embedding by a bi-encoder, counted in the node's stats. */
public final class QueryEmbeddings {
    private QueryEmbeddings() {}

    public static float[] embed(ModelRegistry registry, String model, String text, int maxLength, String clause) {
        try (ModelLease lease = registry.acquire(model)) {
            float[] v = lease.as(TextEmbedder.class, clause).embedQueries(List.of(text), maxLength)[0];
            registry.stats().increment(StatName.QUERY_ENCODINGS);
            return v;
        }
    }
}
