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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.neuralrescore.scoring.VectorMath;
import io.neuralrescore.stats.StatName;

/**
 * Calibrated relevance filtering of a shard's window: cosine of query and stored embedding, mapped by the
 * query's adapter parameters to a probability, compared with the threshold. Stateless.
 */
public final class CosineFilterRescorer implements Rescorer {
    public static final CosineFilterRescorer INSTANCE = new CosineFilterRescorer();
    private static final String CLAUSE = CosineFilterRescorerBuilder.NAME;

    private CosineFilterRescorer() {}

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        if (topDocs == null || topDocs.scoreDocs.length == 0) {
            return topDocs;
        }
        CosineFilterContext ctx = (CosineFilterContext) rescoreContext;
        CosineFilterContext.Options opt = ctx.options();
        WindowOrdering ordering = new WindowOrdering(topDocs, ctx.getWindowSize());
        List<ScoreDoc> candidates = ordering.candidates();
        int[] docIds = new int[candidates.size()];
        Set<Integer> rescored = new HashSet<>();
        for (int i = 0; i < docIds.length; i++) {
            docIds[i] = candidates.get(i).doc;
            rescored.add(docIds[i]);
        }
        ctx.setRescoredDocs(rescored);
        float[][] vectors = ctx.vectors().read(searcher, docIds);
        int scored = 0;
        int below = 0;
        for (int i = 0; i < candidates.size(); i++) {
            ScoreDoc sd = candidates.get(i);
            if (vectors[i] == null) {
                ordering.unscored(sd);
                continue;
            }
            scored++;
            float p = ctx.params().map(VectorMath.cosine(ctx.query(), vectors[i]));
            float combined = opt.scoreMode().combine(sd.score, opt.queryWeight(), p, opt.rescoreWeight());
            if (p >= opt.threshold()) {
                ordering.scored(sd, combined);
            } else {
                below++;
                if (opt.action() == CosineFilterRescorerBuilder.Action.DROP) {
                    ordering.dropped(sd);
                } else {
                    ordering.demoted(sd, combined);
                }
            }
        }
        ctx.stats().increment(StatName.RESCORE_REQUESTS);
        ctx.stats().add(StatName.RESCORED_DOCS, scored);
        ctx.stats().add(StatName.UNSCORED_DOCS, candidates.size() - scored);
        ctx.stats().add(StatName.MIN_SCORE_DROPPED, opt.action() == CosineFilterRescorerBuilder.Action.DROP ? below : 0);
        return ordering.result();
    }

    @Override
    public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext, Explanation sourceExplanation)
        throws IOException {
        CosineFilterContext ctx = (CosineFilterContext) rescoreContext;
        CosineFilterContext.Options opt = ctx.options();
        if (sourceExplanation == null) {
            return Explanation.noMatch("nothing matched");
        }
        if (ctx.isRescored(topLevelDocId) == false) {
            return RescoreExplanations.notRescored(CLAUSE, "outside the rescore window", sourceExplanation);
        }
        float[] v = ctx.vectors().read(searcher, new int[] { topLevelDocId })[0];
        if (v == null) {
            return RescoreExplanations.notRescored(CLAUSE, "no vector in field [" + opt.field() + "]", sourceExplanation);
        }
        float cos = VectorMath.cosine(ctx.query(), v);
        float p = ctx.params().map(cos);
        Explanation calibrated = Explanation.match(
            p,
            "calibrated relevance by adapter [" + opt.adapter() + "]: " + ctx.params().describe(),
            Explanation.match(cos, "cosine of query and document embeddings, field [" + opt.field() + "]")
        );
        boolean kept = p >= opt.threshold();
        String verdict = kept
            ? "at or above threshold [" + opt.threshold() + "]: kept"
            : "below threshold [" + opt.threshold() + "]: " + (opt.action() == CosineFilterRescorerBuilder.Action.DROP ? "dropped" : "demoted");
        Explanation combined = RescoreExplanations.combined(
            CLAUSE,
            null,
            opt.scoreMode(),
            opt.queryWeight(),
            opt.rescoreWeight(),
            null,
            sourceExplanation,
            calibrated
        );
        if (kept == false && opt.action() == CosineFilterRescorerBuilder.Action.DROP) {
            return Explanation.noMatch("[" + CLAUSE + "] calibrated relevance " + verdict, calibrated);
        }
        return Explanation.match(combined.getValue(), "[" + CLAUSE + "] calibrated relevance " + verdict, combined);
    }
}
