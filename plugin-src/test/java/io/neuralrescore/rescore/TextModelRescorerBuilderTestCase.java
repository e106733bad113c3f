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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.scoring.Normalization;
import io.neuralrescore.scoring.ScoreMode;

/**
 * What every text-model clause shares, tested three ways: wire round trip (the inherited
 * {@code testSerialization} and {@code testEqualsAndHashcode}, plus the named-writeable path a search request takes),
 * shuffled-XContent round trip, and the exact message of every bad input.
 */
public abstract class TextModelRescorerBuilderTestCase<B extends TextModelRescorerBuilder<B>> extends AbstractWireSerializingTestCase<B> {

    /** The clause name, as registered. */
    protected abstract String clause();

    /** A builder without node services, as tests of the request shape make it. */
    protected abstract B newBuilder(String model, String queryText, List<String> fields);

    /** Reads what {@link RescorerBuilder#writeTo} wrote. */
    protected abstract B read(StreamInput in) throws IOException;

    /** The clause's own XContent parser, as the plugin registers it. */
    protected abstract B fromXContent(XContentParser parser) throws IOException;

    /** {@code to} with the clause-specific state of {@code from} that the shared options do not cover. */
    protected B withExtras(B from, B to) throws IOException {
        return to;
    }

    /** The instance as its XContent shows it: without state that travels only on the wire. */
    protected B asXContentSees(B instance) throws IOException {
        return instance;
    }

    @Override
    protected Writeable.Reader<B> instanceReader() {
        return this::read;
    }

    @Override
    protected NamedWriteableRegistry getNamedWriteableRegistry() {
        return new NamedWriteableRegistry(List.of(new NamedWriteableRegistry.Entry(RescorerBuilder.class, clause(), this::read)));
    }

    @Override
    protected NamedXContentRegistry xContentRegistry() {
        return new NamedXContentRegistry(
            List.of(new NamedXContentRegistry.Entry(RescorerBuilder.class, new ParseField(clause()), (p, c) -> fromXContent(p)))
        );
    }

    @Override
    protected B createTestInstance() {
        return randomBuilder();
    }

    /** A random clause: random shared options, some left at their defaults. */
    protected B randomBuilder() {
        B b = newBuilder(randomModel(), randomQueryText(), randomFields());
        if (randomBoolean()) {
            b.windowSize(randomIntBetween(1, 10_000));
        }
        if (randomBoolean()) {
            b.maxLength(randomIntBetween(2, 8192));
        }
        if (randomBoolean()) {
            b.scoreMode(randomFrom(ScoreMode.values()));
        }
        if (randomBoolean()) {
            b.queryWeight(randomWeight());
        }
        if (randomBoolean()) {
            b.rescoreWeight(randomWeight());
        }
        if (randomBoolean()) {
            b.normalize(randomFrom(Normalization.values()));
        }
        if (randomBoolean()) {
            b.minScore(randomWeight());
        }
        return b;
    }

    private static String randomModel() {
        return randomAlphaOfLengthBetween(1, 10) + randomFrom("", "-v2", ".onnx", "_q");
    }

    private static String randomQueryText() {
        return randomAlphaOfLengthBetween(1, 10) + randomFrom("", " what is it?", " « ünïcode »", "\n\tline two");
    }

    private static List<String> randomFields() {
        List<String> fields = new ArrayList<>();
        int n = randomIntBetween(1, 4);
        for (int i = 0; i < n; i++) {
            fields.add(randomAlphaOfLengthBetween(1, 8) + (rarely() ? "." + randomAlphaOfLengthBetween(1, 8) : ""));
        }
        return fields;
    }

    private static float randomWeight() {
        return randomFrom(0f, 1f, -1f, randomFloat() * 10, -randomFloat(), Float.MAX_VALUE, Float.MIN_VALUE);
    }

