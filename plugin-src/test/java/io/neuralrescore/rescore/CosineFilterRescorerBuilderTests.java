/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.ParseField;
import org.opensearch.core.common.Strings;
import org.opensearch.core.common.io.stream.NamedWriteableAwareStreamInput;
import org.opensearch.core.common.io.stream.NamedWriteableRegistry;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.Writeable;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.core.xcontent.ToXContent;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.search.rescore.RescorerBuilder;
import org.opensearch.test.AbstractWireSerializingTestCase;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.rescore.CosineFilterRescorerBuilder.Action;
import io.neuralrescore.scoring.ScoreMode;

/**
 * The {@code cosine_filter} clause three ways: wire round trip (inherited {@code testSerialization} and
 * {@code testEqualsAndHashcode}, plus the named-writeable path of a search request), shuffled-XContent round trip,
 * and the exact message of every bad input.
 */
public class CosineFilterRescorerBuilderTests extends AbstractWireSerializingTestCase<CosineFilterRescorerBuilder> {
    private static final String C = "[cosine_filter] ";

    /** The clause's state, as tests build it (the builder exposes only part of it). */
    private record Spec(
        String model,
        String adapter,
        String queryText,
        float[] queryVector,
        String field,
        float threshold,
        Action action,
        Integer windowSize,
        ScoreMode scoreMode,
        float queryWeight,
        float rescoreWeight
    ) {
        CosineFilterRescorerBuilder build() {
            CosineFilterRescorerBuilder b = new CosineFilterRescorerBuilder(model, adapter, queryText, queryVector, field, threshold, null);
            b.action(action).scoreMode(scoreMode).queryWeight(queryWeight).rescoreWeight(rescoreWeight);
            if (windowSize != null) {
                b.windowSize(windowSize);
            }
            return b;
        }
    }

    private static Spec minimal(String model, String adapter, String queryText, float[] queryVector, String field, float threshold) {
        return new Spec(model, adapter, queryText, queryVector, field, threshold, Action.DROP, null, ScoreMode.REPLACE, 1f, 1f);
    }

    private static float[] randomQueryVector() {
        float[] v = new float[between(1, 40)];
        for (int i = 0; i < v.length; i++) {
            v[i] = randomFrom(0f, 1f, -1f, randomFloat() * 2 - 1, Float.MIN_VALUE, 1e30f);
        }
        return v;
    }

    private static float randomWeight() {
        return randomFrom(0f, 1f, -1f, randomFloat() * 10, -randomFloat(), Float.MAX_VALUE);
    }

    private static float randomThreshold() {
        return randomFrom(0f, 1f, 0.5f, randomFloat(), Math.nextDown(1f), Float.MIN_VALUE);
    }

    private static Spec randomSpec() {
        boolean text = randomBoolean();
        String model = text || randomBoolean() ? randomAlphaOfLengthBetween(1, 12) + randomFrom("", "-v2", "_q") : null;
        return new Spec(
            model,
            randomAlphaOfLengthBetween(1, 12) + randomFrom("", "-adapter", ".v1"),
            text ? randomAlphaOfLengthBetween(1, 10) + randomFrom("", " what is it?", " « ünïcode »", "\n\tline two") : null,
            text ? null : randomQueryVector(),
            randomAlphaOfLengthBetween(1, 8) + (rarely() ? "." + randomAlphaOfLengthBetween(1, 8) : ""),
            randomThreshold(),
            randomFrom(Action.values()),
            randomBoolean() ? randomIntBetween(1, 10_000) : null,
            randomFrom(ScoreMode.values()),
            randomBoolean() ? 1f : randomWeight(),
            randomBoolean() ? 1f : randomWeight()
        );
    }

    @Override
    protected CosineFilterRescorerBuilder createTestInstance() {
        return randomSpec().build();
    }

