/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.XContentParser;

import java.io.IOException;
import java.util.List;

/** The {@code cross_encoder} clause: wire, XContent and error messages (shared in the base class). */
public class CrossEncoderRescorerBuilderTests extends TextModelRescorerBuilderTestCase<CrossEncoderRescorerBuilder> {

    @Override
    protected String clause() {
        return CrossEncoderRescorerBuilder.NAME;
    }

    @Override
    protected CrossEncoderRescorerBuilder newBuilder(String model, String queryText, List<String> fields) {
        return new CrossEncoderRescorerBuilder(model, queryText, fields, null);
    }

    @Override
    protected CrossEncoderRescorerBuilder read(StreamInput in) throws IOException {
        return new CrossEncoderRescorerBuilder(in, null);
    }

    @Override
    protected CrossEncoderRescorerBuilder fromXContent(XContentParser parser) {
        return CrossEncoderRescorerBuilder.fromXContent(parser, null);
    }
}
