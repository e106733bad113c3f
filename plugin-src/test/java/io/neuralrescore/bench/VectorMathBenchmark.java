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

import io.neuralrescore.scoring.VectorMath;

/** Cosine of a query vector against a window of document vectors (text_embedding's scoring after inference). */
@State(Scope.Benchmark)
public class VectorMathBenchmark {
    /** 384: all-MiniLM-L6-v2; 768: base-size encoders; 128: ColBERT token vectors. */
    @Param({ "384", "128", "768" })
    public int dim;

    /** Documents per call: one rescore window. */
    @Param({ "100" })
    public int window;

    float[] query;
    float[][] docs;
    float[] hidden;
    long[] mask;

    @Setup
    public void setup() {
        query = BenchData.vectors(1, dim, 1)[0];
        docs = BenchData.vectors(window, dim, 2);
        hidden = BenchData.vectors(1, 128 * dim, 3)[0];
        mask = new long[128];
        for (int i = 0; i < 100; i++) {
            mask[i] = 1;
        }
    }

    /** Cosine of the query with every document of the window. */
    @Benchmark
    public void cosineWindow(Blackhole bh) {
        for (float[] d : docs) {
            bh.consume(VectorMath.cosine(query, d));
        }
    }

    /** Mean pooling of one 128-token output (100 real tokens), as the bi-encoder does per text. */
    @Benchmark
    public float[] maskedMean128() {
        return VectorMath.maskedMean(hidden, 0, 128, dim, mask);
    }
}
