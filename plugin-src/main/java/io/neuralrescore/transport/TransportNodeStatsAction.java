/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.transport;

import org.opensearch.action.FailedNodeException;
import org.opensearch.action.support.ActionFilters;
import org.opensearch.action.support.nodes.TransportNodesAction;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.inject.Inject;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.TransportService;

import java.io.IOException;
import java.util.List;

import io.neuralrescore.model.ModelRegistry;

/** Answers {@link NodeStatsAction} on each node from that node's counters. */
public final class TransportNodeStatsAction extends TransportNodesAction<
    NodeStatsAction.Request,
    NodeStatsAction.Response,
    NodeStatsAction.NodeRequest,
    NodeStatsAction.NodeResponse> {

    private final ModelRegistry registry;

    @Inject
    public TransportNodeStatsAction(
        ThreadPool threadPool,
        ClusterService clusterService,
        TransportService transportService,
        ActionFilters actionFilters,
        ModelRegistry registry
    ) {
        super(
            NodeStatsAction.NAME,
            threadPool,
            clusterService,
            transportService,
            actionFilters,
            NodeStatsAction.Request::new,
            NodeStatsAction.NodeRequest::new,
            ThreadPool.Names.MANAGEMENT,
            NodeStatsAction.NodeResponse.class
        );
        this.registry = registry;
    }

    @Override
    protected NodeStatsAction.Response newResponse(
        NodeStatsAction.Request request,
        List<NodeStatsAction.NodeResponse> responses,
        List<FailedNodeException> failures
    ) {
        return new NodeStatsAction.Response(clusterService.getClusterName(), responses, failures);
    }

    @Override
    protected NodeStatsAction.NodeRequest newNodeRequest(NodeStatsAction.Request request) {
        return new NodeStatsAction.NodeRequest();
    }

    @Override
    protected NodeStatsAction.NodeResponse newNodeResponse(StreamInput in) throws IOException {
        return new NodeStatsAction.NodeResponse(in);
    }

    @Override
    protected NodeStatsAction.NodeResponse nodeOperation(NodeStatsAction.NodeRequest request) {
        return new NodeStatsAction.NodeResponse(clusterService.localNode(), registry.stats().snapshot());
    }
}
