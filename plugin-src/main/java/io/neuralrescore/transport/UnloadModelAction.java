/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.transport;

import org.opensearch.action.ActionType;
import org.opensearch.action.FailedNodeException;
import org.opensearch.action.support.nodes.BaseNodeResponse;
import org.opensearch.action.support.nodes.BaseNodesRequest;
import org.opensearch.action.support.nodes.BaseNodesResponse;
import org.opensearch.cluster.ClusterName;
import org.opensearch.cluster.node.DiscoveryNode;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ToXContentFragment;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.transport.TransportRequest;

import java.io.IOException;
import java.util.List;

/**
 * Unloads a model on every node (or the nodes named): each node drops it from its cache and closes it once the
 * searches holding it finish; the next search that names it loads it again from its folder, so an operator who
 * replaced a model's files gets the new ones without a restart.
 */
public final class UnloadModelAction extends ActionType<UnloadModelAction.Response> {
    public static final String NAME = "cluster:admin/neural_rescore/models/unload";
    public static final UnloadModelAction INSTANCE = new UnloadModelAction();

    private UnloadModelAction() {
        super(NAME, Response::new);
    }

    /** The model id and the nodes to ask (all when none are named). */
    public static final class Request extends BaseNodesRequest<Request> {
        private final String modelId;

        public Request(String modelId, String... nodeIds) {
            super(nodeIds);
            this.modelId = modelId;
        }

        public Request(StreamInput in) throws IOException {
            super(in);
            this.modelId = in.readString();
        }

        public String modelId() {
            return modelId;
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeString(modelId);
        }
    }

    /** What one node is asked. */
    public static final class NodeRequest extends TransportRequest {
        private final String modelId;

        NodeRequest(String modelId) {
            this.modelId = modelId;
        }

        public NodeRequest(StreamInput in) throws IOException {
            super(in);
            this.modelId = in.readString();
        }

        public String modelId() {
            return modelId;
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeString(modelId);
        }
    }

    /** Whether the node had the model loaded (or loading) and dropped it. */
    public static final class NodeResponse extends BaseNodeResponse {
        private final boolean unloaded;

        public NodeResponse(DiscoveryNode node, boolean unloaded) {
            super(node);
            this.unloaded = unloaded;
        }

        public NodeResponse(StreamInput in) throws IOException {
            super(in);
            this.unloaded = in.readBoolean();
        }

        public boolean unloaded() {
            return unloaded;
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeBoolean(unloaded);
        }
    }

    /** {@code "nodes": {id: {"name": ..., "unloaded": bool}}}, after the standard {@code _nodes} header. */
    public static final class Response extends BaseNodesResponse<NodeResponse> implements ToXContentFragment {
        private final String modelId;

        public Response(ClusterName clusterName, String modelId, List<NodeResponse> nodes, List<FailedNodeException> failures) {
            super(clusterName, nodes, failures);
            this.modelId = modelId;
        }

        public Response(StreamInput in) throws IOException {
            super(in);
            this.modelId = in.readString();
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeString(modelId);
        }

        @Override
        protected List<NodeResponse> readNodesFrom(StreamInput in) throws IOException {
            return in.readList(NodeResponse::new);
        }

        @Override
        protected void writeNodesTo(StreamOutput out, List<NodeResponse> nodes) throws IOException {
            out.writeList(nodes);
        }

        public String modelId() {
            return modelId;
        }

        @Override
        public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
            builder.field("model", modelId);
            builder.startObject("nodes");
            for (NodeResponse node : getNodes()) {
                builder.startObject(node.getNode().getId());
                builder.field("name", node.getNode().getName());
                builder.field("unloaded", node.unloaded());
                builder.endObject();
            }
            builder.endObject();
            return builder;
        }
    }
}