    /** The spec of a builder, read back from its XContent (test builders never hold both query text and vector). */
    private Spec spec(CosineFilterRescorerBuilder b) {
        Map<String, Object> json = jsonMap(b);
        @SuppressWarnings("unchecked")
        Map<String, Object> clause = (Map<String, Object>) json.get("cosine_filter");
        float[] vector = null;
        if (clause.get("query_vector") instanceof List<?> list) {
            vector = new float[list.size()];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = ((Number) list.get(i)).floatValue();
            }
        }
        return new Spec(
            b.model(),
            (String) clause.get("adapter"),
            (String) clause.get("query_text"),
            vector,
            (String) clause.get("field"),
            b.threshold(),
            b.action(),
            b.windowSize(),
            b.scoreMode(),
            b.queryWeight(),
            b.rescoreWeight()
        );
    }

    /** A copy that differs from {@code instance} in exactly one option. */
    @Override
    protected CosineFilterRescorerBuilder mutateInstance(CosineFilterRescorerBuilder instance) {
        Spec s = spec(instance);
        Spec m = switch (between(0, 9)) {
            case 0 -> new Spec(s.model == null ? "m" : s.model + "x", s.adapter, s.queryText, s.queryVector, s.field, s.threshold, s.action,
                s.windowSize, s.scoreMode, s.queryWeight, s.rescoreWeight);
            case 1 -> new Spec(s.model, s.adapter + "x", s.queryText, s.queryVector, s.field, s.threshold, s.action, s.windowSize,
                s.scoreMode, s.queryWeight, s.rescoreWeight);
            case 2 -> s.queryText != null
                ? new Spec(s.model, s.adapter, null, new float[] { 1f }, s.field, s.threshold, s.action, s.windowSize, s.scoreMode,
                    s.queryWeight, s.rescoreWeight)
                : new Spec(s.model, s.adapter, null, randomValueOtherThanMany(v -> java.util.Arrays.equals(v, s.queryVector),
                    CosineFilterRescorerBuilderTests::randomQueryVector), s.field, s.threshold, s.action, s.windowSize, s.scoreMode,
                    s.queryWeight, s.rescoreWeight);
            case 3 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field + "x", s.threshold, s.action, s.windowSize,
                s.scoreMode, s.queryWeight, s.rescoreWeight);
            case 4 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field,
                randomValueOtherThan(s.threshold, CosineFilterRescorerBuilderTests::randomThreshold), s.action, s.windowSize, s.scoreMode,
                s.queryWeight, s.rescoreWeight);
            case 5 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field, s.threshold,
                s.action == Action.DROP ? Action.DEMOTE : Action.DROP, s.windowSize, s.scoreMode, s.queryWeight, s.rescoreWeight);
            case 6 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field, s.threshold, s.action,
                s.windowSize == null ? 7 : s.windowSize + 1, s.scoreMode, s.queryWeight, s.rescoreWeight);
            case 7 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field, s.threshold, s.action, s.windowSize,
                randomValueOtherThan(s.scoreMode, () -> randomFrom(ScoreMode.values())), s.queryWeight, s.rescoreWeight);
            case 8 -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field, s.threshold, s.action, s.windowSize,
                s.scoreMode, randomValueOtherThan(s.queryWeight, CosineFilterRescorerBuilderTests::randomWeight), s.rescoreWeight);
            default -> new Spec(s.model, s.adapter, s.queryText, s.queryVector, s.field, s.threshold, s.action, s.windowSize,
                s.scoreMode, s.queryWeight, randomValueOtherThan(s.rescoreWeight, CosineFilterRescorerBuilderTests::randomWeight));
        };
        return m.build();
    }

    @Override
    protected Writeable.Reader<CosineFilterRescorerBuilder> instanceReader() {
        return in -> new CosineFilterRescorerBuilder(in, null);
    }

    @Override
    protected NamedWriteableRegistry getNamedWriteableRegistry() {
        return new NamedWriteableRegistry(
            List.of(new NamedWriteableRegistry.Entry(RescorerBuilder.class, CosineFilterRescorerBuilder.NAME, in -> new CosineFilterRescorerBuilder(in, null)))
        );
    }

    @Override
    protected NamedXContentRegistry xContentRegistry() {
        return new NamedXContentRegistry(
            List.of(
                new NamedXContentRegistry.Entry(
                    RescorerBuilder.class,
                    new ParseField(CosineFilterRescorerBuilder.NAME),
                    (p, c) -> CosineFilterRescorerBuilder.fromXContent(p, null)
                )
            )
        );
    }

    // ---- wire --------------------------------------------------------------------------------------------------

    public void testNamedWriteableRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            CosineFilterRescorerBuilder original = createTestInstance();
            try (BytesStreamOutput out = new BytesStreamOutput()) {
                out.writeNamedWriteable(original);
                try (StreamInput in = new NamedWriteableAwareStreamInput(out.bytes().streamInput(), getNamedWriteableRegistry())) {
                    RescorerBuilder<?> copy = in.readNamedWriteable(RescorerBuilder.class);
                    assertNotSame(original, copy);
                    assertEquals(original, copy);
                    assertEquals(original.hashCode(), copy.hashCode());
                    assertEquals("stream fully consumed", 0, in.available());
                }
            }
        }
    }

    public void testDefaultsSurviveTheWire() throws IOException {
        CosineFilterRescorerBuilder copy = copyInstance(minimal("m", "a", "q", null, "f", 0.5f).build());
        assertNull(copy.windowSize());
        assertNull(copy.minScore());
        assertEquals(Action.DROP, copy.action());
        assertTrue("drop removes hits from the response", copy.dropsHits());
        assertEquals(ScoreMode.REPLACE, copy.scoreMode());
        assertEquals(1f, copy.queryWeight(), 0f);
        assertEquals(1f, copy.rescoreWeight(), 0f);
        assertEquals(0.5f, copy.threshold(), 0f);
        assertEquals("cosine_filter", copy.getWriteableName());
        assertFalse(copyInstance(minimal("m", "a", "q", null, "f", 0.5f).build().action(Action.DEMOTE)).dropsHits());
    }

    // ---- XContent ----------------------------------------------------------------------------------------------

    private Map<String, Object> jsonMap(CosineFilterRescorerBuilder b) {
        return XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
    }

    public void testShuffledXContentRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            CosineFilterRescorerBuilder original = createTestInstance();
            XContentType type = randomFrom(XContentType.values());
            XContentBuilder builder = XContentBuilder.builder(type.xContent());
            if (randomBoolean()) {
                builder.prettyPrint();
            }
            original.toXContent(builder, ToXContent.EMPTY_PARAMS);
            XContentBuilder shuffled = shuffleXContent(builder);
            RescorerBuilder<?> parsed;
            try (XContentParser parser = createParser(shuffled)) {
                assertEquals(XContentParser.Token.START_OBJECT, parser.nextToken());
                parsed = RescorerBuilder.parseFromXContent(parser);
                assertNull("nothing left after the clause", parser.nextToken());
            }
            assertNotSame(original, parsed);
            assertEquals(original, parsed);
            assertEquals(original.hashCode(), parsed.hashCode());
        }
    }

    public void testXContentOfDefaults() {
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("model", "all-minilm-l6-v2");
        clause.put("adapter", "test-adapter");
        clause.put("query_text", "what is up");
        clause.put("field", "emb");
        clause.put("threshold", 0.5);
        clause.put("action", "drop");
        clause.put("score_mode", "replace");
        clause.put("query_weight", 1.0);
        clause.put("rescore_weight", 1.0);
        assertEquals(Map.of("cosine_filter", clause), jsonMap(minimal("all-minilm-l6-v2", "test-adapter", "what is up", null, "emb", 0.5f).build()));
    }

    public void testXContentOfAllOptions() {
        CosineFilterRescorerBuilder b = new Spec(null, "a", null, new float[] { 0.5f, -1f }, "emb", 0.25f, Action.DEMOTE, 50,
            ScoreMode.TOTAL, 0.5f, 2f).build();
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("adapter", "a");
        clause.put("query_vector", List.of(0.5, -1.0));
        clause.put("field", "emb");
        clause.put("threshold", 0.25);
        clause.put("action", "demote");
        clause.put("score_mode", "total");
        clause.put("query_weight", 0.5);
        clause.put("rescore_weight", 2.0);
        assertEquals(Map.of("window_size", 50, "cosine_filter", clause), jsonMap(b));
    }

    public void testParsesEveryOption() throws IOException {
        RescorerBuilder<?> parsed = parseJson(
            "{\"window_size\": 20, \"cosine_filter\": {\"model\": \"m\", \"adapter\": \"a\", \"query_vector\": [1, 0.5, -2],"
                + " \"field\": \"emb\", \"threshold\": 0.75, \"action\": \"demote\", \"score_mode\": \"multiply\","
                + " \"query_weight\": 0.5, \"rescore_weight\": 3}}"
        );
        assertEquals(
            new Spec("m", "a", null, new float[] { 1f, 0.5f, -2f }, "emb", 0.75f, Action.DEMOTE, 20, ScoreMode.MULTIPLY, 0.5f, 3f).build(),
            parsed
        );
    }

    /** The action may come before the required fields (the parser then applies it after construction). */
    public void testActionBeforeRequiredFields() throws IOException {
        RescorerBuilder<?> parsed = parseJson(
            request("{\"action\": \"demote\", \"adapter\": \"a\", \"query_vector\": [1], \"field\": \"f\", \"threshold\": 0}")
        );
        assertEquals(Action.DEMOTE, ((CosineFilterRescorerBuilder) parsed).action());
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private RescorerBuilder<?> parseJson(String json) throws IOException {
        try (XContentParser parser = createParser(XContentType.JSON.xContent(), json)) {
            assertEquals(XContentParser.Token.START_OBJECT, parser.nextToken());
            return RescorerBuilder.parseFromXContent(parser);
        }
    }

    private static String request(String body) {
        return "{\"cosine_filter\": " + body + "}";
    }

    private String parseError(String body) {
        return expectThrows(Exception.class, () -> parseJson(request(body))).getMessage();
    }

    private static final String VALID = "\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"f\", \"threshold\": 0.5";

    private static String withExtra(String extra) {
        return "{" + VALID + ", " + extra + "}";
    }

    private static String at(String body, String token) {
        String json = request(body);
        int index = json.indexOf(token);
        assertTrue(token + " in " + json, index >= 0);
        return "[1:" + (index + 1) + "] ";
    }

    public void testValidMinimalClauseParses() throws IOException {
        assertEquals(minimal("m", "a", "q", null, "f", 0.5f).build(), parseJson(request("{" + VALID + "}")));
        // query_vector needs no model
        assertEquals(
            minimal(null, "a", null, new float[] { 1f, 2f }, "f", 0f).build(),
            parseJson(request("{\"adapter\": \"a\", \"query_vector\": [1, 2], \"field\": \"f\", \"threshold\": 0}"))
        );
    }

    public void testMissingRequiredFields() {
        assertEquals("Required [adapter]", parseError("{\"model\": \"m\", \"query_text\": \"q\", \"field\": \"f\", \"threshold\": 0.5}"));
        assertEquals("Required [field]", parseError("{\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"threshold\": 0.5}"));
        assertEquals("Required [threshold]", parseError("{\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"f\"}"));
        assertEquals("Required [adapter, field, threshold]", parseError("{}"));
    }

    public void testThresholdOutsideZeroOne() {
        assertEquals(C + "[threshold] must be between 0 and 1, got [1.5]", parseError("{" + VALID.replace("0.5", "1.5") + "}"));
        assertEquals(C + "[threshold] must be between 0 and 1, got [-0.01]", parseError("{" + VALID.replace("0.5", "-0.01") + "}"));
        assertEquals(C + "[threshold] must be between 0 and 1, got [NaN]", parseError("{" + VALID.replace("0.5", "\"NaN\"") + "}"));
        assertEquals(C + "[threshold] must be between 0 and 1, got [Infinity]", parseError("{" + VALID.replace("0.5", "1e39") + "}"));
        assertEquals(
            C + "[threshold] must be between 0 and 1, got [1.0000001]",
            expectThrows(IllegalArgumentException.class, () -> minimal("m", "a", "q", null, "f", Math.nextUp(1f)).build()).getMessage()
        );
        assertEquals(
            C + "[threshold] must be between 0 and 1, got [null]",
            expectThrows(IllegalArgumentException.class, () -> new CosineFilterRescorerBuilder("m", "a", "q", null, "f", null, null))
                .getMessage()
        );
    }

    public void testQueryTextOrVector() {
        String exactlyOne = C + "requires exactly one of [query_text] or [query_vector]";
        assertEquals(
            exactlyOne,
            parseError("{\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"query_vector\": [1], \"field\": \"f\", \"threshold\": 0.5}")
        );
        assertEquals(exactlyOne, parseError("{\"model\": \"m\", \"adapter\": \"a\", \"field\": \"f\", \"threshold\": 0.5}"));
        assertEquals(
            C + "[query_text] must be non-empty and needs a [model] to embed it",
            parseError("{\"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"f\", \"threshold\": 0.5}")
        );
        assertEquals(
            C + "[query_text] must be non-empty and needs a [model] to embed it",
            parseError("{\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"  \", \"field\": \"f\", \"threshold\": 0.5}")
        );
        assertEquals(
            C + "[query_vector] must not be empty",
            parseError("{\"adapter\": \"a\", \"query_vector\": [], \"field\": \"f\", \"threshold\": 0.5}")
        );
        assertEquals(
            C + "[query_vector] must hold finite numbers",
            parseError("{\"adapter\": \"a\", \"query_vector\": [1, \"NaN\"], \"field\": \"f\", \"threshold\": 0.5}")
        );
        assertEquals(
            exactlyOne,
            expectThrows(IllegalArgumentException.class, () -> minimal("m", "a", null, null, "f", 0.5f).build()).getMessage()
        );
    }

    public void testEmptyAdapterOrField() {
        assertEquals(C + "requires a non-empty [adapter]", parseError("{" + VALID.replace("\"a\"", "\"\"") + "}"));
        assertEquals(C + "requires a non-empty [adapter]", parseError("{" + VALID.replace("\"a\"", "\" \"") + "}"));
        assertEquals(C + "requires a non-empty [field]", parseError("{" + VALID.replace("\"f\"", "\"\"") + "}"));
        assertEquals(
            C + "requires a non-empty [adapter]",
            expectThrows(IllegalArgumentException.class, () -> minimal("m", null, "q", null, "f", 0.5f).build()).getMessage()
        );
        assertEquals(
            C + "requires a non-empty [field]",
            expectThrows(IllegalArgumentException.class, () -> minimal("m", "a", "q", null, null, 0.5f).build()).getMessage()
        );
    }

    public void testBadAction() {
        assertEquals(C + "illegal action [keep], must be one of [drop, demote]", parseError(withExtra("\"action\": \"keep\"")));
        assertEquals(C + "illegal action [DROP], must be one of [drop, demote]", parseError(withExtra("\"action\": \"DROP\"")));
        String body = withExtra("\"action\": 1");
        assertEquals(at(body, "1}") + C + "action doesn't support values of type: VALUE_NUMBER", parseError(body));
    }

    /** The threshold is the clause's cut-off; min_score is not one of its options. */
    public void testMinScoreIsNotAccepted() {
        String body = withExtra("\"min_score\": 0.5");
        assertEquals(at(body, "\"min_score\"") + C + "unknown field [min_score]", parseError(body));
    }

    public void testUnknownFieldAndWrongTypes() {
        String body = withExtra("\"fields\": [\"f\"]");
        assertEquals(at(body, "\"fields\"") + C + "unknown field [fields] did you mean [field]?", parseError(body));
        body = "{\"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"f\", \"threshold\": \"high\"}";
        assertEquals(at(body, "\"high\"") + C + "failed to parse field [threshold]", parseError(body));
        body = "{\"adapter\": \"a\", \"query_vector\": \"1 2\", \"field\": \"f\", \"threshold\": 0.5}";
        assertEquals(at(body, "\"1 2\"") + C + "failed to parse field [query_vector]", parseError(body));
        body = "{\"adapter\": \"a\", \"query_vector\": [1], \"field\": [\"f\"], \"threshold\": 0.5}";
        assertEquals(at(body, "[\"f\"]") + C + "field doesn't support values of type: START_ARRAY", parseError(body));
    }

    public void testBadScoreModeAndWeights() {
        assertEquals(
            C + "illegal score_mode [sideways], must be one of [replace, total, multiply, avg, max, min]",
            parseError(withExtra("\"score_mode\": \"sideways\""))
        );
        assertEquals(C + "[query_weight] must be a finite number, got [NaN]", parseError(withExtra("\"query_weight\": \"NaN\"")));
        assertEquals(C + "[rescore_weight] must be a finite number, got [Infinity]", parseError(withExtra("\"rescore_weight\": 1e39")));
    }
}
