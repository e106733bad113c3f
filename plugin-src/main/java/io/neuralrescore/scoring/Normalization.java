/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import java.util.Locale;

/** Optional transform of a raw model score before it is weighted and combined. */
public enum Normalization {
    NONE {
        @Override
        public float apply(float raw) {
            return raw;
        }
    },
    /** Logistic function: maps cross-encoder logits to (0, 1). */
    SIGMOID {
        @Override
        public float apply(float raw) {
            return (float) (1.0 / (1.0 + Math.exp(-raw)));
        }
    };

    public abstract float apply(float raw);

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Normalization fromString(String value) {
        for (Normalization n : values()) {
            if (n.jsonName().equals(value)) {
                return n;
            }
        }
        throw new IllegalArgumentException("illegal normalize [" + value + "], must be one of [none, sigmoid]");
    }
}
