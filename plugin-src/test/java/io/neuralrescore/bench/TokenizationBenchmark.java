/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.util.List;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.TextTokenizer;

/**
 * Tokenization of one rescore window with the plugin's {@link TextTokenizer} (Hugging Face tokenizers via DJL),
 * on real SciFact abstracts: texts alone (bi-encoder) and (query, text) pairs (cross-encoder).
 */
@State(Scope.Benchmark)
public class TokenizationBenchmark {
    @Param({ "128", "256", "512" })
    public int maxLength;

    @Param({ "100" })
    public int window;

    TextTokenizer tokenizer;
    List<String> texts;
    String query;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        tokenizer = TextTokenizer.load(BenchData.tokenizerFile(), maxLength);
        texts = BenchData.sampleTexts(window);
        query = BenchData.sampleQuery();
    }

    @TearDown(Level.Trial)
    public void close() {
        tokenizer.close();
    }

    @Benchmark
    public Encoded[] encodeTexts() {
        return tokenizer.encode(texts, maxLength);
    }

    @Benchmark
    public Encoded[] encodePairs() {
        return tokenizer.encodePairs(query, texts, maxLength);
    }
}
