/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.VectorEncoding;

/** Reads stored token matrices of hits from doc values, leaf by leaf in doc-id order. */
public final class MultiVectorReader {
    private MultiVectorReader() {}

    /** Decoded matrices of the given top-level doc ids; null where a document has no value. */
    public static MultiVector[] read(IndexSearcher searcher, int[] docIds, String field, VectorEncoding encoding) throws IOException {
        MultiVector[] out = new MultiVector[docIds.length];
        Integer[] order = new Integer[docIds.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(docIds[a], docIds[b]));
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int currentLeaf = -1;
        BinaryDocValues values = null;
        int docBase = 0;
        for (int pos : order) {
            int doc = docIds[pos];
            int leaf = ReaderUtil.subIndex(doc, leaves);
            if (leaf != currentLeaf) {
                currentLeaf = leaf;
                LeafReaderContext ctx = leaves.get(leaf);
                values = ctx.reader().getBinaryDocValues(field);
                docBase = ctx.docBase;
            }
            if (values != null && values.advanceExact(doc - docBase)) {
                out[pos] = encoding.decode(values.binaryValue());
            }
        }
        return out;
    }
}
