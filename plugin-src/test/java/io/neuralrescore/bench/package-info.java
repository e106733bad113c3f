/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Benchmarks (test scope, never run by the unit tests; {@code scripts/bench.sh} runs them, {@code bench.py --smoke}
 * runs each once).
 * <ul>
 * <li>{@link io.neuralrescore.bench.RawOnnxBench}: raw ONNX Runtime throughput on given (query, text) pairs, the
 * plugin's ceiling, length-bucketed and padded.</li>
 * <li>{@link io.neuralrescore.bench.VectorMathBenchmark}: JMH, cosine over a window and mean pooling.</li>
 * <li>{@link io.neuralrescore.bench.TokenizationBenchmark}: JMH, texts and pairs through the plugin's tokenizer.</li>
 * <li>{@link io.neuralrescore.bench.BatchPlanningBenchmark}: JMH, length-bucketed planning and padded tensors.</li>
 * <li>{@link io.neuralrescore.bench.LateInteractionBench}: late-interaction rescoring over stored token vectors of a
 * real corpus, the plugin's rescorer per encoding next to Lucene's {@code LateInteractionRescorer}, and storage per
 * encoding ({@code scripts/bench-late-interaction.sh}).</li>
 * <li>{@link io.neuralrescore.bench.BenchData}: deterministic inputs for the micro benchmarks.</li>
 * <li>{@link io.neuralrescore.bench.MicroBenchSmoke}: runs every {@code *Benchmark} once without JMH.</li>
 * </ul>
 * To add a kernel (MaxSim per encoding, calibration...): add a {@code @State} class named {@code <Kernel>Benchmark}
 * here with {@code @Param} inputs and {@code @Benchmark} methods, inputs from {@link io.neuralrescore.bench.BenchData}.
 * JMH finds it (annotation processing in the {@code bench} Maven profile), the smoke runs it, and
 * {@code scripts/bench.sh --jmh-only} puts it in the report. Nothing else to register.
 */
package io.neuralrescore.bench;
