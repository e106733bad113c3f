/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.settings.Settings;
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
import org.opensearch.index.query.AbstractQueryBuilder;
import org.opensearch.index.query.QueryBuilder;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.search.SearchModule;
import org.opensearch.test.AbstractWireSerializingTestCase;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.scoring.ScoreMode;

/**
 * The {@code relevance_filter} query three ways: wire round trip (inherited {@code testSerialization} and
 * {@code testEqualsAndHashcode}, plus the named-writeable path), shuffled-XContent round trip, and the exact
 * message of every bad input.
 */
public class RelevanceFilterQueryBuilderTests extends AbstractWireSerializingTestCase<RelevanceFilterQueryBuilder> {
    private static final String C = "[relevance_filter] ";
    private static final SearchModule SEARCH = new SearchModule(Settings.EMPTY, List.of());

    /** Everything the builder holds (it exposes none of it). */
    private record Spec(
        QueryBuilder inner,
        String model,
        String adapter,
        String queryText,
        float[] queryVector,
        String field,
        float threshold,
        ScoreMode scoreMode,
        float queryWeight,
        float rescoreWeight,
        float boost,
        String name
    ) {
        RelevanceFilterQueryBuilder build() {
            RelevanceFilterQueryBuilder b = new RelevanceFilterQueryBuilder(inner, model, adapter, queryText, queryVector, field, threshold, null);
            if (scoreMode != null || queryWeight != 1f || rescoreWeight != 1f) {
                b.scoreMode(scoreMode, queryWeight, rescoreWeight);
            }
            b.boost(boost);
            if (name != null) {
                b.queryName(name);
            }
            return b;
        }

        Spec with(int which, Object value) {
            Object[] v = { inner, model, adapter, queryText, queryVector, field, threshold, scoreMode, queryWeight, rescoreWeight, boost, name };
            v[which] = value;
            return new Spec(
                (QueryBuilder) v[0],
                (String) v[1],
                (String) v[2],
                (String) v[3],
                (float[]) v[4],
                (String) v[5],
                (Float) v[6],
                (ScoreMode) v[7],
                (Float) v[8],
                (Float) v[9],
                (Float) v[10],
                (String) v[11]
            );
        }
    }

    private static Spec minimal(QueryBuilder inner, String model, String queryText, float[] queryVector, float threshold) {
        return new Spec(inner, model, "a", queryText, queryVector, "f", threshold, null, 1f, 1f, 1f, null);
    }

    private static QueryBuilder randomInner() {
        return switch (between(0, 3)) {
            case 0 -> QueryBuilders.matchAllQuery().boost(randomFrom(1f, 2f));
            case 1 -> QueryBuilders.termQuery("tag", randomAlphaOfLengthBetween(1, 6));
            case 2 -> QueryBuilders.matchQuery("text", randomAlphaOfLengthBetween(1, 6) + " " + randomAlphaOfLengthBetween(1, 6));
            default -> QueryBuilders.boolQuery()
                .must(QueryBuilders.matchQuery("text", randomAlphaOfLengthBetween(1, 6)))
                .filter(QueryBuilders.rangeQuery("year").gte(between(1900, 2000)));
        };
    }

    private static float[] randomQueryVector() {
        float[] v = new float[between(1, 40)];
        for (int i = 0; i < v.length; i++) {
            v[i] = randomFrom(0f, 1f, -1f, randomFloat() * 2 - 1, 1e-30f);
        }
        return v;
    }

    private static float randomWeight() {
        return randomFrom(0f, 1f, -1f, randomFloat() * 10, -randomFloat());
    }

    private static Spec randomSpec() {
        boolean text = randomBoolean();
        return new Spec(
            randomInner(),
            text || randomBoolean() ? randomAlphaOfLengthBetween(1, 12) : null,
            randomAlphaOfLengthBetween(1, 12),
            text ? randomAlphaOfLengthBetween(1, 10) + randomFrom("", " what?", " « ünïcode »") : null,
            text ? null : randomQueryVector(),
            randomAlphaOfLengthBetween(1, 8),
            randomFrom(0f, 1f, 0.5f, randomFloat()),
            randomBoolean() ? null : randomFrom(ScoreMode.values()),
            randomBoolean() ? 1f : randomWeight(),
            randomBoolean() ? 1f : randomWeight(),
            randomBoolean() ? 1f : randomFrom(0.5f, 2f, 3.25f),
            randomBoolean() ? null : randomAlphaOfLengthBetween(1, 8)
        );
    }

