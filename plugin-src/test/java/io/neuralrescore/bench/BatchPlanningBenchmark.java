/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import java.util.List;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.onnx.BatchPlanner;
import io.neuralrescore.model.onnx.PaddedBatch;

/** Length-bucketed batch planning and padded tensor building for one window (the plugin's defaults: 8192 tokens, 64). */
@State(Scope.Benchmark)
public class BatchPlanningBenchmark {
    @Param({ "100", "1000" })
    public int window;

    int[] lengths;
    Encoded[] encodings;

    @Setup
    public void setup() {
        lengths = BenchData.lengths(window, 512, 4);
        encodings = new Encoded[window];
        for (int i = 0; i < window; i++) {
            encodings[i] = new Encoded(new long[lengths[i]], new long[lengths[i]]);
        }
    }

    @Benchmark
    public List<int[]> plan() {
        return BatchPlanner.plan(lengths, 8192, 64);
    }

    /** Plan plus the padded input arrays of every batch (what precedes each ONNX Runtime call). */
    @Benchmark
    public void planAndPad(Blackhole bh) {
        for (int[] batch : BatchPlanner.plan(lengths, 8192, 64)) {
            bh.consume(PaddedBatch.of(encodings, batch));
        }
    }
}
