/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.query;

import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.common.xcontent.XContentType;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.neuralrescore.plugin.NeuralRescorePlugin;
import io.neuralrescore.scoring.ScoreMode;

/**
 * The {@code late_interaction} query: wire round trip (with real inner queries, through the registries a node
 * builds from the plugin), shuffled-XContent round trip, and exact messages for bad input.
 */
public class LateInteractionQueryBuilderTests extends AbstractWireSerializingTestCase<LateInteractionQueryBuilder> {
    private static final SearchModule SEARCH = new SearchModule(Settings.EMPTY, List.of(new NeuralRescorePlugin()));

    @Override
    protected Writeable.Reader<LateInteractionQueryBuilder> instanceReader() {
        return in -> new LateInteractionQueryBuilder(in, null);
    }

    @Override
    protected NamedWriteableRegistry getNamedWriteableRegistry() {
        return new NamedWriteableRegistry(SEARCH.getNamedWriteables());
    }

    @Override
    protected NamedXContentRegistry xContentRegistry() {
        return new NamedXContentRegistry(SEARCH.getNamedXContents());
    }

    private static QueryBuilder randomInner() {
        return randomFrom(
            QueryBuilders.matchAllQuery(),
            QueryBuilders.matchQuery("text", randomAlphaOfLengthBetween(1, 8)),
            QueryBuilders.termQuery("tag", randomAlphaOfLength(4)),
            QueryBuilders.boolQuery().must(QueryBuilders.matchQuery("text", "a b")).filter(QueryBuilders.rangeQuery("year").gte(2000))
        );
    }

    private static float[][] randomVectors() {
        int dims = randomIntBetween(1, 12);
        float[][] v = new float[randomIntBetween(1, 5)][dims];
        for (float[] row : v) {
            for (int d = 0; d < dims; d++) {
                row[d] = randomFrom(0f, 1f, -1f, randomFloat(), -randomFloat() * 10);
            }
        }
        return v;
    }

    private record Spec(
        QueryBuilder inner,
        String model,
        String text,
        float[][] vectors,
        String field,
        ScoreMode mode,
        float queryWeight,
        float rescoreWeight,
        float boost,
        String name
    ) {
        LateInteractionQueryBuilder build() {
            LateInteractionQueryBuilder b = new LateInteractionQueryBuilder(inner, model, text, vectors, field, null).scoreMode(mode)
                .weights(queryWeight, rescoreWeight);
            b.boost(boost);
            if (name != null) {
                b.queryName(name);
            }
            return b;
        }
    }

    private static Spec randomSpec() {
        boolean text = randomBoolean();
        return new Spec(
            randomInner(),
            text ? randomAlphaOfLengthBetween(1, 10) : (randomBoolean() ? null : "m"),
            text ? randomAlphaOfLengthBetween(1, 10) + randomFrom("", " ünïcode?") : null,
            text ? null : randomVectors(),
            randomAlphaOfLengthBetween(1, 8),
            randomFrom(ScoreMode.values()),
            randomFrom(1f, 0f, 0.5f, 2f),
            randomFrom(1f, 0f, 0.5f, 3f),
            randomFrom(1f, 2f, 0.5f),
            randomBoolean() ? null : randomAlphaOfLength(5)
        );
    }

    private static Spec specOf(LateInteractionQueryBuilder b) {
        Map<String, Object> map = clauseMap(b);
        return new Spec(
            innerOf(b),
            (String) map.get("model"),
            (String) map.get("query_text"),
            vectorsOf(map),
            (String) map.get("field"),
            ScoreMode.fromString((String) map.get("score_mode")),
            ((Number) map.get("query_weight")).floatValue(),
            ((Number) map.get("rescore_weight")).floatValue(),
            b.boost(),
            b.queryName()
        );
    }

