/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import ai.onnxruntime.OrtProvider;

import java.util.Set;

/**
 * Chooses the execution provider. A GPU request on a build or host without CUDA falls back to CPU with a warning
 * instead of failing the node: searches keep working, only slower.
 */
public final class DeviceSelection {
    /** The outcome: use CUDA or not, and the warning to log when a GPU request could not be met. */
    public record Decision(boolean useCuda, String warning) {}

    private DeviceSelection() {}

    public static Decision decide(String requestedDevice, Set<OrtProvider> available) {
        if ("gpu".equals(requestedDevice) == false) {
            return new Decision(false, null);
        }
        if (available.contains(OrtProvider.CUDA)) {
            return new Decision(true, null);
        }
        return new Decision(
            false,
            "plugins.rescore.device is [gpu] but ONNX Runtime has no CUDA provider (available: "
                + available
                + "); build with -Pgpu (onnxruntime_gpu) and install CUDA. Falling back to CPU."
        );
    }

    /** When CUDA was chosen but the session could not be created on it. */
    public static String cudaFailureWarning(String modelId, Exception e) {
        return "cannot create CUDA session for model [" + modelId + "] (" + e.getMessage() + "); falling back to CPU";
    }
}
