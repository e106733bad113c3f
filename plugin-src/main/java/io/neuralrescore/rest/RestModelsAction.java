/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rest;

import org.opensearch.core.rest.RestStatus;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestRequest;
import org.opensearch.transport.client.node.NodeClient;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.neuralrescore.model.ModelRegistry;

/**
 * {@code GET _plugins/neural_rescore/models}: the models the node that answers sees, where they live, whether they
 * are loaded and on which device. (The counters of every node: {@link RestStatsAction}.)
 */
public final class RestModelsAction extends BaseRestHandler {
    public static final String BASE = "/_plugins/neural_rescore";

    private final Supplier<ModelRegistry> registry;

    public RestModelsAction(Supplier<ModelRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public String getName() {
        return "neural_rescore_models";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(RestRequest.Method.GET, BASE + "/models"));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        String nodeName = client.getLocalNodeId();
        return channel -> {
            ModelRegistry models = registry.get();
            XContentBuilder b = channel.newBuilder();
            b.startObject();
            b.field("node", nodeName);
            b.startArray("roots");
            for (Path root : models.roots()) {
                b.value(root.toString());
            }
            b.endArray();
            b.startObject("models");
            for (Map.Entry<String, ModelRegistry.ModelInfo> e : models.list().entrySet()) {
                ModelRegistry.ModelInfo info = e.getValue();
                b.startObject(e.getKey());
                b.field("type", info.type());
                b.field("path", info.path());
                b.field("loaded", info.loaded());
                if (info.device() != null) {
                    b.field("device", info.device());
                }
                if (info.description() != null) {
                    b.field("description", info.description());
                }
                if (info.error() != null) {
                    b.field("error", info.error());
                }
                b.endObject();
            }
            b.endObject();
            b.endObject();
            channel.sendResponse(new BytesRestResponse(RestStatus.OK, b));
        };
    }
}
