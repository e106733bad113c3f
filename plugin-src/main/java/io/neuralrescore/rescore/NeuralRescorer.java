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
import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.stats.StatName;

/**
 * Rescores the window of a shard's hits with a model over their text. Stateless; one instance serves every
 * clause. The order of the result is {@link WindowOrdering}'s.
 */
public final class NeuralRescorer implements Rescorer {
    public static final NeuralRescorer INSTANCE = new NeuralRescorer();

    /** Score of hits dropped by {@code min_score}; see {@link WindowOrdering#DROPPED}. */
    public static final float DROPPED = WindowOrdering.DROPPED;

    private NeuralRescorer() {}

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        if (topDocs == null || topDocs.scoreDocs.length == 0) {
            return topDocs;
        }
        TextRescoreContext ctx = (TextRescoreContext) rescoreContext;
        TextRescoreContext.Options opt = ctx.options();
        WindowOrdering ordering = new WindowOrdering(topDocs, ctx.getWindowSize());
        List<ScoreDoc> candidates = ordering.candidates();
        Set<Integer> rescored = new HashSet<>();
        int[] docIds = new int[candidates.size()];
        for (int i = 0; i < docIds.length; i++) {
            docIds[i] = candidates.get(i).doc;
            rescored.add(docIds[i]);
        }
        ctx.setRescoredDocs(rescored);

        String[] texts = SourceTexts.load(searcher, docIds, opt.fields());
        List<String> present = new ArrayList<>(texts.length);
        for (String t : texts) {
            if (t != null) {
                present.add(t);
            }
        }
        float[] raw;
        try (InferenceCancellation.Scope scope = InferenceCancellation.enter(searcher)) {
            raw = present.isEmpty() ? new float[0] : ctx.scorer().score(present);
        }
        int next = 0;
        for (int i = 0; i < candidates.size(); i++) {
            ScoreDoc sd = candidates.get(i);
            if (texts[i] == null) {
                ordering.unscored(sd);
                continue;
            }
            float normalized = opt.normalize().apply(raw[next++]);
            if (Float.isNaN(normalized) || (opt.minScore() != null && normalized < opt.minScore())) {
                ordering.dropped(sd);
            } else {
                ordering.scored(sd, opt.scoreMode().combine(sd.score, opt.queryWeight(), normalized, opt.rescoreWeight()));
            }
        }
        ctx.stats().increment(StatName.RESCORE_REQUESTS);
        ctx.stats().add(StatName.RESCORED_DOCS, present.size());
        ctx.stats().add(StatName.UNSCORED_DOCS, texts.length - present.size());
        ctx.stats().add(StatName.MIN_SCORE_DROPPED, present.size() - ordering.scoredCount());
        return ordering.result();
    }

    @Override
    public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext, Explanation sourceExplanation)
        throws IOException {
        TextRescoreContext ctx = (TextRescoreContext) rescoreContext;
        TextRescoreContext.Options opt = ctx.options();
        if (sourceExplanation == null) {
            return Explanation.noMatch("nothing matched");
        }
        if (ctx.isRescored(topLevelDocId) == false) {
            return RescoreExplanations.notRescored(opt.clause(), "outside the rescore window", sourceExplanation);
        }
        String text = SourceTexts.load(searcher, new int[] { topLevelDocId }, opt.fields())[0];
        if (text == null) {
            return RescoreExplanations.notRescored(opt.clause(), "no text in fields " + opt.fields(), sourceExplanation);
        }
        float raw = ctx.scorer().score(List.of(text))[0];
        Explanation rawExpl = Explanation.match(raw, "raw score: " + ctx.scorer().describe());
        Explanation modelExpl = opt.normalize() == Normalization.NONE
            ? rawExpl
            : Explanation.match(
                opt.normalize().apply(raw),
                "normalized model score (" + opt.normalize().jsonName() + " of raw score)",
                rawExpl
            );
        return RescoreExplanations.combined(
            opt.clause(),
            opt.model(),
            opt.scoreMode(),
            opt.queryWeight(),
            opt.rescoreWeight(),
            opt.minScore(),
            sourceExplanation,
            modelExpl
        );
    }
}
