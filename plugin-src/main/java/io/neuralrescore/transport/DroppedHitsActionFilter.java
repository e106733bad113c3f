/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.transport;

import org.opensearch.action.search.SearchAction;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.action.search.SearchResponseSections;
import org.opensearch.action.support.ActionFilter;
import org.opensearch.action.support.ActionFilterChain;
import org.opensearch.action.support.ActionRequestMetadata;
import org.opensearch.core.action.ActionListener;
import org.opensearch.core.action.ActionResponse;
import org.opensearch.search.SearchHit;
import org.opensearch.search.SearchHits;
import org.opensearch.search.profile.SearchProfileShardResults;
import org.opensearch.search.rescore.RescorerBuilder;
import org.opensearch.tasks.Task;
import org.opensearch.action.ActionRequest;

import java.util.ArrayList;
import java.util.List;

import io.neuralrescore.rescore.NeuralRescorer;
import io.neuralrescore.rescore.ModelRescorerBuilder;

/**
 * Removes hits that a rescore clause's {@code min_score} dropped. A rescorer must return at least one hit and keep
 * hits sorted, so dropped hits travel to the coordinator last, scored negative infinity, and leave here.
 * {@code hits.total} still counts them (use the {@code relevance_filter} query where totals must be exact).
 */
public final class DroppedHitsActionFilter implements ActionFilter {
    @Override
    public int order() {
        return Integer.MAX_VALUE; // innermost: sees the response first, after other filters have acted on the request
    }

    @Override
    @SuppressWarnings("unchecked")
    public <Request extends ActionRequest, Response extends ActionResponse> void apply(
        Task task,
        String action,
        Request request,
        ActionRequestMetadata<Request, Response> actionRequestMetadata,
        ActionListener<Response> listener,
        ActionFilterChain<Request, Response> chain
    ) {
        if (SearchAction.NAME.equals(action) == false || hasMinScore(request) == false) {
            chain.proceed(task, action, request, listener);
            return;
        }
        chain.proceed(task, action, request, ActionListener.wrap(response -> {
            listener.onResponse((Response) withoutDropped((SearchResponse) response));
        }, listener::onFailure));
    }

    static boolean hasMinScore(ActionRequest request) {
        if (request instanceof SearchRequest == false) {
            return false;
        }
        SearchRequest search = (SearchRequest) request;
        if (search.source() == null || search.source().rescores() == null) {
            return false;
        }
        for (RescorerBuilder<?> rescorer : search.source().rescores()) {
            if (rescorer instanceof ModelRescorerBuilder<?> clause && clause.dropsHits()) {
                return true;
            }
        }
        return false;
    }

    static SearchResponse withoutDropped(SearchResponse response) {
        SearchHits hits = response.getHits();
        List<SearchHit> kept = new ArrayList<>(hits.getHits().length);
        float max = Float.NaN;
        for (SearchHit hit : hits.getHits()) {
            if (hit.getScore() == NeuralRescorer.DROPPED) {
                continue;
            }
            kept.add(hit);
            max = Float.isNaN(max) ? hit.getScore() : Math.max(max, hit.getScore());
        }
        if (kept.size() == hits.getHits().length) {
            return response;
        }
        SearchHits filtered = new SearchHits(
            kept.toArray(new SearchHit[0]),
            hits.getTotalHits(),
            max,
            hits.getSortFields(),
            hits.getCollapseField(),
            hits.getCollapseValues()
        );
        SearchResponseSections in = response.getInternalResponse();
        SearchResponseSections sections = new SearchResponseSections(
            filtered,
            in.aggregations(),
            in.suggest(),
            in.timedOut(),
            in.terminatedEarly(),
            in.profile() == null || in.profile().isEmpty() ? null : new SearchProfileShardResults(in.profile()),
            in.getNumReducePhases(),
            in.getSearchExtBuilders(),
            in.getProcessorResult()
        );
        return new SearchResponse(
            sections,
            response.getScrollId(),
            response.getTotalShards(),
            response.getSuccessfulShards(),
            response.getSkippedShards(),
            response.getTook().millis(),
            response.getPhaseTook(),
            response.getShardFailures(),
            response.getClusters(),
            response.pointInTimeId()
        );
    }
}