    /** The spec of a builder, read back from its XContent. */
    private Spec spec(RelevanceFilterQueryBuilder b) throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> clause = (Map<String, Object>) jsonMap(b).get("relevance_filter");
        float[] vector = null;
        if (clause.get("query_vector") instanceof List<?> list) {
            vector = new float[list.size()];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = ((Number) list.get(i)).floatValue();
            }
        }
        // the inner query, as parsed back from the clause's JSON
        @SuppressWarnings("unchecked")
        Map<String, Object> innerMap = (Map<String, Object>) clause.get("query");
        QueryBuilder inner = parseJson(org.opensearch.core.common.bytes.BytesReference.bytes(org.opensearch.common.xcontent.XContentFactory.jsonBuilder().map(innerMap)).utf8ToString());
        return new Spec(
            inner,
            (String) clause.get("model"),
            (String) clause.get("adapter"),
            (String) clause.get("query_text"),
            vector,
            (String) clause.get("field"),
            ((Number) clause.get("threshold")).floatValue(),
            clause.get("score_mode") == null ? null : ScoreMode.fromString((String) clause.get("score_mode")),
            clause.get("query_weight") == null ? 1f : ((Number) clause.get("query_weight")).floatValue(),
            clause.get("rescore_weight") == null ? 1f : ((Number) clause.get("rescore_weight")).floatValue(),
            b.boost(),
            b.queryName()
        );
    }

    @Override
    protected RelevanceFilterQueryBuilder createTestInstance() {
        return randomSpec().build();
    }

    @Override
    protected RelevanceFilterQueryBuilder mutateInstance(RelevanceFilterQueryBuilder instance) throws IOException {
        Spec s = spec(instance);
        Spec m = switch (between(0, 11)) {
            case 0 -> s.with(0, randomValueOtherThan(s.inner, RelevanceFilterQueryBuilderTests::randomInner));
            case 1 -> s.with(1, s.model == null ? "m" : s.model + "x");
            case 2 -> s.with(2, s.adapter + "x");
            case 3 -> s.queryText != null ? s.with(3, s.queryText + " more") : s.with(4, appended(s.queryVector));
            case 4 -> s.queryText != null ? s.with(3, null).with(4, new float[] { 1f }) : s.with(4, new float[] { s.queryVector[0] + 1 });
            case 5 -> s.with(5, s.field + "x");
            case 6 -> s.with(6, s.threshold == 0.25f ? 0.75f : 0.25f);
            case 7 -> s.with(7, randomValueOtherThan(s.scoreMode, () -> randomBoolean() ? null : randomFrom(ScoreMode.values())));
            case 8 -> s.with(8, s.queryWeight + 1);
            case 9 -> s.with(9, s.rescoreWeight + 1);
            case 10 -> s.with(10, s.boost + 1);
            default -> s.with(11, s.name == null ? "n" : s.name + "x");
        };
        return m.build();
    }

    private static float[] appended(float[] v) {
        float[] out = Arrays.copyOf(v, v.length + 1);
        out[v.length] = 0.5f;
        return out;
    }

    @Override
    protected Writeable.Reader<RelevanceFilterQueryBuilder> instanceReader() {
        return in -> new RelevanceFilterQueryBuilder(in, null);
    }

    @Override
    protected NamedWriteableRegistry getNamedWriteableRegistry() {
        List<NamedWriteableRegistry.Entry> entries = new ArrayList<>(SEARCH.getNamedWriteables());
        entries.add(new NamedWriteableRegistry.Entry(QueryBuilder.class, RelevanceFilterQueryBuilder.NAME, in -> new RelevanceFilterQueryBuilder(in, null)));
        return new NamedWriteableRegistry(entries);
    }

    @Override
    protected NamedXContentRegistry xContentRegistry() {
        List<NamedXContentRegistry.Entry> entries = new ArrayList<>(SEARCH.getNamedXContents());
        entries.add(
            new NamedXContentRegistry.Entry(
                QueryBuilder.class,
                new ParseField(RelevanceFilterQueryBuilder.NAME),
                (p, c) -> RelevanceFilterQueryBuilder.fromXContent(p, null)
            )
        );
        return new NamedXContentRegistry(entries);
    }

    // ---- wire --------------------------------------------------------------------------------------------------

    public void testNamedWriteableRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            RelevanceFilterQueryBuilder original = createTestInstance();
            try (BytesStreamOutput out = new BytesStreamOutput()) {
                out.writeNamedWriteable(original);
                try (StreamInput in = new NamedWriteableAwareStreamInput(out.bytes().streamInput(), getNamedWriteableRegistry())) {
                    QueryBuilder copy = in.readNamedWriteable(QueryBuilder.class);
                    assertNotSame(original, copy);
                    assertEquals(original, copy);
                    assertEquals(original.hashCode(), copy.hashCode());
                    assertEquals("stream fully consumed", 0, in.available());
                }
            }
        }
    }

    // ---- XContent ----------------------------------------------------------------------------------------------

    private Map<String, Object> jsonMap(RelevanceFilterQueryBuilder b) {
        return XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
    }

    private QueryBuilder parseJson(String json) throws IOException {
        try (XContentParser parser = createParser(XContentType.JSON.xContent(), json)) {
            return AbstractQueryBuilder.parseInnerQueryBuilder(parser);
        }
    }

    public void testShuffledXContentRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            RelevanceFilterQueryBuilder original = createTestInstance();
            XContentType type = randomFrom(XContentType.values());
            XContentBuilder builder = XContentBuilder.builder(type.xContent());
            if (randomBoolean()) {
                builder.prettyPrint();
            }
            original.toXContent(builder, ToXContent.EMPTY_PARAMS);
            XContentBuilder shuffled = shuffleXContent(builder);
            QueryBuilder parsed;
            try (XContentParser parser = createParser(shuffled)) {
                parsed = AbstractQueryBuilder.parseInnerQueryBuilder(parser);
                assertNull("nothing left after the query", parser.nextToken());
            }
            assertNotSame(original, parsed);
            assertEquals(original, parsed);
            assertEquals(original.hashCode(), parsed.hashCode());
        }
    }

    public void testXContentOfDefaults() {
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("query", Map.of("match_all", Map.of("boost", 1.0)));
        clause.put("model", "all-minilm-l6-v2");
        clause.put("adapter", "a");
        clause.put("query_text", "what is up");
        clause.put("field", "f");
        clause.put("threshold", 0.5);
        clause.put("boost", 1.0);
        assertEquals(
            Map.of("relevance_filter", clause),
            jsonMap(minimal(QueryBuilders.matchAllQuery(), "all-minilm-l6-v2", "what is up", null, 0.5f).build())
        );
    }

    public void testXContentOfAllOptions() {
        RelevanceFilterQueryBuilder b = new Spec(QueryBuilders.termQuery("tag", "x"), null, "a", null, new float[] { 0.5f, -1f }, "emb",
            0.25f, ScoreMode.TOTAL, 0.5f, 2f, 3f, "rf").build();
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("query", Map.of("term", Map.of("tag", Map.of("value", "x", "boost", 1.0))));
        clause.put("adapter", "a");
        clause.put("query_vector", List.of(0.5, -1.0));
        clause.put("field", "emb");
        clause.put("threshold", 0.25);
        clause.put("score_mode", "total");
        clause.put("query_weight", 0.5);
        clause.put("rescore_weight", 2.0);
        clause.put("boost", 3.0);
        clause.put("_name", "rf");
        assertEquals(Map.of("relevance_filter", clause), jsonMap(b));
    }

    /** Weights given without a score mode do nothing, but still round-trip (they take part in equality). */
    public void testWeightsWithoutScoreModeRoundTrip() throws IOException {
        QueryBuilder parsed = parseJson(
            "{\"relevance_filter\": {\"query\": {\"match_all\": {}}, \"adapter\": \"a\", \"query_vector\": [1], \"field\": \"f\","
                + " \"threshold\": 0.5, \"query_weight\": 2}}"
        );
        RelevanceFilterQueryBuilder expected = minimal(QueryBuilders.matchAllQuery(), null, null, new float[] { 1f }, 0.5f).with(8, 2f).build();
        assertEquals(expected, parsed);
        assertEquals(expected, parseJson(Strings.toString(XContentType.JSON, parsed)));
    }

    public void testParsesEveryOption() throws IOException {
        QueryBuilder parsed = parseJson(
            "{\"relevance_filter\": {\"query\": {\"term\": {\"tag\": \"x\"}}, \"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\","
                + " \"field\": \"emb\", \"threshold\": 0.75, \"score_mode\": \"multiply\", \"query_weight\": 0.5, \"rescore_weight\": 3,"
                + " \"boost\": 2, \"_name\": \"n\"}}"
        );
        assertEquals(
            new Spec(QueryBuilders.termQuery("tag", "x"), "m", "a", "q", null, "emb", 0.75f, ScoreMode.MULTIPLY, 0.5f, 3f, 2f, "n").build(),
            parsed
        );
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private static final String INNER = "\"query\": {\"match_all\": {}}";
    private static final String VALID = INNER + ", \"model\": \"m\", \"adapter\": \"a\", \"query_text\": \"q\", \"field\": \"f\", \"threshold\": 0.5";

    private static String request(String body) {
        return "{\"relevance_filter\": " + body + "}";
    }

    private Exception parseFailure(String body) {
        return expectThrows(Exception.class, () -> parseJson(request(body)));
    }

    private String parseError(String body) {
        return parseFailure(body).getMessage();
    }

    private static String at(String body, String token) {
        String json = request(body);
        int index = json.indexOf(token);
        assertTrue(token + " in " + json, index >= 0);
        return "[1:" + (index + 1) + "] ";
    }

    public void testMissingRequiredFields() {
        assertEquals("Required [query]", parseError("{" + VALID.replace(INNER + ", ", "") + "}"));
        assertEquals("Required [adapter]", parseError("{" + VALID.replace("\"adapter\": \"a\", ", "") + "}"));
        assertEquals("Required [field]", parseError("{" + VALID.replace("\"field\": \"f\", ", "") + "}"));
        assertEquals("Required [threshold]", parseError("{" + VALID.replace(", \"threshold\": 0.5", "") + "}"));
        assertEquals("Required [query, adapter, field, threshold]", parseError("{}"));
        assertEquals(
            C + "requires an inner [query]",
            expectThrows(IllegalArgumentException.class, () -> minimal(null, "m", "q", null, 0.5f).build()).getMessage()
        );
    }

    public void testThresholdOutsideZeroOne() {
        assertEquals(C + "[threshold] must be between 0 and 1, got [1.5]", parseError("{" + VALID.replace("0.5", "1.5") + "}"));
        assertEquals(C + "[threshold] must be between 0 and 1, got [-0.5]", parseError("{" + VALID.replace("0.5", "-0.5") + "}"));
        assertEquals(C + "[threshold] must be between 0 and 1, got [NaN]", parseError("{" + VALID.replace("0.5", "\"NaN\"") + "}"));
        // the bounds themselves are fine
        for (String t : new String[] { "0", "1", "0.0", "1.0" }) {
            try {
                parseJson(request("{" + VALID.replace("0.5", t) + "}"));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    public void testQueryTextOrVector() {
        String exactlyOne = C + "requires exactly one of [query_text] or [query_vector]";
        assertEquals(exactlyOne, parseError("{" + VALID.replace("\"query_text\": \"q\"", "\"query_text\": \"q\", \"query_vector\": [1]") + "}"));
        assertEquals(exactlyOne, parseError("{" + VALID.replace("\"query_text\": \"q\", ", "") + "}"));
        assertEquals(
            C + "[query_text] must be non-empty and needs a [model] to embed it",
            parseError("{" + VALID.replace("\"model\": \"m\", ", "") + "}")
        );
        assertEquals(
            C + "[query_vector] must not be empty",
            parseError("{" + INNER + ", \"adapter\": \"a\", \"query_vector\": [], \"field\": \"f\", \"threshold\": 0.5}")
        );
    }

    public void testEmptyAdapterOrField() {
        assertEquals(C + "requires a non-empty [adapter]", parseError("{" + VALID.replace("\"a\"", "\"\"") + "}"));
        assertEquals(C + "requires a non-empty [field]", parseError("{" + VALID.replace("\"f\"", "\" \"") + "}"));
    }

    public void testOptionsTheQueryDoesNotHave() {
        // the query always removes hits below the threshold: no action, and no min_score
        String body = "{" + VALID + ", \"action\": \"demote\"}";
        assertEquals(at(body, "\"action\"") + C + "unknown field [action]", parseError(body));
        body = "{" + VALID + ", \"min_score\": 0.5}";
        assertEquals(at(body, "\"min_score\"") + C + "unknown field [min_score]", parseError(body));
    }

    public void testBadScoreModeAndWeights() {
        assertEquals(
            C + "illegal score_mode [sideways], must be one of [replace, total, multiply, avg, max, min]",
            parseError("{" + VALID + ", \"score_mode\": \"sideways\"}")
        );
        assertEquals(C + "[query_weight] must be a finite number, got [NaN]", parseError("{" + VALID + ", \"query_weight\": \"NaN\"}"));
        assertEquals(C + "[rescore_weight] must be a finite number, got [Infinity]", parseError("{" + VALID + ", \"rescore_weight\": 1e39}"));
        RelevanceFilterQueryBuilder b = minimal(QueryBuilders.matchAllQuery(), "m", "q", null, 0.5f).build();
        assertEquals(
            C + "[rescore_weight] must be a finite number, got [-Infinity]",
            expectThrows(IllegalArgumentException.class, () -> b.scoreMode(ScoreMode.TOTAL, 1f, Float.NEGATIVE_INFINITY)).getMessage()
        );
    }

    public void testBadInnerQuery() {
        String body = "{\"query\": {\"no_such_query\": {}}, \"adapter\": \"a\", \"query_vector\": [1], \"field\": \"f\", \"threshold\": 0.5}";
        Exception e = parseFailure(body);
        assertThat(e.getMessage(), org.hamcrest.Matchers.endsWith("] " + C + "failed to parse field [query]"));
        assertThat(e.getCause().getMessage(), org.hamcrest.Matchers.containsString("unknown query [no_such_query]"));
    }
}
