/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.search.rescore.RescoreContext;

import java.util.List;

import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.stats.RescoreStats;

/** Per-shard state of a {@code late_interaction} clause: encoded query, field, scoring and fallback. */
public final class LateInteractionContext extends RescoreContext {
    /** Clause options resolved for this shard. */
    public record Options(
        String field,
        VectorEncoding encoding,
        LateInteractionRescorerBuilder.Scoring scoring,
        int topKPrime,
        ScoreMode scoreMode,
        float queryWeight,
        float rescoreWeight,
        Float minScore,
        String model
    ) {}

    /** Encodes hit texts when stored vectors are missing. */
    @FunctionalInterface
    public interface Fallback {
        List<float[][]> encode(List<String> texts);
    }

    private final Options options;
    private final QueryTokens query;
    private final String[] queryTokenStrings;
    private final Fallback fallback;
    private final List<String> textFields;
    private final RescoreStats stats;

    public LateInteractionContext(
        int windowSize,
        Options options,
        QueryTokens query,
        String[] queryTokenStrings,
        Fallback fallback,
        List<String> textFields,
        RescoreStats stats
    ) {
        super(windowSize, LateInteractionRescorer.INSTANCE);
        this.options = options;
        this.query = query;
        this.queryTokenStrings = queryTokenStrings;
        this.fallback = fallback;
        this.textFields = textFields;
        this.stats = stats;
    }

    public Options options() {
        return options;
    }

    public QueryTokens query() {
        return query;
    }

    /** Token string of query token {@code i}, or its position when the query came as vectors. */
    public String queryToken(int i) {
        return queryTokenStrings != null && i < queryTokenStrings.length ? queryTokenStrings[i] : "#" + i;
    }

    public Fallback fallback() {
        return fallback;
    }

    public List<String> textFields() {
        return textFields;
    }

    public RescoreStats stats() {
        return stats;
    }
}
