/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.search.rescore.RescoreContext;

import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.stats.RescoreStats;

/** Per-shard state of a {@code cosine_filter} clause: the query embedding and its calibration, computed once. */
public final class CosineFilterContext extends RescoreContext {
    /** Clause options resolved for this shard. */
    public record Options(
        String adapter,
        String field,
        float threshold,
        CosineFilterRescorerBuilder.Action action,
        ScoreMode scoreMode,
        float queryWeight,
        float rescoreWeight
    ) {}

    private final Options options;
    private final SingleVectorField vectors;
    private final float[] query;
    private final CosineAdapter.Params params;
    private final RescoreStats stats;

    public CosineFilterContext(
        int windowSize,
        Options options,
        SingleVectorField vectors,
        float[] query,
        CosineAdapter.Params params,
        RescoreStats stats
    ) {
        super(windowSize, CosineFilterRescorer.INSTANCE);
        this.options = options;
        this.vectors = vectors;
        this.query = query;
        this.params = params;
        this.stats = stats;
    }

    public Options options() {
        return options;
    }

    public SingleVectorField vectors() {
        return vectors;
    }

    public float[] query() {
        return query;
    }

    public CosineAdapter.Params params() {
        return params;
    }

    public RescoreStats stats() {
        return stats;
    }
}
