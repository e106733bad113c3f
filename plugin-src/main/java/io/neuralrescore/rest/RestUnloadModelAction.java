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

import io.neuralrescore.model.ModelIds;
import io.neuralrescore.transport.UnloadModelAction;

/**
 * {@code POST _plugins/neural_rescore/models/{model_id}/_unload[?nodes=...]}: unloads the model on every node (or
 * the nodes named, as in the nodes APIs); its next use loads it again from its folder. The answer lists, per node,
 * whether it had the model loaded. A malformed id is a 400 before any node is asked.
 */
public final class RestUnloadModelAction extends BaseRestHandler {

    @Override
    public String getName() {
        return "neural_rescore_unload_model";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(RestRequest.Method.POST, RestModelsAction.BASE + "/models/{model_id}/_unload"));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        String modelId = request.param("model_id");
        ModelIds.validate(modelId);
        String[] nodes = Strings.splitStringByCommaToArray(request.param("nodes", ""));
        UnloadModelAction.Request unload = new UnloadModelAction.Request(modelId, nodes);
        return channel -> client.execute(UnloadModelAction.INSTANCE, unload, new RestActions.NodesResponseRestListener<>(channel));
    }
}
