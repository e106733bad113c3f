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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plugin's counters of every node (or the nodes named): per node, and summed over the nodes that answered
 * under {@code stats}, so a one-node cluster reads as before.
 */
public final class NodeStatsAction extends ActionType<NodeStatsAction.Response> {
    public static final String NAME = "cluster:monitor/neural_rescore/stats";
    public static final NodeStatsAction INSTANCE = new NodeStatsAction();

    private NodeStatsAction() {
        super(NAME, Response::new);
    }

    /** The nodes to ask (all when none are named). */
    public static final class Request extends BaseNodesRequest<Request> {
        public Request(String... nodeIds) {
            super(nodeIds);
        }

        public Request(StreamInput in) throws IOException {
            super(in);
        }
    }

    /** What one node is asked: nothing but to answer. */
    public static final class NodeRequest extends TransportRequest {
        NodeRequest() {}

        public NodeRequest(StreamInput in) throws IOException {
            super(in);
        }
    }

    /** One node's counters, by their stable snake_case keys. */
    public static final class NodeResponse extends BaseNodeResponse {
        private final Map<String, Long> stats;

        public NodeResponse(DiscoveryNode node, Map<String, Long> stats) {
            super(node);
            this.stats = stats;
        }

        public NodeResponse(StreamInput in) throws IOException {
            super(in);
            this.stats = in.readOrderedMap(StreamInput::readString, StreamInput::readVLong);
        }

        public Map<String, Long> stats() {
            return stats;
        }

        @Override
        public void writeTo(StreamOutput out) throws IOException {
            super.writeTo(out);
            out.writeMap(stats, StreamOutput::writeString, StreamOutput::writeVLong);
        }
    }

    /** {@code "stats": {sums}, "nodes": {id: {"name": ..., "stats": {...}}}}, after the standard {@code _nodes} header. */
    public static final class Response extends BaseNodesResponse<NodeResponse> implements ToXContentFragment {
        public Response(ClusterName clusterName, List<NodeResponse> nodes, List<FailedNodeException> failures) {
            super(clusterName, nodes, failures);
        }

        public Response(StreamInput in) throws IOException {
            super(in);
        }

        @Override
        protected List<NodeResponse> readNodesFrom(StreamInput in) throws IOException {
            return in.readList(NodeResponse::new);
        }

        @Override
        protected void writeNodesTo(StreamOutput out, List<NodeResponse> nodes) throws IOException {
            out.writeList(nodes);
        }

        /** Each counter summed over the nodes that answered (keys in the nodes' order). */
        public Map<String, Long> totals() {
            Map<String, Long> out = new LinkedHashMap<>();
            for (NodeResponse node : getNodes()) {
                node.stats().forEach((k, v) -> out.merge(k, v, Long::sum));
            }
            return out;
        }

        @Override
        public XContentBuilder toXContent(XContentBuilder builder, Params params) throws IOException {
            builder.field("stats", totals());
            builder.startObject("nodes");
            for (NodeResponse node : getNodes()) {
                builder.startObject(node.getNode().getId());
                builder.field("name", node.getNode().getName());
                builder.field("stats", node.stats());
                builder.endObject();
            }
            builder.endObject();
            return builder;
        }
    }
}
