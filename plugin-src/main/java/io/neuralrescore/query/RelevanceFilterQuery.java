/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.ScorerSupplier;
import org.apache.lucene.search.TwoPhaseIterator;
import org.apache.lucene.search.Weight;

import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

import io.neuralrescore.rescore.SingleVectorField;
import io.neuralrescore.scoring.CosineAdapter;
import io.neuralrescore.scoring.VectorMath;

/**
 * Matches the inner query's hits whose calibrated relevance (Cosine Adapter over the cosine of query and stored
 * embedding) reaches the threshold. A two-phase check after the inner query, so counts and aggregations see only
 * relevant hits. Scores: the inner score, or, with a score mode, its combination with the calibrated relevance.
 */
final class RelevanceFilterQuery extends Query {
    private final Query inner;
    private final SingleVectorField field;
    private final float[] query;
    private final CosineAdapter.Params params;
    private final float threshold;
    private final io.neuralrescore.scoring.ScoreMode mode; // null: inner score
    private final float queryWeight;
    private final float rescoreWeight;

    RelevanceFilterQuery(
        Query inner,
        SingleVectorField field,
        float[] query,
        CosineAdapter.Params params,
        float threshold,
        io.neuralrescore.scoring.ScoreMode mode,
        float queryWeight,
        float rescoreWeight
    ) {
        this.inner = inner;
        this.field = field;
        this.query = query;
        this.params = params;
        this.threshold = threshold;
        this.mode = mode;
        this.queryWeight = queryWeight;
        this.rescoreWeight = rescoreWeight;
    }

    @Override
    public Query rewrite(IndexSearcher searcher) throws IOException {
        Query rewritten = inner.rewrite(searcher);
        return rewritten == inner ? this : new RelevanceFilterQuery(rewritten, field, query, params, threshold, mode, queryWeight, rescoreWeight);
    }

    @Override
    public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) throws IOException {
        Weight innerWeight = inner.createWeight(searcher, scoreMode, boost);
        return new Weight(this) {
            @Override
            public ScorerSupplier scorerSupplier(LeafReaderContext context) throws IOException {
                ScorerSupplier innerSupplier = innerWeight.scorerSupplier(context);
                if (innerSupplier == null) {
                    return null;
                }
                SingleVectorField.LeafVectors vectors = field.open(context);
                return new ScorerSupplier() {
                    @Override
                    public Scorer get(long leadCost) throws IOException {
                        return new FilterScorer(innerSupplier.get(leadCost), vectors);
                    }

                    @Override
                    public long cost() {
                        return innerSupplier.cost();
                    }
                };
            }

            @Override
            public Explanation explain(LeafReaderContext context, int doc) throws IOException {
                Explanation in = innerWeight.explain(context, doc);
                if (in.isMatch() == false) {
                    return in;
                }
                float[] v = field.open(context).vector(doc);
                if (v == null) {
                    return Explanation.noMatch("[relevance_filter] no vector in field [" + field.name() + "]", in);
                }
                float cos = VectorMath.cosine(query, v);
                float p = params.map(cos);
                Explanation calibrated = Explanation.match(
                    p,
                    "calibrated relevance " + params.describe(),
                    Explanation.match(cos, "cosine of query and document embeddings")
                );
                if (p < threshold) {
                    return Explanation.noMatch("[relevance_filter] calibrated relevance below threshold [" + threshold + "]", calibrated, in);
                }
                float score = mode == null ? in.getValue().floatValue() : Math.max(0f, mode.combine(in.getValue().floatValue(), queryWeight, p, rescoreWeight));
                return Explanation.match(
                    score,
                    "[relevance_filter] calibrated relevance at or above threshold [" + threshold + "]"
                        + (mode == null ? "; inner score kept" : "; score_mode [" + mode.jsonName() + "]"),
                    calibrated,
                    in
                );
            }

            @Override
            public boolean isCacheable(LeafReaderContext ctx) {
                return false;
            }
        };
    }

    /** Inner scorer restricted to calibrated-relevant documents. */
    private final class FilterScorer extends Scorer {
        private final Scorer in;
        private final SingleVectorField.LeafVectors vectors;
        private final TwoPhaseIterator twoPhase;
        private float relevance;

        FilterScorer(Scorer in, SingleVectorField.LeafVectors vectors) {
            this.in = in;
            this.vectors = vectors;
            TwoPhaseIterator innerTwoPhase = in.twoPhaseIterator();
            DocIdSetIterator approximation = innerTwoPhase != null ? innerTwoPhase.approximation() : in.iterator();
            this.twoPhase = new TwoPhaseIterator(approximation) {
                @Override
                public boolean matches() throws IOException {
                    if (innerTwoPhase != null && innerTwoPhase.matches() == false) {
                        return false;
                    }
                    float[] v = vectors.vector(approximation.docID());
                    if (v == null) {
                        return false;
                    }
                    relevance = params.map(VectorMath.cosine(query, v));
                    return relevance >= threshold;
                }

                @Override
                public float matchCost() {
                    return (innerTwoPhase == null ? 0 : innerTwoPhase.matchCost()) + 4f * query.length;
                }
            };
        }

        @Override
        public int docID() {
            return twoPhase.approximation().docID();
        }

        @Override
        public DocIdSetIterator iterator() {
            return TwoPhaseIterator.asDocIdSetIterator(twoPhase);
        }

        @Override
        public TwoPhaseIterator twoPhaseIterator() {
            return twoPhase;
        }

        @Override
        public float score() throws IOException {
            float first = in.score();
            return mode == null ? first : Math.max(0f, mode.combine(first, queryWeight, relevance, rescoreWeight));
        }

        @Override
        public float getMaxScore(int upTo) throws IOException {
            return mode == null ? in.getMaxScore(upTo) : Float.POSITIVE_INFINITY;
        }
    }

    @Override
    public void visit(QueryVisitor visitor) {
        inner.visit(visitor.getSubVisitor(org.apache.lucene.search.BooleanClause.Occur.MUST, this));
    }

    @Override
    public String toString(String f) {
        return "relevance_filter(" + inner.toString(f) + ", field=" + field.name() + ", threshold=" + threshold + ")";
    }

    @Override
    public boolean equals(Object o) {
        if (sameClassAs(o) == false) {
            return false;
        }
        RelevanceFilterQuery other = (RelevanceFilterQuery) o;
        return inner.equals(other.inner)
            && field.name().equals(other.field.name())
            && Arrays.equals(query, other.query)
            && params.equals(other.params)
            && threshold == other.threshold
            && mode == other.mode
            && queryWeight == other.queryWeight
            && rescoreWeight == other.rescoreWeight;
    }

    @Override
    public int hashCode() {
        return Objects.hash(classHash(), inner, field.name(), Arrays.hashCode(query), params, threshold, mode, queryWeight, rescoreWeight);
    }
}
