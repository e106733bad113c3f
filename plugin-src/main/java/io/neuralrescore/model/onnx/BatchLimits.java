/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

/** Current batch limits; dynamic settings update them while searches run. */
public final class BatchLimits {
    private volatile int maxTokens;
    private volatile int maxSize;
    private volatile double maxPadding;

    /** Limits with no padding limit. */
    public BatchLimits(int maxTokens, int maxSize) {
        this(maxTokens, maxSize, 1.0);
    }

    public BatchLimits(int maxTokens, int maxSize, double maxPadding) {
        this.maxTokens = maxTokens;
        this.maxSize = maxSize;
        this.maxPadding = maxPadding;
    }

    /** Largest share of padding tokens in one batch (1 = no limit). */
    public double maxPadding() {
        return maxPadding;
    }

    public void setMaxPadding(double maxPadding) {
        this.maxPadding = maxPadding;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public int maxSize() {
        return maxSize;
    }

    public void setMaxTokens(int maxTokens) {
        this.maxTokens = maxTokens;
    }

    public void setMaxSize(int maxSize) {
        this.maxSize = maxSize;
    }
}
