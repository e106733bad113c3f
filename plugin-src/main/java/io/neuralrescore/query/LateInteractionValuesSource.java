/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.DoubleValues;
import org.apache.lucene.search.DoubleValuesSource;
import org.apache.lucene.search.IndexSearcher;

import java.io.IOException;
import java.util.Objects;

import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.scoring.VectorEncoding;

/** Per-document ColBERT MaxSim over a {@code multi_vector} field, combined with the inner query's score. */
final class LateInteractionValuesSource extends DoubleValuesSource {
    private final String field;
    private final VectorEncoding encoding;
    private final QueryTokens query;
    private final ScoreMode mode;
    private final float queryWeight;
    private final float rescoreWeight;

    LateInteractionValuesSource(String field, VectorEncoding encoding, QueryTokens query, ScoreMode mode, float queryWeight, float rescoreWeight) {
        this.field = field;
        this.encoding = encoding;
        this.query = query;
        this.mode = mode;
        this.queryWeight = queryWeight;
        this.rescoreWeight = rescoreWeight;
    }

    @Override
    public DoubleValues getValues(LeafReaderContext ctx, DoubleValues scores) throws IOException {
        BinaryDocValues values = ctx.reader().getBinaryDocValues(field);
        return new DoubleValues() {
            private boolean hasVectors;

            @Override
            public double doubleValue() throws IOException {
                float first = scores == null ? 0f : (float) scores.doubleValue();
                if (hasVectors == false) {
                    return first * queryWeight;
                }
                float maxSim = LateInteraction.colbert(query, encoding.decode(values.binaryValue()));
                return mode.combine(first, queryWeight, maxSim, rescoreWeight);
            }

            @Override
            public boolean advanceExact(int target) throws IOException {
                hasVectors = values != null && values.advanceExact(target);
                if (scores != null) {
                    scores.advanceExact(target);
                }
                return true;
            }
        };
    }

    @Override
    public boolean needsScores() {
        return true;
    }

    @Override
    public DoubleValuesSource rewrite(IndexSearcher reader) {
        return this;
    }

    @Override
    public boolean isCacheable(LeafReaderContext ctx) {
        return false;
    }

    @Override
    public int hashCode() {
        return Objects.hash(field, encoding, java.util.Arrays.deepHashCode(query.vectors()), mode, queryWeight, rescoreWeight);
    }

    @Override
    public boolean equals(Object obj) {
        if (obj instanceof LateInteractionValuesSource o) {
            return field.equals(o.field)
                && encoding == o.encoding
                && java.util.Arrays.deepEquals(query.vectors(), o.query.vectors())
                && mode == o.mode
                && queryWeight == o.queryWeight
                && rescoreWeight == o.rescoreWeight;
        }
        return false;
    }

    @Override
    public String toString() {
        return "late_interaction(" + field + ", " + encoding.jsonName() + ", " + mode.jsonName() + ")";
    }
}
