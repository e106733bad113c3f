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
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.scoring.ScoreMode;
import io.neuralrescore.stats.StatName;

/**
 * Rescores the window of a shard's hits with a model over their text. Stateless; one instance serves every clause.
 * <p>
 * Order of the result: hits the model scored, by combined score (ties by doc id); then hits in the window without
 * text and hits past the window, in first-pass order, each keeping its first-pass score unless that would outrank
 * a hit before it, in which case it is lowered to just below (so the list stays sorted, as the coordinator's
 * merge requires); then hits dropped by {@code min_score}, scored negative infinity, which the plugin's search
 * filter removes from the response (a rescorer may not return an empty list).
 */
public final class NeuralRescorer implements Rescorer {
    public static final NeuralRescorer INSTANCE = new NeuralRescorer();

    /** Score of hits dropped by {@code min_score}; removed from responses by the plugin's search action filter. */
    public static final float DROPPED = Float.NEGATIVE_INFINITY;

    static final Comparator<ScoreDoc> BY_SCORE_THEN_DOC = (a, b) -> {
        int cmp = Float.compare(b.score, a.score);
        return cmp != 0 ? cmp : Integer.compare(a.doc, b.doc);
    };

    private NeuralRescorer() {}

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        if (topDocs == null || topDocs.scoreDocs.length == 0) {
            return topDocs;
        }
        TextRescoreContext ctx = (TextRescoreContext) rescoreContext;
        TextRescoreContext.Options opt = ctx.options();
        ScoreDoc[] in = topDocs.scoreDocs;
        int window = Math.min(ctx.getWindowSize(), in.length);

        List<ScoreDoc> candidates = new ArrayList<>(window);
        List<ScoreDoc> dropped = new ArrayList<>();
        for (int i = 0; i < window; i++) {
            // a hit an earlier rescorer dropped stays dropped
            (in[i].score == DROPPED ? dropped : candidates).add(in[i]);
        }
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
        float[] raw = present.isEmpty() ? new float[0] : ctx.scorer().score(present);
        ctx.stats().increment(StatName.RESCORE_REQUESTS);
        ctx.stats().add(StatName.RESCORED_DOCS, present.size());
        ctx.stats().add(StatName.DOCS_WITHOUT_TEXT, texts.length - present.size());

        List<ScoreDoc> scored = new ArrayList<>(present.size());
        List<ScoreDoc> tail = new ArrayList<>(in.length - scored.size());
        int next = 0;
        for (int i = 0; i < candidates.size(); i++) {
            ScoreDoc sd = candidates.get(i);
            if (texts[i] == null) {
                tail.add(sd);
                continue;
            }
            float normalized = opt.normalize().apply(raw[next++]);
            if (Float.isNaN(normalized) || (opt.minScore() != null && normalized < opt.minScore())) {
                sd.score = DROPPED;
                dropped.add(sd);
            } else {
                sd.score = opt.scoreMode().combine(sd.score, opt.queryWeight(), normalized, opt.rescoreWeight());
                scored.add(sd);
            }
        }
        ctx.stats().add(StatName.MIN_SCORE_DROPPED, present.size() - scored.size());
        scored.sort(BY_SCORE_THEN_DOC);
        for (int i = window; i < in.length; i++) {
            (in[i].score == DROPPED ? dropped : tail).add(in[i]);
        }
        float ceiling = scored.isEmpty() ? Float.POSITIVE_INFINITY : scored.get(scored.size() - 1).score;
        for (ScoreDoc sd : tail) {
            if (sd.score >= ceiling) {
                sd.score = Math.nextDown(ceiling);
            }
            ceiling = sd.score;
        }
        dropped.sort(Comparator.comparingInt(sd -> sd.doc));

        ScoreDoc[] out = new ScoreDoc[in.length];
        int k = 0;
        for (ScoreDoc sd : scored) {
            out[k++] = sd;
        }
        for (ScoreDoc sd : tail) {
            out[k++] = sd;
        }
        for (ScoreDoc sd : dropped) {
            out[k++] = sd;
        }
        return new TopDocs(topDocs.totalHits, out);
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
            return Explanation.match(
                sourceExplanation.getValue(),
                "[" + opt.clause() + "] did not rescore this hit: outside the rescore window; first-pass score kept",
                sourceExplanation
            );
        }
        String text = SourceTexts.load(searcher, new int[] { topLevelDocId }, opt.fields())[0];
        if (text == null) {
            return Explanation.match(
                sourceExplanation.getValue(),
                "[" + opt.clause() + "] did not rescore this hit: no text in fields " + opt.fields() + "; first-pass score kept",
                sourceExplanation
            );
        }
        float raw = ctx.scorer().score(List.of(text))[0];
        float normalized = opt.normalize().apply(raw);
        Explanation rawExpl = Explanation.match(raw, "raw score: " + ctx.scorer().describe());
        Explanation modelExpl = opt.normalize() == Normalization.NONE
            ? rawExpl
            : Explanation.match(normalized, "normalized model score (" + opt.normalize().jsonName() + " of raw score)", rawExpl);
        if (opt.minScore() != null && normalized < opt.minScore()) {
            return Explanation.noMatch(
                "[" + opt.clause() + "] dropped this hit: model score [" + normalized + "] is below min_score [" + opt.minScore() + "]",
                modelExpl
            );
        }
        float first = sourceExplanation.getValue().floatValue();
        Explanation weightedModel = Explanation.match(
            normalized * opt.rescoreWeight(),
            "product of:",
            modelExpl,
            Explanation.match(opt.rescoreWeight(), "rescore_weight")
        );
        Explanation weightedFirst = Explanation.match(
            first * opt.queryWeight(),
            "product of:",
            sourceExplanation,
            Explanation.match(opt.queryWeight(), "query_weight")
        );
        float combined = opt.scoreMode().combine(first, opt.queryWeight(), normalized, opt.rescoreWeight());
        if (opt.scoreMode() == ScoreMode.REPLACE) {
            return Explanation.match(
                combined,
                "[" + opt.clause() + "] model [" + opt.model() + "], score_mode [replace]: weighted model score replaces the first-pass score",
                weightedModel
            );
        }
        return Explanation.match(
            combined,
            "[" + opt.clause() + "] model [" + opt.model() + "], score_mode [" + opt.scoreMode().jsonName() + "] of:",
            weightedFirst,
            weightedModel
        );
    }
}
