/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.ArrayList;
import java.util.List;

/** Maps texts to single vectors (bi-encoder). */
public interface TextEmbedder extends LoadedModel {
    /** One vector per text as given (no prefix), pooled as the manifest says, unit length when the manifest says {@code normalize}. */
    float[][] embed(List<String> texts, int maxLength);

    /** Embeds queries, each after the manifest's {@code query_prefix}. */
    default float[][] embedQueries(List<String> texts, int maxLength) {
        return embed(prefixed(manifest().queryPrefix(), texts), maxLength);
    }

    /** Embeds documents, each after the manifest's {@code document_prefix}. */
    default float[][] embedDocuments(List<String> texts, int maxLength) {
        return embed(prefixed(manifest().documentPrefix(), texts), maxLength);
    }

    private static List<String> prefixed(String prefix, List<String> texts) {
        if (prefix.isEmpty()) {
            return texts;
        }
        List<String> out = new ArrayList<>(texts.size());
        for (String text : texts) {
            out.add(prefix + text);
        }
        return out;
    }

    default int dimension() {
        return manifest().dimension();
    }
}
