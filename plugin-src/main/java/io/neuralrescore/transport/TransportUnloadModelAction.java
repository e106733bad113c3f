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

/** Runs {@link UnloadModelAction} on each node against that node's {@link ModelRegistry}. */
public final class TransportUnloadModelAction extends TransportNodesAction<
    UnloadModelAction.Request,
    UnloadModelAction.Response,
    UnloadModelAction.NodeRequest,
    UnloadModelAction.NodeResponse> {

    private final ModelRegistry registry;

    @Inject
    public TransportUnloadModelAction(
        ThreadPool threadPool,
        ClusterService clusterService,
        TransportService transportService,
        ActionFilters actionFilters,
        ModelRegistry registry
    ) {
        super(
            UnloadModelAction.NAME,
            threadPool,
            clusterService,
            transportService,
            actionFilters,
            UnloadModelAction.Request::new,
            UnloadModelAction.NodeRequest::new,
            ThreadPool.Names.MANAGEMENT,
            UnloadModelAction.NodeResponse.class
        );
        this.registry = registry;
    }

    @Override
    protected UnloadModelAction.Response newResponse(
        UnloadModelAction.Request request,
        List<UnloadModelAction.NodeResponse> responses,
        List<FailedNodeException> failures
    ) {
        return new UnloadModelAction.Response(clusterService.getClusterName(), request.modelId(), responses, failures);
    }

    @Override
    protected UnloadModelAction.NodeRequest newNodeRequest(UnloadModelAction.Request request) {
        return new UnloadModelAction.NodeRequest(request.modelId());
    }

    @Override
    protected UnloadModelAction.NodeResponse newNodeResponse(StreamInput in) throws IOException {
        return new UnloadModelAction.NodeResponse(in);
    }

    @Override
    protected UnloadModelAction.NodeResponse nodeOperation(UnloadModelAction.NodeRequest request) {
        return new UnloadModelAction.NodeResponse(clusterService.localNode(), registry.unload(request.modelId()));
    }
}
