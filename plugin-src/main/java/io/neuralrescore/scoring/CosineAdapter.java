/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import java.util.List;
import java.util.Locale;

/**
 * Cosine Adapter (Rossi et al., "Relevance Filtering for Embedding-based Retrieval", CIKM 2024): a small network
 * maps the query embedding to the parameters of a monotonic function from cosine similarity to a calibrated
 * relevance probability, so one global threshold means the same for every query.
 * <ul>
 * <li>{@code linear_sigmoid}: {@code p = sigmoid(a * cos + b)}, {@code a = softplus(r_a) > 0};</li>
 * <li>{@code power}: {@code p = ((cos + 1) / 2) ^ g}, {@code g = softplus(r_g) > 0}.</li>
 * </ul>
 * Both are increasing in the cosine for every query.
 */
public final class CosineAdapter {
    /** Mapping families. */
    public enum Family {
        LINEAR_SIGMOID(2),
        POWER(1);

        private final int outputs;

        Family(int outputs) {
            this.outputs = outputs;
        }

        public int outputs() {
            return outputs;
        }

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Family fromString(String v) {
            for (Family f : values()) {
                if (f.jsonName().equals(v)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown adapter family [" + v + "], expected one of [linear_sigmoid, power]");
        }
    }

    /** One dense layer: {@code activation(W x + b)}, {@code W} as {@code [out][in]}. */
    public record Layer(float[][] weight, float[] bias, boolean relu) {}

    /** The mapping's parameters for one query. */
    public record Params(Family family, float first, float second) {
        /** Calibrated probability of a cosine similarity. */
        public float map(float cosine) {
            return switch (family) {
                case LINEAR_SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-(first * cosine + second))));
                case POWER -> (float) Math.pow(Math.max(0.0, Math.min(1.0, (cosine + 1.0) / 2.0)), first);
            };
        }

        /** Human-readable form for explanations. */
        public String describe() {
            return switch (family) {
                case LINEAR_SIGMOID -> "sigmoid(" + first + " * cos + " + second + ")";
                case POWER -> "((cos + 1) / 2) ^ " + first;
            };
        }
    }

    private final Family family;
    private final int inputDim;
    private final List<Layer> layers;

    public CosineAdapter(Family family, int inputDim, List<Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("adapter needs at least one layer");
        }
        int in = inputDim;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l.weight().length == 0 || l.bias().length != l.weight().length) {
                throw new IllegalArgumentException("adapter layer " + i + ": bias length must equal the number of weight rows");
            }
            for (float[] row : l.weight()) {
                if (row.length != in) {
                    throw new IllegalArgumentException("adapter layer " + i + ": weight rows must have " + in + " columns, got " + row.length);
                }
            }
            in = l.weight().length;
        }
        if (in != family.outputs()) {
            throw new IllegalArgumentException(
                "adapter family [" + family.jsonName() + "] needs " + family.outputs() + " outputs, the last layer has " + in
            );
        }
        this.family = family;
        this.inputDim = inputDim;
        this.layers = List.copyOf(layers);
    }

    public Family family() {
        return family;
    }

    public int inputDim() {
        return inputDim;
    }

    /** The mapping for a query embedding. */
    public Params params(float[] query) {
        if (query.length != inputDim) {
            throw new IllegalArgumentException("adapter takes embeddings of dimension " + inputDim + ", got " + query.length);
        }
        float[] x = query;
        for (Layer l : layers) {
            float[] y = new float[l.weight().length];
            for (int o = 0; o < y.length; o++) {
                double s = l.bias()[o];
                float[] w = l.weight()[o];
                for (int i = 0; i < w.length; i++) {
                    s += (double) w[i] * x[i];
                }
                y[o] = l.relu() ? (float) Math.max(0.0, s) : (float) s;
            }
            x = y;
        }
        return switch (family) {
            case LINEAR_SIGMOID -> new Params(family, softplus(x[0]), x[1]);
            case POWER -> new Params(family, softplus(x[0]), 0f);
        };
    }

    static float softplus(float x) {
        // stable: log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)
        return (float) (Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x))));
    }
}
