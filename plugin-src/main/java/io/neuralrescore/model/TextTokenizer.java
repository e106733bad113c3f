/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hugging Face tokenizer of a model folder. The native tokenizer fixes truncation length at construction, so one
 * instance is kept per length a clause asks for. Padding is left to the batcher.
 */
public final class TextTokenizer implements Closeable {
    private final Path file;
    private final Map<Integer, HuggingFaceTokenizer> byMaxLength = new ConcurrentHashMap<>();

    private TextTokenizer(Path file) {
        this.file = file;
    }

    public static TextTokenizer load(Path file, int defaultMaxLength) throws IOException {
        DjlEnvironment.ensureOffline();
        TextTokenizer tokenizer = new TextTokenizer(file);
        tokenizer.forLength(defaultMaxLength); // fail at load time on a bad file, not on the first search
        return tokenizer;
    }

    private HuggingFaceTokenizer forLength(int maxLength) {
        return byMaxLength.computeIfAbsent(maxLength, len -> {
            try {
                return DjlEnvironment.withPluginClassLoader(
                    () -> HuggingFaceTokenizer.newInstance(
                        file,
                        Map.of(
                            "padding",
                            "false",
                            "truncation",
                            "true",
                            "maxLength",
                            Integer.toString(len),
                            "modelMaxLength",
                            Integer.toString(len),
                            "addSpecialTokens",
                            "true"
                        )
                    )
                );
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load tokenizer [" + file.getFileName() + "]", e);
            }
        });
    }

    /** Encodes each text alone: {@code [CLS] text [SEP]}. */
    public Encoded[] encode(List<String> texts, int maxLength) {
        Encoding[] encodings = forLength(maxLength).batchEncode(texts);
        return convert(encodings);
    }

    /** Encodes (query, text) pairs: {@code [CLS] query [SEP] text [SEP]}, truncating the longer side first. */
    public Encoded[] encodePairs(String query, List<String> texts, int maxLength) {
        PairList<String, String> pairs = new PairList<>(texts.size());
        for (String text : texts) {
            pairs.add(query, text);
        }
        return convert(forLength(maxLength).batchEncode(pairs));
    }

    /** Full encodings with tokens and special-token masks, for encoders that post-process tokens. */
    public Encoding[] encodeRaw(List<String> texts, int maxLength, boolean addSpecialTokens) {
        HuggingFaceTokenizer tokenizer = forLength(maxLength);
        Encoding[] out = new Encoding[texts.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokenizer.encode(texts.get(i), addSpecialTokens, false);
        }
        return out;
    }

    /** Id of a vocabulary token such as {@code [MASK]}, or -1 when the tokenizer does not know it. */
    public long tokenId(String token) {
        Encoding e = forLength(8).encode(token, false, false);
        long[] ids = e.getIds();
        return ids.length == 1 ? ids[0] : -1;
    }

    private static Encoded[] convert(Encoding[] encodings) {
        Encoded[] out = new Encoded[encodings.length];
        for (int i = 0; i < encodings.length; i++) {
            out[i] = new Encoded(encodings[i].getIds(), encodings[i].getTypeIds());
        }
        return out;
    }

    @Override
    public void close() {
        for (HuggingFaceTokenizer t : byMaxLength.values()) {
            t.close();
        }
        byMaxLength.clear();
    }
}
