/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.transport;

import org.apache.lucene.search.TotalHits;
import org.opensearch.action.ActionRequest;
import org.opensearch.action.search.SearchAction;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.action.search.SearchResponseSections;
import org.opensearch.action.search.ShardSearchFailure;
import org.opensearch.action.support.ActionFilterChain;
import org.opensearch.core.action.ActionListener;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.search.SearchHit;
import org.opensearch.search.SearchHits;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.rescore.QueryRescorerBuilder;
import org.opensearch.test.OpenSearchTestCase;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import io.neuralrescore.rescore.CrossEncoderRescorerBuilder;
import io.neuralrescore.rescore.NeuralRescorer;
import io.neuralrescore.rescore.TextEmbeddingRescorerBuilder;

public class DroppedHitsActionFilterTests extends OpenSearchTestCase {

    private static SearchHit hit(int doc, float score) {
        SearchHit h = new SearchHit(doc, "id" + doc, Map.of(), Map.of());
        h.score(score);
        return h;
    }

    private static SearchResponse response(float maxScore, SearchHit... hits) {
        SearchHits searchHits = new SearchHits(hits, new TotalHits(42, TotalHits.Relation.GREATER_THAN_OR_EQUAL_TO), maxScore);
        SearchResponseSections sections = new SearchResponseSections(searchHits, null, null, true, Boolean.FALSE, null, 3, List.of(), List.of());
        boolean scroll = randomBoolean(); // a response has a scroll id or a point in time id, not both
        return new SearchResponse(
            sections,
            scroll ? "scroll-id" : null,
            5,
            4,
            1,
            123L,
            null,
            ShardSearchFailure.EMPTY_ARRAY,
            SearchResponse.Clusters.EMPTY,
            scroll ? null : "pit-id"
        );
    }

    private static List<String> ids(SearchResponse r) {
        List<String> out = new ArrayList<>();
        for (SearchHit h : r.getHits().getHits()) {
            out.add(h.getId());
        }
        return out;
    }

    public void testDroppedHitsRemovedAndMaxScoreRecomputed() {
        SearchResponse in = response(
            NeuralRescorer.DROPPED, // a stale max, as merging might leave it
            hit(1, 3f),
            hit(2, 1.5f),
            hit(3, NeuralRescorer.DROPPED),
            hit(4, -2f),
            hit(5, NeuralRescorer.DROPPED)
        );
        SearchResponse out = DroppedHitsActionFilter.withoutDropped(in);
        assertNotSame(in, out);
        assertEquals(List.of("id1", "id2", "id4"), ids(out));
        assertEquals(3f, out.getHits().getMaxScore(), 0f);
        // everything else is carried over
        assertEquals(in.getHits().getTotalHits(), out.getHits().getTotalHits());
        assertNotNull(in.getScrollId() != null ? in.getScrollId() : in.pointInTimeId());
        assertEquals(in.getScrollId(), out.getScrollId());
        assertEquals(in.pointInTimeId(), out.pointInTimeId());
        assertEquals(5, out.getTotalShards());
        assertEquals(4, out.getSuccessfulShards());
        assertEquals(1, out.getSkippedShards());
        assertEquals(123L, out.getTook().millis());
        assertTrue(out.isTimedOut());
        assertEquals(Boolean.FALSE, out.isTerminatedEarly());
        assertEquals(3, out.getNumReducePhases());
        assertSame(SearchResponse.Clusters.EMPTY, out.getClusters());
    }

    public void testMaxScoreOfNegativeScores() {
        SearchResponse out = DroppedHitsActionFilter.withoutDropped(
            response(-1f, hit(1, -1f), hit(2, -3f), hit(3, NeuralRescorer.DROPPED))
        );
        assertEquals(List.of("id1", "id2"), ids(out));
        assertEquals(-1f, out.getHits().getMaxScore(), 0f);
    }

    public void testAllDropped() {
        SearchResponse out = DroppedHitsActionFilter.withoutDropped(
            response(NeuralRescorer.DROPPED, hit(1, NeuralRescorer.DROPPED), hit(2, NeuralRescorer.DROPPED))
        );
        assertEquals(List.of(), ids(out));
        assertTrue("no hits, no max score", Float.isNaN(out.getHits().getMaxScore()));
    }

    public void testUnchangedResponseReturnedAsIs() {
        SearchResponse in = response(2f, hit(1, 2f), hit(2, 1f));
        assertSame(in, DroppedHitsActionFilter.withoutDropped(in));
        SearchResponse empty = response(Float.NaN);
        assertSame(empty, DroppedHitsActionFilter.withoutDropped(empty));
    }

    private static SearchRequest search(SearchSourceBuilder source) {
        return new SearchRequest("index").source(source);
    }

    public void testHasMinScore() {
        CrossEncoderRescorerBuilder withMin = new CrossEncoderRescorerBuilder("m", "q", List.of("f"), null).minScore(0.5f);
        CrossEncoderRescorerBuilder withoutMin = new CrossEncoderRescorerBuilder("m", "q", List.of("f"), null);
        TextEmbeddingRescorerBuilder embeddingWithMin = new TextEmbeddingRescorerBuilder("m", "q", List.of("f"), null).minScore(-1f);
        QueryRescorerBuilder core = new QueryRescorerBuilder(QueryBuilders.matchAllQuery());

        assertTrue(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder().addRescorer(withMin))));
        assertTrue(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder().addRescorer(embeddingWithMin))));
        assertTrue(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder().addRescorer(core).addRescorer(withMin))));
        assertFalse(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder().addRescorer(withoutMin))));
        assertFalse(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder().addRescorer(core))));
        assertFalse(DroppedHitsActionFilter.hasMinScore(search(new SearchSourceBuilder())));
        assertFalse(DroppedHitsActionFilter.hasMinScore(new SearchRequest("index")));
        assertFalse(DroppedHitsActionFilter.hasMinScore(new org.opensearch.action.get.GetRequest("index", "1")));
    }

    /** The filter acts on search responses of requests with min_score, and leaves everything else alone. */
    public void testApply() {
        DroppedHitsActionFilter filter = new DroppedHitsActionFilter();
        SearchResponse withDropped = response(1f, hit(1, 1f), hit(2, NeuralRescorer.DROPPED));
        SearchRequest minScoreRequest = search(
            new SearchSourceBuilder().addRescorer(new CrossEncoderRescorerBuilder("m", "q", List.of("f"), null).minScore(0f))
        );
        assertEquals(List.of("id1"), ids(run(filter, SearchAction.NAME, minScoreRequest, withDropped)));
        assertSame(withDropped, run(filter, SearchAction.NAME, search(new SearchSourceBuilder()), withDropped));
        assertSame(withDropped, run(filter, "indices:data/read/scroll", minScoreRequest, withDropped));
    }

    private static SearchResponse run(DroppedHitsActionFilter filter, String action, ActionRequest request, SearchResponse chainResponse) {
        AtomicReference<SearchResponse> got = new AtomicReference<>();
        ActionFilterChain<ActionRequest, SearchResponse> chain = (task, a, r, listener) -> listener.onResponse(chainResponse);
        filter.apply(null, action, request, null, ActionListener.wrap(got::set, e -> { throw new AssertionError(e); }), chain);
        assertNotNull("the listener was called", got.get());
        return got.get();
    }
}
