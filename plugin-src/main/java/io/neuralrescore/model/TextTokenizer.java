/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;

import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.xcontent.DeprecationHandler;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.XContentParser;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
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
    /** Vocabulary from the tokenizer file, read on first use (marker and [MASK] lookups). */
    private volatile Map<String, Long> vocabulary;

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

    /**
     * Id of a vocabulary token such as {@code [MASK]} or ColBERT's {@code [unused0]}, or -1 when the tokenizer does
     * not know it. Looked up in the vocabulary first, like Python's {@code convert_tokens_to_ids}: encoding
     * {@code [unused0]} as text splits it into {@code [}, {@code unused}, {@code ##0}, {@code ]}, since only added
     * tokens survive the pre-tokenizer. A string the tokenizer maps to exactly one id (e.g. an added token with a
     * trailing space, as PyLate's {@code "[Q] "}) also counts.
     */
    public long tokenId(String token) {
        Long id = vocabulary().get(token);
        if (id != null) {
            return id;
        }
        Encoding e = forLength(8).encode(token, false, false);
        long[] ids = e.getIds();
        return ids.length == 1 ? ids[0] : -1;
    }

    private Map<String, Long> vocabulary() {
        Map<String, Long> v = vocabulary;
        if (v == null) {
            try {
                v = readVocabulary(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the vocabulary of tokenizer [" + file.getFileName() + "]", e);
            }
            vocabulary = v;
        }
        return v;
    }

    /** {@code model.vocab} (an object for WordPiece/BPE, [piece, score] pairs for Unigram) plus {@code added_tokens}. */
    static Map<String, Long> readVocabulary(Path file) throws IOException {
        Map<String, Object> json;
        try (
            InputStream in = Files.newInputStream(file);
            XContentParser parser = XContentType.JSON.xContent()
                .createParser(NamedXContentRegistry.EMPTY, DeprecationHandler.THROW_UNSUPPORTED_OPERATION, in)
        ) {
            json = parser.map();
        }
        Map<String, Long> out = new HashMap<>();
        if (json.get("model") instanceof Map<?, ?> model) {
            Object vocab = model.get("vocab");
            if (vocab instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (e.getValue() instanceof Number n) {
                        out.put(String.valueOf(e.getKey()), n.longValue());
                    }
                }
            } else if (vocab instanceof List<?> pieces) {
                for (int i = 0; i < pieces.size(); i++) {
                    if (pieces.get(i) instanceof List<?> piece && piece.isEmpty() == false) {
                        out.putIfAbsent(String.valueOf(piece.get(0)), (long) i);
                    }
                }
            }
        }
        if (json.get("added_tokens") instanceof List<?> added) {
            for (Object a : added) {
                if (a instanceof Map<?, ?> t && t.get("content") != null && t.get("id") instanceof Number n) {
                    out.put(String.valueOf(t.get("content")), n.longValue());
                }
            }
        }
        return Map.copyOf(out);
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
