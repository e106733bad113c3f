/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import ai.djl.huggingface.tokenizers.Encoding;

import java.util.Arrays;

/**
 * Builds ColBERT-style model inputs from a tokenizer's output: a marker token inserted after {@code [CLS]},
 * queries padded with {@code [MASK]} to a fixed length (query augmentation: attention mask 0, output vectors
 * scored), and for documents a mask
 * of which output positions to keep (the punctuation skiplist).
 */
public final class TokenInputs {
    /** Model input plus, per position, whether its output vector is kept, and the token strings. */
    public record Prepared(Encoded input, boolean[] keep, String[] tokens) {
        public int kept() {
            int n = 0;
            for (boolean k : keep) {
                if (k) {
                    n++;
                }
            }
            return n;
        }
    }

    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private TokenInputs() {}

    /**
     * @param encoding  tokenizer output with special tokens, truncated to leave room for the marker
     * @param markerId  id of the marker token, or -1 for none
     * @param marker    the marker's string (for explanations), ignored when {@code markerId} is -1
     * @param padTo     pad with {@code maskId} up to this length (query augmentation), or 0 for none
     * @param skipPunctuation drop output vectors of single-character punctuation tokens
     */
    public static Prepared prepare(Encoding encoding, long markerId, String marker, int padTo, long maskId, boolean skipPunctuation) {
        long[] ids = encoding.getIds();
        String[] toks = encoding.getTokens();
        int extra = markerId >= 0 ? 1 : 0;
        int length = Math.max(ids.length + extra, padTo);
        long[] outIds = new long[length];
        String[] outTokens = new String[length];
        boolean[] keep = new boolean[length];
        int p = 0;
        for (int i = 0; i < ids.length; i++) {
            outIds[p] = ids[i];
            outTokens[p] = toks[i];
            keep[p] = skipPunctuation == false || isPunctuation(toks[i]) == false;
            p++;
            if (i == 0 && extra == 1) {
                outIds[p] = markerId;
                outTokens[p] = marker;
                keep[p] = true;
                p++;
            }
        }
        int attended = p; // the [MASK] augmentation is not attended to (ColBERT/PyLate), only scored
        while (p < length) {
            outIds[p] = maskId;
            outTokens[p] = "[MASK]";
            keep[p] = true;
            p++;
        }
        long[] types = new long[length];
        Arrays.fill(types, 0L);
        return new Prepared(new Encoded(outIds, types, attended), keep, outTokens);
    }

    static boolean isPunctuation(String token) {
        return token != null && token.length() == 1 && PUNCTUATION.indexOf(token.charAt(0)) >= 0;
    }
}