    /** A copy that differs from {@code instance} in exactly one option. */
    @Override
    protected B mutateInstance(B instance) throws IOException {
        String model = instance.model();
        String queryText = instance.queryText();
        List<String> fields = instance.fields();
        int which = between(0, 9);
        switch (which) {
            case 0 -> model = model + "x";
            case 1 -> queryText = queryText + " more";
            case 2 -> fields = randomValueOtherThan(fields, TextModelRescorerBuilderTestCase::randomFields);
            default -> {}
        }
        B copy = newBuilder(model, queryText, fields);
        if (instance.windowSize() != null) {
            copy.windowSize(instance.windowSize());
        }
        if (instance.maxLength() != null) {
            copy.maxLength(instance.maxLength());
        }
        copy.scoreMode(instance.scoreMode());
        copy.queryWeight(instance.queryWeight());
        copy.rescoreWeight(instance.rescoreWeight());
        copy.normalize(instance.normalize());
        if (instance.minScore() != null) {
            copy.minScore(instance.minScore());
        }
        switch (which) {
            case 3 -> copy.windowSize(instance.windowSize() == null ? 7 : instance.windowSize() + 1);
            case 4 -> copy.maxLength(instance.maxLength() == null || instance.maxLength() == 8192 ? 2 : instance.maxLength() + 1);
            case 5 -> copy.scoreMode(randomValueOtherThan(instance.scoreMode(), () -> randomFrom(ScoreMode.values())));
            case 6 -> copy.queryWeight(randomValueOtherThan(instance.queryWeight(), TextModelRescorerBuilderTestCase::randomWeight));
            case 7 -> copy.rescoreWeight(randomValueOtherThan(instance.rescoreWeight(), TextModelRescorerBuilderTestCase::randomWeight));
            case 8 -> copy.normalize(randomValueOtherThan(instance.normalize(), () -> randomFrom(Normalization.values())));
            case 9 -> copy.minScore(
                randomValueOtherThan(instance.minScore(), TextModelRescorerBuilderTestCase::randomWeight)
            );
            default -> {}
        }
        return withExtras(instance, copy);
    }

    // ---- wire --------------------------------------------------------------------------------------------------

