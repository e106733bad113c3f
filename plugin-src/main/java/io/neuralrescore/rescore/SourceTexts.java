/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.support.XContentMapValues;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.xcontent.MediaType;
import org.opensearch.index.fieldvisitor.FieldsVisitor;

import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Reads the text of hits from {@code _source}: several fields joined in order, arrays joined by spaces. */
public final class SourceTexts {
    private SourceTexts() {}

    /**
     * Texts of the given top-level doc ids, read leaf by leaf in doc-id order. An entry is null when the document
     * has no source or none of the fields holds text.
     */
    public static String[] load(IndexSearcher searcher, int[] docIds, List<String> fields) throws IOException {
        String[] out = new String[docIds.length];
        Integer[] order = new Integer[docIds.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(docIds[a], docIds[b]));
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int currentLeaf = -1;
        StoredFields stored = null;
        int docBase = 0;
        FieldsVisitor visitor = new FieldsVisitor(true);
        for (int pos : order) {
            int doc = docIds[pos];
            int leaf = ReaderUtil.subIndex(doc, leaves);
            if (leaf != currentLeaf) {
                currentLeaf = leaf;
                LeafReaderContext ctx = leaves.get(leaf);
                stored = ctx.reader().storedFields();
                docBase = ctx.docBase;
            }
            visitor.reset();
            stored.document(doc - docBase, visitor);
            out[pos] = text(visitor.source(), fields);
        }
        return out;
    }

    static String text(BytesReference source, List<String> fields) {
        if (source == null) {
            return null;
        }
        Map<String, Object> map = XContentHelper.convertToMap(source, false, (MediaType) null).v2();
        StringBuilder sb = new StringBuilder();
        for (String field : fields) {
            append(sb, XContentMapValues.extractValue(field, map));
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static void append(StringBuilder sb, Object value) {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> values) {
            for (Object v : values) {
                append(sb, v);
            }
            return;
        }
        if (value instanceof Map<?, ?>) {
            return; // an object where text was expected: nothing a model can read
        }
        String s = value.toString();
        if (s.isBlank()) {
            return;
        }
        if (sb.isEmpty() == false) {
            sb.append(' ');
        }
        sb.append(s);
    }
}
