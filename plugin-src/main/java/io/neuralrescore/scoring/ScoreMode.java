/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import java.util.Locale;

/**
 * How a model score is combined with the first-pass score. The weighted inputs are {@code query_weight * first}
 * and {@code rescore_weight * model}; {@link #REPLACE} ignores the first-pass score, the others follow the core
 * query rescorer's modes.
 */
public enum ScoreMode {
    REPLACE {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return weightedModel;
        }
    },
    TOTAL {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return weightedFirst + weightedModel;
        }
    },
    MULTIPLY {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return weightedFirst * weightedModel;
        }
    },
    AVG {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return (weightedFirst + weightedModel) / 2;
        }
    },
    MAX {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return Math.max(weightedFirst, weightedModel);
        }
    },
    MIN {
        @Override
        public float combine(float weightedFirst, float weightedModel) {
            return Math.min(weightedFirst, weightedModel);
        }
    };

    public abstract float combine(float weightedFirst, float weightedModel);

    /** The combined score for raw inputs and weights. */
    public float combine(float first, float queryWeight, float model, float rescoreWeight) {
        return combine(first * queryWeight, model * rescoreWeight);
    }

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ScoreMode fromString(String value) {
        for (ScoreMode mode : values()) {
            if (mode.jsonName().equals(value)) {
                return mode;
            }
        }
        throw new IllegalArgumentException(
            "illegal score_mode [" + value + "], must be one of [replace, total, multiply, avg, max, min]"
        );
    }
}