    /** The path a search request takes: written as a named writeable, read back through the registry. */
    public void testNamedWriteableRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            B original = createTestInstance();
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
        B original = newBuilder("m", "q", List.of("f"));
        B copy = copyInstance(original);
        assertNull(copy.windowSize());
        assertNull(copy.maxLength());
        assertNull(copy.minScore());
        assertEquals(TextModelRescorerBuilder.DEFAULT_SCORE_MODE, copy.scoreMode());
        assertEquals(TextModelRescorerBuilder.DEFAULT_QUERY_WEIGHT, copy.queryWeight(), 0f);
        assertEquals(TextModelRescorerBuilder.DEFAULT_RESCORE_WEIGHT, copy.rescoreWeight(), 0f);
        assertEquals(TextModelRescorerBuilder.DEFAULT_NORMALIZE, copy.normalize());
        assertEquals(clause(), copy.getWriteableName());
    }

    // ---- XContent ----------------------------------------------------------------------------------------------

    public void testShuffledXContentRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            B original = createTestInstance();
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
            B expected = asXContentSees(original);
            assertNotSame(expected, parsed);
            assertEquals(expected, parsed);
            assertEquals(expected.hashCode(), parsed.hashCode());
        }
    }

    /** The clause's JSON as a map: key order is the builder's business, the keys and values are the contract. */
    private Map<String, Object> jsonMap(B b) {
        return XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
    }

    public void testXContentOfDefaults() {
        B b = newBuilder("my-model", "what is up", List.of("title", "body.text"));
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("model", "my-model");
        clause.put("query_text", "what is up");
        clause.put("fields", List.of("title", "body.text"));
        clause.put("score_mode", "replace");
        clause.put("query_weight", 1.0);
        clause.put("rescore_weight", 1.0);
        clause.put("normalize", "none");
        assertEquals(Map.of(clause(), clause), jsonMap(b));
    }

    public void testXContentOfAllOptions() {
        B b = newBuilder("my-model", "q", List.of("title"));
        b.windowSize(50)
            .maxLength(128)
            .scoreMode(ScoreMode.TOTAL)
            .queryWeight(0.5f)
            .rescoreWeight(2f)
            .normalize(Normalization.SIGMOID)
            .minScore(0.25f);
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("model", "my-model");
        clause.put("query_text", "q");
        clause.put("fields", List.of("title"));
        clause.put("max_length", 128);
        clause.put("score_mode", "total");
        clause.put("query_weight", 0.5);
        clause.put("rescore_weight", 2.0);
        clause.put("normalize", "sigmoid");
        clause.put("min_score", 0.25);
        assertEquals(Map.of("window_size", 50, clause(), clause), jsonMap(b));
    }

    public void testParsesEveryOption() throws IOException {
        RescorerBuilder<?> parsed = parseJson(
            "{\"window_size\": 20, \"" + clause() + "\": {\"model\": \"m\", \"query_text\": \"q\", \"fields\": [\"a\", \"b.c\"],"
                + " \"max_length\": 64, \"score_mode\": \"multiply\", \"query_weight\": 0.5, \"rescore_weight\": 3,"
                + " \"normalize\": \"sigmoid\", \"min_score\": -1.5}}"
        );
        B expected = newBuilder("m", "q", List.of("a", "b.c"));
        expected.windowSize(20)
            .maxLength(64)
            .scoreMode(ScoreMode.MULTIPLY)
            .queryWeight(0.5f)
            .rescoreWeight(3f)
            .normalize(Normalization.SIGMOID)
            .minScore(-1.5f);
        assertEquals(expected, parsed);
    }

    // ---- errors: through the parser, as a request body reaches them -------------------------------------------------

    private RescorerBuilder<?> parseJson(String json) throws IOException {
        try (XContentParser parser = createParser(XContentType.JSON.xContent(), json)) {
            assertEquals(XContentParser.Token.START_OBJECT, parser.nextToken());
            return RescorerBuilder.parseFromXContent(parser);
        }
    }

    /** The JSON of a rescore element whose clause object is {@code body}. */
    private String request(String body) {
        return "{\"" + clause() + "\": " + body + "}";
    }

    /** What parsing {@code json} threw. */
    private Exception parseFailure(String json) {
        return expectThrows(Exception.class, () -> parseJson(json));
    }

    /** The message of what parsing a clause with object {@code body} threw. */
    private String parseError(String body) {
        return parseFailure(request(body)).getMessage();
    }

    private static final String VALID = "\"model\": \"m\", \"query_text\": \"q\", \"fields\": [\"f\"]";

    /** A valid clause plus {@code extra}. */
    private String withExtra(String extra) {
        return "{" + VALID + ", " + extra + "}";
    }

    /** The parser's location prefix for the token {@code token} (its first occurrence) in the request of {@code body}. */
    private String at(String body, String token) {
        String json = request(body);
        int index = json.indexOf(token);
        assertTrue(token + " in " + json, index >= 0);
        return "[1:" + (index + 1) + "] ";
    }

    public void testValidMinimalClauseParses() throws IOException {
        assertEquals(newBuilder("m", "q", List.of("f")), parseJson(request("{" + VALID + "}")));
    }

    /** Like core array fields, a single string is taken as a one-element list. */
    public void testSingleFieldAsString() throws IOException {
        assertEquals(
            newBuilder("m", "q", List.of("title")),
            parseJson(request("{\"model\": \"m\", \"query_text\": \"q\", \"fields\": \"title\"}"))
        );
    }

    public void testMissingRequiredFields() {
        assertEquals("Required [model]", parseError("{\"query_text\": \"q\", \"fields\": [\"f\"]}"));
        assertEquals("Required [query_text]", parseError("{\"model\": \"m\", \"fields\": [\"f\"]}"));
        assertEquals("Required [fields]", parseError("{\"model\": \"m\", \"query_text\": \"q\"}"));
        assertEquals("Required [model, query_text, fields]", parseError("{}"));
    }

    public void testEmptyOrBlankValues() {
        String c = "[" + clause() + "]";
        assertEquals(c + " requires a non-empty [model]", parseError("{\"model\": \"\", \"query_text\": \"q\", \"fields\": [\"f\"]}"));
        assertEquals(c + " requires a non-empty [model]", parseError("{\"model\": \"  \", \"query_text\": \"q\", \"fields\": [\"f\"]}"));
        assertEquals(c + " requires a non-empty [query_text]", parseError("{\"model\": \"m\", \"query_text\": \"\", \"fields\": [\"f\"]}"));
        assertEquals(
            c + " requires a non-empty [query_text]",
            parseError("{\"model\": \"m\", \"query_text\": \" \\t\\n\", \"fields\": [\"f\"]}")
        );
        assertEquals(c + " requires at least one field in [fields]", parseError("{\"model\": \"m\", \"query_text\": \"q\", \"fields\": []}"));
        assertEquals(
            c + " [fields] must not contain empty field names",
            parseError("{\"model\": \"m\", \"query_text\": \"q\", \"fields\": [\"title\", \" \"]}")
        );
        assertEquals(
            c + " [fields] must not contain empty field names",
            parseError("{\"model\": \"m\", \"query_text\": \"q\", \"fields\": [\"\"]}")
        );
    }

    /** The same checks guard builders made in code. */
    public void testConstructorValidation() {
        String c = "[" + clause() + "]";
        assertEquals(
            c + " requires a non-empty [model]",
            expectThrows(IllegalArgumentException.class, () -> newBuilder(null, "q", List.of("f"))).getMessage()
        );
        assertEquals(
            c + " requires a non-empty [query_text]",
            expectThrows(IllegalArgumentException.class, () -> newBuilder("m", null, List.of("f"))).getMessage()
        );
        assertEquals(
            c + " requires at least one field in [fields]",
            expectThrows(IllegalArgumentException.class, () -> newBuilder("m", "q", null)).getMessage()
        );
        List<String> withNull = new ArrayList<>();
        withNull.add("title");
        withNull.add(null);
        assertEquals(
            c + " [fields] must not contain empty field names",
            expectThrows(IllegalArgumentException.class, () -> newBuilder("m", "q", withNull)).getMessage()
        );
    }

    public void testUnknownField() {
        String body = withExtra("\"sideways\": 1");
        assertEquals(at(body, "\"sideways\"") + "[" + clause() + "] unknown field [sideways]", parseError(body));
    }

    public void testWrongTypes() {
        String c = "[" + clause() + "] ";
        String body = withExtra("\"query_weight\": \"heavy\"");
        Exception e = parseFailure(request(body));
        assertEquals(at(body, "\"heavy\"") + c + "failed to parse field [query_weight]", e.getMessage());
        assertEquals("For input string: \"heavy\"", e.getCause().getMessage());

        body = withExtra("\"max_length\": \"long\"");
        e = parseFailure(request(body));
        assertEquals(at(body, "\"long\"") + c + "failed to parse field [max_length]", e.getMessage());
        assertEquals("For input string: \"long\"", e.getCause().getMessage());

        body = withExtra("\"rescore_weight\": {\"a\": 1}");
        assertEquals(at(body, "{\"a\"") + c + "rescore_weight doesn't support values of type: START_OBJECT", parseError(body));

        body = "{\"model\": {\"name\": \"m\"}, \"query_text\": \"q\", \"fields\": [\"f\"]}";
        assertEquals(at(body, "{\"name\"") + c + "model doesn't support values of type: START_OBJECT", parseError(body));

        body = "{\"model\": \"m\", \"query_text\": [\"q\"], \"fields\": [\"f\"]}";
        assertEquals(at(body, "[\"q\"]") + c + "query_text doesn't support values of type: START_ARRAY", parseError(body));

        body = "{\"model\": \"m\", \"query_text\": \"q\", \"fields\": {\"f\": 1}}";
        assertEquals(at(body, "{\"f\"") + c + "fields doesn't support values of type: START_OBJECT", parseError(body));

        body = "{\"model\": \"m\", \"query_text\": \"q\", \"fields\": [{\"f\": 1}]}";
        assertEquals(at(body, "{\"f\"") + c + "failed to parse field [fields]", parseError(body));

        body = withExtra("\"score_mode\": 3");
        assertEquals(at(body, "3}") + c + "score_mode doesn't support values of type: VALUE_NUMBER", parseError(body));

        body = withExtra("\"normalize\": {\"x\": 3}");
        assertEquals(at(body, "{\"x\"") + c + "normalize doesn't support values of type: START_OBJECT", parseError(body));

        body = withExtra("\"min_score\": true");
        assertEquals(at(body, "true") + c + "min_score doesn't support values of type: VALUE_BOOLEAN", parseError(body));

        body = withExtra("\"min_score\": null");
        assertEquals(at(body, "null") + c + "min_score doesn't support values of type: VALUE_NULL", parseError(body));

        body = "{\"model\": null, \"query_text\": \"q\", \"fields\": [\"f\"]}";
        assertEquals(at(body, "null") + c + "model doesn't support values of type: VALUE_NULL", parseError(body));
    }

    public void testBadScoreMode() {
        String c = "[" + clause() + "] ";
        assertEquals(
            c + "illegal score_mode [sideways], must be one of [replace, total, multiply, avg, max, min]",
            parseError(withExtra("\"score_mode\": \"sideways\""))
        );
        // names are lower case, as they are written
        assertEquals(
            c + "illegal score_mode [TOTAL], must be one of [replace, total, multiply, avg, max, min]",
            parseError(withExtra("\"score_mode\": \"TOTAL\""))
        );
    }

    public void testBadNormalize() {
        assertEquals(
            "[" + clause() + "] illegal normalize [softmax], must be one of [none, sigmoid]",
            parseError(withExtra("\"normalize\": \"softmax\""))
        );
    }

    public void testMaxLengthBounds() throws IOException {
        String c = "[" + clause() + "] ";
        assertEquals(c + "[max_length] must be between 2 and 8192, got [1]", parseError(withExtra("\"max_length\": 1")));
        assertEquals(c + "[max_length] must be between 2 and 8192, got [8193]", parseError(withExtra("\"max_length\": 8193")));
        assertEquals(c + "[max_length] must be between 2 and 8192, got [-5]", parseError(withExtra("\"max_length\": -5")));
        assertEquals(c + "[max_length] must be between 2 and 8192, got [0]", parseError(withExtra("\"max_length\": 0")));
        // the bounds themselves are fine
        assertEquals(Integer.valueOf(2), ((TextModelRescorerBuilder<?>) parseJson(request(withExtra("\"max_length\": 2")))).maxLength());
        assertEquals(
            Integer.valueOf(8192),
            ((TextModelRescorerBuilder<?>) parseJson(request(withExtra("\"max_length\": 8192")))).maxLength()
        );
        B b = newBuilder("m", "q", List.of("f"));
        assertEquals(
            c + "[max_length] must be between 2 and 8192, got [9000]",
            expectThrows(IllegalArgumentException.class, () -> b.maxLength(9000)).getMessage()
        );
        assertNull("a rejected value leaves the option unset", b.maxLength());
    }

    public void testNonFiniteNumbers() {
        String c = "[" + clause() + "] ";
        assertEquals(c + "[query_weight] must be a finite number, got [NaN]", parseError(withExtra("\"query_weight\": \"NaN\"")));
        assertEquals(
            c + "[rescore_weight] must be a finite number, got [Infinity]",
            parseError(withExtra("\"rescore_weight\": \"Infinity\""))
        );
        assertEquals(c + "[min_score] must be a finite number, got [-Infinity]", parseError(withExtra("\"min_score\": \"-Infinity\"")));
        // a number beyond float range overflows to infinity, which is refused the same way
        assertEquals(c + "[query_weight] must be a finite number, got [Infinity]", parseError(withExtra("\"query_weight\": 1e39")));
        assertEquals(c + "[min_score] must be a finite number, got [-Infinity]", parseError(withExtra("\"min_score\": -1e39")));

        B b = newBuilder("m", "q", List.of("f"));
        assertEquals(
            c + "[query_weight] must be a finite number, got [NaN]",
            expectThrows(IllegalArgumentException.class, () -> b.queryWeight(Float.NaN)).getMessage()
        );
        assertEquals(
            c + "[rescore_weight] must be a finite number, got [-Infinity]",
            expectThrows(IllegalArgumentException.class, () -> b.rescoreWeight(Float.NEGATIVE_INFINITY)).getMessage()
        );
        assertEquals(
            c + "[min_score] must be a finite number, got [Infinity]",
            expectThrows(IllegalArgumentException.class, () -> b.minScore(Float.POSITIVE_INFINITY)).getMessage()
        );
        assertEquals(newBuilder("m", "q", List.of("f")), b);
    }

    /** Weights and min_score may be negative or zero; only non-finite values are refused. */
    public void testNegativeAndZeroNumbersAccepted() throws IOException {
        RescorerBuilder<?> parsed = parseJson(request(withExtra("\"query_weight\": 0, \"rescore_weight\": -2.5, \"min_score\": -10")));
        B expected = newBuilder("m", "q", List.of("f")).queryWeight(0f).rescoreWeight(-2.5f).minScore(-10f);
        assertEquals(expected, parsed);
    }
}
