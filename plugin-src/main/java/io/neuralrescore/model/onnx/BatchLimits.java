/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

/** Current batch limits; dynamic settings update them while searches run. */
public final class BatchLimits {
    private volatile int maxTokens;
    private volatile int maxSize;

    public BatchLimits(int maxTokens, int maxSize) {
        this.maxTokens = maxTokens;
        this.maxSize = maxSize;
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
