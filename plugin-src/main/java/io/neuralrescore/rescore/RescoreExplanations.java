/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.search.Explanation;

import io.neuralrescore.scoring.ScoreMode;

/** Explanation texts shared by the plugin's rescorers; tests assert on them. */
final class RescoreExplanations {
    private RescoreExplanations() {}

    static Explanation notRescored(String clause, String why, Explanation source) {
        return Explanation.match(source.getValue(), "[" + clause + "] did not rescore this hit: " + why + "; first-pass score kept", source);
    }

    /**
     * How a model score combined with the first-pass score, or that {@code min_score} dropped the hit.
     *
     * @param modelScore the score compared with {@code min_score} and weighted, with its own explanation
     */
    static Explanation combined(
        String clause,
        String model,
        ScoreMode mode,
        float queryWeight,
        float rescoreWeight,
        Float minScore,
        Explanation source,
        Explanation modelScore
    ) {
        float score = modelScore.getValue().floatValue();
        if (minScore != null && score < minScore) {
            return Explanation.noMatch(
                "[" + clause + "] dropped this hit: model score [" + score + "] is below min_score [" + minScore + "]",
                modelScore
            );
        }
        float first = source.getValue().floatValue();
        Explanation weightedModel = Explanation.match(
            score * rescoreWeight,
            "product of:",
            modelScore,
            Explanation.match(rescoreWeight, "rescore_weight")
        );
        float combined = mode.combine(first, queryWeight, score, rescoreWeight);
        String who = "[" + clause + "]" + (model == null ? "" : " model [" + model + "]");
        if (mode == ScoreMode.REPLACE) {
            return Explanation.match(combined, who + ", score_mode [replace]: weighted model score replaces the first-pass score", weightedModel);
        }
        Explanation weightedFirst = Explanation.match(
            first * queryWeight,
            "product of:",
            source,
            Explanation.match(queryWeight, "query_weight")
        );
        return Explanation.match(combined, who + ", score_mode [" + mode.jsonName() + "] of:", weightedFirst, weightedModel);
    }
}