    private static QueryBuilder innerOf(LateInteractionQueryBuilder b) {
        try {
            java.lang.reflect.Field f = LateInteractionQueryBuilder.class.getDeclaredField("inner");
            f.setAccessible(true);
            return (QueryBuilder) f.get(b);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static float[][] vectorsOf(Map<String, Object> map) {
        List<List<Number>> rows = (List<List<Number>>) map.get("query_vectors");
        if (rows == null) {
            return null;
        }
        float[][] v = new float[rows.size()][];
        for (int i = 0; i < v.length; i++) {
            v[i] = new float[rows.get(i).size()];
            for (int d = 0; d < v[i].length; d++) {
                v[i][d] = rows.get(i).get(d).floatValue();
            }
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> clauseMap(LateInteractionQueryBuilder b) {
        Map<String, Object> json = XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
        return (Map<String, Object>) json.get(LateInteractionQueryBuilder.NAME);
    }

    @Override
    protected LateInteractionQueryBuilder createTestInstance() {
        return randomSpec().build();
    }

    @Override
    protected LateInteractionQueryBuilder mutateInstance(LateInteractionQueryBuilder instance) {
        Spec s = specOf(instance);
        return switch (between(0, 9)) {
            case 0 -> new Spec(
                randomValueOtherThan(s.inner(), LateInteractionQueryBuilderTests::randomInner),
                s.model(), s.text(), s.vectors(), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(), s.boost(), s.name()
            ).build();
            case 1 -> new Spec(s.inner(), (s.model() == null ? "" : s.model()) + "x", s.text(), s.vectors(), s.field(), s.mode(),
                s.queryWeight(), s.rescoreWeight(), s.boost(), s.name()).build();
            case 2 -> s.text() != null
                ? new Spec(s.inner(), s.model(), s.text() + " more", null, s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(), s.boost(),
                    s.name()).build()
                : new Spec(s.inner(), s.model(), null, randomValueOtherThanMany(v -> Arrays.deepEquals(v, s.vectors()),
                    LateInteractionQueryBuilderTests::randomVectors), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(), s.boost(),
                    s.name()).build();
            case 3 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field() + "2", s.mode(), s.queryWeight(), s.rescoreWeight(),
                s.boost(), s.name()).build();
            case 4 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field(),
                randomValueOtherThan(s.mode(), () -> randomFrom(ScoreMode.values())), s.queryWeight(), s.rescoreWeight(), s.boost(),
                s.name()).build();
            case 5 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field(), s.mode(), s.queryWeight() + 1, s.rescoreWeight(),
                s.boost(), s.name()).build();
            case 6 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight() + 1,
                s.boost(), s.name()).build();
            case 7 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(),
                s.boost() + 1, s.name()).build();
            case 8 -> new Spec(s.inner(), s.model(), s.text(), s.vectors(), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(),
                s.boost(), s.name() == null ? "n" : s.name() + "n").build();
            default -> {
                // the two query forms differ
                Spec other = s.text() != null
                    ? new Spec(s.inner(), s.model(), null, randomVectors(), s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(), s.boost(),
                        s.name())
                    : new Spec(s.inner(), "m", "text", null, s.field(), s.mode(), s.queryWeight(), s.rescoreWeight(), s.boost(), s.name());
                yield other.build();
            }
        };
    }

    public void testNamedWriteableRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            LateInteractionQueryBuilder original = createTestInstance();
            try (BytesStreamOutput out = new BytesStreamOutput()) {
                out.writeNamedWriteable(original);
                try (StreamInput in = new NamedWriteableAwareStreamInput(out.bytes().streamInput(), getNamedWriteableRegistry())) {
                    QueryBuilder copy = in.readNamedWriteable(QueryBuilder.class);
                    assertEquals(original, copy);
                    assertEquals(original.hashCode(), copy.hashCode());
                    assertEquals(0, in.available());
                }
            }
        }
    }

    private QueryBuilder parse(XContentBuilder builder) throws IOException {
        try (XContentParser parser = createParser(builder)) {
            QueryBuilder q = AbstractQueryBuilder.parseInnerQueryBuilder(parser);
            assertNull(parser.nextToken());
            return q;
        }
    }

    private QueryBuilder parseJson(String json) throws IOException {
        try (XContentParser parser = createParser(XContentType.JSON.xContent(), json)) {
            return AbstractQueryBuilder.parseInnerQueryBuilder(parser);
        }
    }

    public void testShuffledXContentRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            LateInteractionQueryBuilder original = createTestInstance();
            XContentType type = randomFrom(XContentType.values());
            XContentBuilder builder = XContentBuilder.builder(type.xContent());
            original.toXContent(builder, ToXContent.EMPTY_PARAMS);
            QueryBuilder parsed = parse(shuffleXContent(builder));
            assertEquals(type + " " + Strings.toString(XContentType.JSON, original), original, parsed);
            assertEquals(original.hashCode(), parsed.hashCode());
        }
    }

    public void testParsesEveryOption() throws IOException {
        QueryBuilder parsed = parseJson(
            "{\"late_interaction\": {\"query\": {\"match\": {\"text\": \"vaccines\"}}, \"model\": \"m\", \"query_text\": \"q\","
                + " \"field\": \"tok\", \"scoring\": \"colbert\", \"score_mode\": \"total\", \"query_weight\": 0.5,"
                + " \"rescore_weight\": 2, \"boost\": 3, \"_name\": \"li\"}}"
        );
        LateInteractionQueryBuilder expected = new LateInteractionQueryBuilder(QueryBuilders.matchQuery("text", "vaccines"), "m", "q", null,
            "tok", null).scoreMode(ScoreMode.TOTAL).weights(0.5f, 2f);
        expected.boost(3f);
        expected.queryName("li");
        assertEquals(expected, parsed);
    }

    private String parseError(String body) {
        return expectThrows(Exception.class, () -> parseJson("{\"late_interaction\": " + body + "}")).getMessage();
    }

    public void testErrors() {
        String inner = "\"query\": {\"match_all\": {}}, ";
        assertEquals(
            "[late_interaction] query supports [scoring] [colbert] only; [xtr] needs a candidate pool: use the late_interaction rescorer",
            parseError("{" + inner + "\"model\": \"m\", \"query_text\": \"q\", \"field\": \"tok\", \"scoring\": \"xtr\"}")
        );
        assertEquals(
            "[late_interaction] requires exactly one of [query_text] or [query_vectors]",
            parseError("{" + inner + "\"model\": \"m\", \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] requires exactly one of [query_text] or [query_vectors]",
            parseError("{" + inner + "\"model\": \"m\", \"query_text\": \"q\", \"query_vectors\": [[1]], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_text] must be non-empty and needs a [model] to encode it",
            parseError("{" + inner + "\"query_text\": \"q\", \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] requires a non-empty [field]",
            parseError("{" + inner + "\"model\": \"m\", \"query_text\": \"q\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must all have the same, non-zero dimension",
            parseError("{" + inner + "\"query_vectors\": [[1, 2], [1]], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] illegal score_mode [sum], must be one of [replace, total, multiply, avg, max, min]",
            parseError("{" + inner + "\"query_vectors\": [[1]], \"field\": \"tok\", \"score_mode\": \"sum\"}")
        );
        String missingInner = parseError("{\"model\": \"m\", \"query_text\": \"q\", \"field\": \"tok\"}");
        assertTrue(missingInner, missingInner.contains("Required [query]"));
        String unknown = parseError("{" + inner + "\"model\": \"m\", \"query_text\": \"q\", \"field\": \"tok\", \"top_k_prime\": 3}");
        assertTrue(unknown, unknown.contains("[late_interaction] unknown field [top_k_prime]"));
    }

    public void testUnrewrittenTextQueryCanTravel() throws IOException {
        LateInteractionQueryBuilder b = new LateInteractionQueryBuilder(QueryBuilders.matchAllQuery(), "m", "q", null, "tok", null);
        assertEquals(b, copyInstance(b));
    }
}
