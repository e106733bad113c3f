/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import ai.onnxruntime.OrtProvider;

import org.opensearch.test.OpenSearchTestCase;

import java.util.EnumSet;
import java.util.Set;

public class DeviceSelectionTests extends OpenSearchTestCase {

    public void testCpuNeverUsesCuda() {
        for (Set<OrtProvider> available : java.util.List.of(Set.<OrtProvider>of(), EnumSet.of(OrtProvider.CPU), EnumSet.of(OrtProvider.CPU, OrtProvider.CUDA))) {
            assertEquals(new DeviceSelection.Decision(false, null), DeviceSelection.decide("cpu", available));
        }
    }

    public void testGpuWithCuda() {
        assertEquals(new DeviceSelection.Decision(true, null), DeviceSelection.decide("gpu", EnumSet.of(OrtProvider.CPU, OrtProvider.CUDA)));
        assertEquals(new DeviceSelection.Decision(true, null), DeviceSelection.decide("gpu", EnumSet.of(OrtProvider.CUDA)));
    }

    public void testGpuWithoutCudaFallsBackToCpuWithWarning() {
        DeviceSelection.Decision d = DeviceSelection.decide("gpu", EnumSet.of(OrtProvider.CPU));
        assertFalse(d.useCuda());
        assertEquals(
            "plugins.rescore.device is [gpu] but ONNX Runtime has no CUDA provider (available: [CPU]); "
                + "build with -Pgpu (onnxruntime_gpu) and install CUDA. Falling back to CPU.",
            d.warning()
        );
        assertEquals(
            "plugins.rescore.device is [gpu] but ONNX Runtime has no CUDA provider (available: []); "
                + "build with -Pgpu (onnxruntime_gpu) and install CUDA. Falling back to CPU.",
            DeviceSelection.decide("gpu", EnumSet.noneOf(OrtProvider.class)).warning()
        );
    }

    public void testCudaFailureWarning() {
        assertEquals(
            "cannot create CUDA session for model [my-ce] (no CUDA device); falling back to CPU",
            DeviceSelection.cudaFailureWarning("my-ce", new IllegalStateException("no CUDA device"))
        );
    }
}
