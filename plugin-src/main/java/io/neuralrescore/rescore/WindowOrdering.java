/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The order every rescorer of the plugin returns: hits the model scored, by score (ties by doc id); then demoted
 * hits, by score; then hits it could not score (no text, no vectors) and hits past the window, in first-pass
 * order. Every hit after the scored ones keeps its score unless that would outrank a hit before it, in which case
 * it is lowered to just below (the list must stay sorted for the coordinator's merge); then hits dropped by {@code min_score}, scored {@link #DROPPED}, which the
 * plugin's search filter removes from the response (a rescorer may not return an empty list).
 */
public final class WindowOrdering {
    /** Score of dropped hits; removed from responses by the plugin's search action filter. */
    public static final float DROPPED = Float.NEGATIVE_INFINITY;

    static final Comparator<ScoreDoc> BY_SCORE_THEN_DOC = (a, b) -> {
        int cmp = Float.compare(b.score, a.score);
        return cmp != 0 ? cmp : Integer.compare(a.doc, b.doc);
    };

    private final TopDocs in;
    private final int window;
    private final List<ScoreDoc> candidates;
    private final List<ScoreDoc> scored = new ArrayList<>();
    private final List<ScoreDoc> demoted = new ArrayList<>();
    private final List<ScoreDoc> unscored = new ArrayList<>();
    private final List<ScoreDoc> dropped = new ArrayList<>();

    /** Splits {@code in} into the window's candidates (hits not dropped by an earlier rescorer) and the rest. */
    public WindowOrdering(TopDocs in, int windowSize) {
        this.in = in;
        this.window = Math.min(windowSize, in.scoreDocs.length);
        this.candidates = new ArrayList<>(window);
        for (int i = 0; i < window; i++) {
            ScoreDoc sd = in.scoreDocs[i];
            (sd.score == DROPPED ? dropped : candidates).add(sd);
        }
    }

    /** Window hits to rescore, in first-pass order. */
    public List<ScoreDoc> candidates() {
        return candidates;
    }

    public void scored(ScoreDoc sd, float score) {
        sd.score = score + 0.0f; // -0.0 (from multiply) sorts like 0.0, so ties fall to doc id
        scored.add(sd);
    }

    /** A scored hit that must rank after every {@link #scored} hit (e.g. below a relevance threshold). */
    public void demoted(ScoreDoc sd, float score) {
        sd.score = score + 0.0f;
        demoted.add(sd);
    }

    public void unscored(ScoreDoc sd) {
        unscored.add(sd);
    }

    public void dropped(ScoreDoc sd) {
        sd.score = DROPPED;
        dropped.add(sd);
    }

    public int scoredCount() {
        return scored.size();
    }

    public int droppedCount() {
        return dropped.size();
    }

    /** The final list; call once every candidate has been classified. */
    public TopDocs result() {
        scored.sort(BY_SCORE_THEN_DOC);
        demoted.sort(BY_SCORE_THEN_DOC);
        List<ScoreDoc> tail = new ArrayList<>(demoted);
        tail.addAll(unscored);
        for (int i = window; i < in.scoreDocs.length; i++) {
            ScoreDoc sd = in.scoreDocs[i];
            (sd.score == DROPPED ? dropped : tail).add(sd);
        }
        float ceiling = scored.isEmpty() ? Float.POSITIVE_INFINITY : scored.get(scored.size() - 1).score;
        for (ScoreDoc sd : tail) {
            if (sd.score >= ceiling) {
                sd.score = Math.nextDown(ceiling);
            }
            ceiling = sd.score;
        }
        dropped.sort(Comparator.comparingInt(sd -> sd.doc));
        ScoreDoc[] out = new ScoreDoc[scored.size() + tail.size() + dropped.size()];
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
        return new TopDocs(in.totalHits, out);
    }
}
