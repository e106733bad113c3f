/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.opensearch.search.rescore.RescoreContext;
import org.opensearch.search.rescore.Rescorer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.neuralrescore.model.InferenceCancellation;
import io.neuralrescore.scoring.LateInteraction;
import io.neuralrescore.scoring.MultiVector;
import io.neuralrescore.scoring.QueryTokens;
import io.neuralrescore.scoring.VectorEncoding;
import io.neuralrescore.stats.StatName;

/**
 * Late-interaction rescoring of a shard's window over stored token vectors: ColBERT MaxSim per hit, or XTR over
 * the window as the candidate pool. XTR pools are per shard: a hit's score depends on the other hits of its shard's
 * window, so scores of different shards are comparable only as far as their pools are alike (similar sizes and
 * first-pass quality); the coordinator merges them by score as for any rescorer. Stateless.
 */
public final class LateInteractionRescorer implements Rescorer {
    public static final LateInteractionRescorer INSTANCE = new LateInteractionRescorer();

    private static final int EXPLAIN_TOKENS = 5;

    private LateInteractionRescorer() {}

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        if (topDocs == null || topDocs.scoreDocs.length == 0) {
            return topDocs;
        }
        LateInteractionContext ctx = (LateInteractionContext) rescoreContext;
        LateInteractionContext.Options opt = ctx.options();
        WindowOrdering ordering = new WindowOrdering(topDocs, ctx.getWindowSize());
        List<ScoreDoc> candidates = ordering.candidates();
        int[] docIds = new int[candidates.size()];
        Set<Integer> rescored = new HashSet<>();
        for (int i = 0; i < docIds.length; i++) {
            docIds[i] = candidates.get(i).doc;
            rescored.add(docIds[i]);
        }
        ctx.setRescoredDocs(rescored);
        MultiVector[] vectors;
        try (InferenceCancellation.Scope scope = InferenceCancellation.enter(searcher)) {
            vectors = vectors(searcher, docIds, ctx); // encodes hits without stored vectors when the clause asks for it
        }
        float[] scores = score(ctx.query(), vectors, opt);
        int scoredCount = 0;
        for (int i = 0; i < candidates.size(); i++) {
            ScoreDoc sd = candidates.get(i);
            if (vectors[i] == null) {
                ordering.unscored(sd);
            } else if (opt.minScore() != null && scores[i] < opt.minScore()) {
                ordering.dropped(sd);
                scoredCount++;
            } else {
                ordering.scored(sd, opt.scoreMode().combine(sd.score, opt.queryWeight(), scores[i], opt.rescoreWeight()));
                scoredCount++;
            }
        }
        ctx.stats().increment(StatName.RESCORE_REQUESTS);
        ctx.stats().add(StatName.RESCORED_DOCS, scoredCount);
        ctx.stats().add(StatName.UNSCORED_DOCS, candidates.size() - scoredCount);
        ctx.stats().add(StatName.MIN_SCORE_DROPPED, ordering.droppedCount());
        return ordering.result();
    }

    /** Stored vectors of the docs, with missing ones encoded from text when the clause asks for it. */
    private static MultiVector[] vectors(IndexSearcher searcher, int[] docIds, LateInteractionContext ctx) throws IOException {
        VectorEncoding encoding = ctx.options().encoding();
        MultiVector[] vectors = MultiVectorReader.read(searcher, docIds, ctx.options().field(), encoding);
        if (ctx.fallback() == null) {
            return vectors;
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < vectors.length; i++) {
            if (vectors[i] == null) {
                missing.add(i);
            }
        }
        if (missing.isEmpty()) {
            return vectors;
        }
        int[] missingIds = missing.stream().mapToInt(i -> docIds[i]).toArray();
        String[] texts = SourceTexts.load(searcher, missingIds, ctx.textFields());
        List<String> present = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        for (int j = 0; j < texts.length; j++) {
            if (texts[j] != null) {
                present.add(texts[j]);
                slots.add(missing.get(j));
            }
        }
        if (present.isEmpty()) {
            return vectors;
        }
        List<float[][]> encoded = ctx.fallback().encode(present);
        int dims = ctx.query().dims();
        for (int j = 0; j < slots.size(); j++) {
            // round-trip through the field's encoding so fallback hits score at the stored precision
            byte[] bytes = encoding.encode(encoded.get(j), dims);
            vectors[slots.get(j)] = encoding.decode(new org.apache.lucene.util.BytesRef(bytes));
        }
        return vectors;
    }

    private static float[] score(QueryTokens query, MultiVector[] vectors, LateInteractionContext.Options opt) {
        float[] scores = new float[vectors.length];
        if (opt.scoring() == LateInteractionRescorerBuilder.Scoring.XTR) {
            LateInteraction.Detail[] details = LateInteraction.xtr(query, vectors, opt.topKPrime());
            for (int i = 0; i < scores.length; i++) {
                scores[i] = details[i].score();
            }
        } else {
            for (int i = 0; i < scores.length; i++) {
                scores[i] = vectors[i] == null ? Float.NaN : LateInteraction.colbert(query, vectors[i]);
            }
        }
        return scores;
    }

    @Override
    public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext, Explanation sourceExplanation)
        throws IOException {
        LateInteractionContext ctx = (LateInteractionContext) rescoreContext;
        LateInteractionContext.Options opt = ctx.options();
        String clause = LateInteractionRescorerBuilder.NAME;
        if (sourceExplanation == null) {
            return Explanation.noMatch("nothing matched");
        }
        if (ctx.isRescored(topLevelDocId) == false) {
            return RescoreExplanations.notRescored(clause, "outside the rescore window", sourceExplanation);
        }
        LateInteraction.Detail detail;
        if (opt.scoring() == LateInteractionRescorerBuilder.Scoring.XTR) {
            // the score depends on the pool: recompute over the same window (the rescored docs of this shard)
            int[] pool = ctx.getRescoredDocs().stream().mapToInt(Integer::intValue).sorted().toArray();
            MultiVector[] vectors = vectors(searcher, pool, ctx);
            int self = java.util.Arrays.binarySearch(pool, topLevelDocId);
            if (vectors[self] == null) {
                return RescoreExplanations.notRescored(clause, "no vectors in field [" + opt.field() + "]", sourceExplanation);
            }
            detail = LateInteraction.xtr(ctx.query(), vectors, opt.topKPrime())[self];
        } else {
            MultiVector v = vectors(searcher, new int[] { topLevelDocId }, ctx)[0];
            if (v == null) {
                return RescoreExplanations.notRescored(clause, "no vectors in field [" + opt.field() + "]", sourceExplanation);
            }
            detail = LateInteraction.colbertDetail(ctx.query(), v);
        }
        Explanation modelScore = Explanation.match(detail.score(), describe(opt, ctx.query().size()), topTokens(ctx, detail));
        return RescoreExplanations.combined(
            clause,
            opt.model(),
            opt.scoreMode(),
            opt.queryWeight(),
            opt.rescoreWeight(),
            opt.minScore(),
            sourceExplanation,
            modelScore
        );
    }

    private static String describe(LateInteractionContext.Options opt, int queryTokens) {
        if (opt.scoring() == LateInteractionRescorerBuilder.Scoring.XTR) {
            return "xtr score: mean over "
                + queryTokens
                + " query tokens of the best retrieved document token (top_k_prime "
                + opt.topKPrime()
                + " over the shard's window; imputed when none retrieved), field ["
                + opt.field()
                + "] ("
                + opt.encoding().jsonName()
                + ")";
        }
        return "colbert maxsim: sum over " + queryTokens + " query tokens of the best document token similarity, field [" + opt.field()
            + "] (" + opt.encoding().jsonName() + ")";
    }

    /** The query tokens that contributed most, best first. */
    private static Explanation[] topTokens(LateInteractionContext ctx, LateInteraction.Detail detail) {
        Integer[] order = new Integer[detail.perQueryToken().length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(detail.perQueryToken()[b], detail.perQueryToken()[a]));
        int n = Math.min(EXPLAIN_TOKENS, order.length);
        Explanation[] out = new Explanation[n];
        for (int k = 0; k < n; k++) {
            int i = order[k];
            String how = detail.imputed()[i]
                ? "imputed (no document token retrieved)"
                : "document token #" + detail.bestDocToken()[i];
            out[k] = Explanation.match(detail.perQueryToken()[i], "query token [" + ctx.queryToken(i) + "] -> " + how);
        }
        return out;
    }
}
