/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

/** Node-level session options, from settings. */
public record OnnxOptions(String device, int gpuDeviceId, int intraOpThreads, int interOpThreads) {
    public static OnnxOptions cpu(int threads) {
        return new OnnxOptions("cpu", 0, threads, 1);
    }
}
