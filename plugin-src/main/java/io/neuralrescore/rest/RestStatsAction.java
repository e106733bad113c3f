/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rest;

import org.opensearch.core.common.Strings;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.RestRequest;
import org.opensearch.rest.action.RestActions;
import org.opensearch.transport.client.node.NodeClient;

import java.util.List;

import io.neuralrescore.transport.NodeStatsAction;

/**
 * {@code GET _plugins/neural_rescore/stats[?nodes=...]}: the plugin's counters of every node (or the nodes named,
 * as in the nodes APIs), each node's under {@code nodes} and their sums under {@code stats}.
 */
public final class RestStatsAction extends BaseRestHandler {

    @Override
    public String getName() {
        return "neural_rescore_stats";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(RestRequest.Method.GET, RestModelsAction.BASE + "/stats"));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        NodeStatsAction.Request stats = new NodeStatsAction.Request(Strings.splitStringByCommaToArray(request.param("nodes", "")));
        return channel -> client.execute(NodeStatsAction.INSTANCE, stats, new RestActions.NodesResponseRestListener<>(channel));
    }
}
