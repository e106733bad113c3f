/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.stats;

import java.util.Locale;

/** Node counters; the snake_case keys are part of the stats API and must stay stable. */
public enum StatName {
    MODEL_LOADS,
    MODEL_LOAD_FAILURES,
    MODEL_UNLOADS,
    RESCORE_REQUESTS,
    RESCORED_DOCS,
    UNSCORED_DOCS,
    INFERENCE_BATCHES,
    INFERENCE_SEQUENCES,
    INFERENCE_TOKENS,
    PADDED_TOKENS,
    INFERENCE_NANOS,
    QUERY_ENCODINGS,
    MIN_SCORE_DROPPED;

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
