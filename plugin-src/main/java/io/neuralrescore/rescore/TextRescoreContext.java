/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.search.rescore.RescoreContext;

import java.util.List;

import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.scoring.ScoreMode;

/** Per-shard state of a text-model rescore clause: its options and the scorer bound to this node's model. */
public final class TextRescoreContext extends RescoreContext {
    /** Clause options the rescorer needs, resolved for this shard. */
    public record Options(
        String clause,
        String model,
        List<String> fields,
        ScoreMode scoreMode,
        float queryWeight,
        float rescoreWeight,
        Normalization normalize,
        Float minScore
    ) {}

    private final Options options;
    private final WindowScorer scorer;
    private final RescoreStats stats;

    public TextRescoreContext(int windowSize, Options options, WindowScorer scorer, RescoreStats stats) {
        super(windowSize, NeuralRescorer.INSTANCE);
        this.options = options;
        this.scorer = scorer;
        this.stats = stats;
    }

    public RescoreStats stats() {
        return stats;
    }

    public Options options() {
        return options;
    }

    public WindowScorer scorer() {
        return scorer;
    }
}
