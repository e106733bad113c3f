/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.Locale;

/** Kinds of models a manifest can declare; each kind has its own manifest keys and runtime. */
public enum ModelType {
    CROSS_ENCODER,
    BI_ENCODER,
    COLBERT,
    COSINE_ADAPTER;

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ModelType fromString(String value) {
        for (ModelType t : values()) {
            if (t.jsonName().equals(value)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown model type [" + value + "], expected one of [cross_encoder, bi_encoder, colbert, cosine_adapter]");
    }
}
