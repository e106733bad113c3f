/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.apache.lucene.util.BytesRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.VectorEncoding;

/**
 * Late-interaction kernels per storage encoding, on one window of stored token matrices: decode of the doc-values
 * bytes plus ColBERT MaxSim ({@code decodeAndColbert}), and XTR over the decoded window ({@code xtr}). Sizes follow the
 * SciFact late-interaction benchmark: 200 tokens per document, 20 query tokens, MiniLM's 384 dims (and 128, a
 * ColBERT projection).
 */
@State(Scope.Benchmark)
public class MaxSimBenchmark {
    @Param({ "float", "float16", "int8", "bit" })
    public String encoding;

    @Param({ "384", "128" })
    public int dims;

    /** Documents per call: one rescore window. */
    @Param({ "100" })
    public int window;

    static final int DOC_TOKENS = 200;
    static final int QUERY_TOKENS = 20;

    QueryTokens query;
    BytesRef[] stored;
    MultiVector[] decoded;
    VectorEncoding enc;

    @Setup
    public void setup() {
        enc = VectorEncoding.fromString(encoding);
        query = new QueryTokens(BenchData.vectors(QUERY_TOKENS, dims, 7));
        stored = new BytesRef[window];
        decoded = new MultiVector[window];
        for (int d = 0; d < window; d++) {
            stored[d] = new BytesRef(enc.encode(BenchData.vectors(DOC_TOKENS, dims, 100 + d), dims));
            decoded[d] = enc.decode(stored[d]);
        }
    }

    /** What the rescorer does per document after reading its doc values: decode, then MaxSim. */
    @Benchmark
    public void decodeAndColbert(Blackhole bh) {
        for (BytesRef bytes : stored) {
            bh.consume(LateInteraction.colbert(query, enc.decode(bytes)));
        }
    }

    /** XTR over the window's pool (top-k' = 1000 retrieved tokens per query token). */
    @Benchmark
    public LateInteraction.Detail[] xtr() {
        return LateInteraction.xtr(query, decoded, 1000);
    }
}
