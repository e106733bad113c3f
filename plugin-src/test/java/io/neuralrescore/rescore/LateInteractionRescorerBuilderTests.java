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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.neuralrescore.rescore.LateInteractionRescorerBuilder.MissingVectors;
import io.neuralrescore.rescore.LateInteractionRescorerBuilder.Scoring;
import io.neuralrescore.scoring.ScoreMode;

/**
 * The {@code late_interaction} rescore clause three ways: wire round trip (inherited {@code testSerialization} and
 * {@code testEqualsAndHashcode}, plus the named-writeable path), shuffled-XContent round trip, and the exact message
 * of every bad input as a request body reaches the parser.
 */
public class LateInteractionRescorerBuilderTests extends AbstractWireSerializingTestCase<LateInteractionRescorerBuilder> {
    private static final String NAME = LateInteractionRescorerBuilder.NAME;

    @Override
    protected Writeable.Reader<LateInteractionRescorerBuilder> instanceReader() {
        return in -> new LateInteractionRescorerBuilder(in, null);
    }

    @Override
    protected NamedWriteableRegistry getNamedWriteableRegistry() {
        return new NamedWriteableRegistry(
            List.of(new NamedWriteableRegistry.Entry(RescorerBuilder.class, NAME, in -> new LateInteractionRescorerBuilder(in, null)))
        );
    }

    @Override
    protected NamedXContentRegistry xContentRegistry() {
        return new NamedXContentRegistry(
            List.of(
                new NamedXContentRegistry.Entry(
                    RescorerBuilder.class,
                    new ParseField(NAME),
                    (p, c) -> LateInteractionRescorerBuilder.fromXContent(p, null)
                )
            )
        );
    }

    // ---- random instances --------------------------------------------------------------------------------------

    /** Everything a builder holds, so a test can change one option and rebuild. */
    private static final class Spec {
        String model;
        String queryText;
        float[][] queryVectors;
        String field;
        Scoring scoring;
        Integer topKPrime;
        MissingVectors missing;
        List<String> textFields = List.of();
        Integer windowSize;
        ScoreMode scoreMode;
        Float queryWeight;
        Float rescoreWeight;
        Float minScore;

        Spec copy() {
            Spec s = new Spec();
            s.model = model;
            s.queryText = queryText;
            s.queryVectors = queryVectors;
            s.field = field;
            s.scoring = scoring;
            s.topKPrime = topKPrime;
            s.missing = missing;
            s.textFields = textFields;
            s.windowSize = windowSize;
            s.scoreMode = scoreMode;
            s.queryWeight = queryWeight;
            s.rescoreWeight = rescoreWeight;
            s.minScore = minScore;
            return s;
        }

        LateInteractionRescorerBuilder build() {
            LateInteractionRescorerBuilder b = new LateInteractionRescorerBuilder(model, queryText, queryVectors, field, null);
            if (scoring != null) {
                b.scoring(scoring);
            }
            if (topKPrime != null) {
                b.topKPrime(topKPrime);
            }
            if (missing != null) {
                b.missingVectors(missing);
            }
            b.textFields(textFields);
            if (windowSize != null) {
                b.windowSize(windowSize);
            }
            if (scoreMode != null) {
                b.scoreMode(scoreMode);
            }
            if (queryWeight != null) {
                b.queryWeight(queryWeight);
            }
            if (rescoreWeight != null) {
                b.rescoreWeight(rescoreWeight);
            }
            if (minScore != null) {
                b.minScore(minScore);
            }
            return b;
        }
    }

    private static float[][] randomVectors() {
        int dims = randomIntBetween(1, 16);
        float[][] v = new float[randomIntBetween(1, 6)][dims];
        for (float[] row : v) {
            for (int d = 0; d < dims; d++) {
                row[d] = randomFrom(0f, 1f, -1f, randomFloat(), -randomFloat() * 100, Float.MIN_VALUE);
            }
        }
        return v;
    }

    private static float randomWeight() {
        return randomFrom(0f, 1f, -1f, randomFloat() * 10, -randomFloat(), Float.MAX_VALUE, Float.MIN_VALUE);
    }

    private static List<String> randomTextFields() {
        List<String> f = new ArrayList<>();
        int n = randomIntBetween(1, 3);
        for (int i = 0; i < n; i++) {
            f.add(randomAlphaOfLengthBetween(1, 8) + (rarely() ? ".sub" : ""));
        }
        return f;
    }

    private static Spec randomSpec() {
        Spec s = new Spec();
        if (randomBoolean()) {
            s.model = randomAlphaOfLengthBetween(1, 10) + randomFrom("", "-v2", "_q");
            s.queryText = randomAlphaOfLengthBetween(1, 10) + randomFrom("", " what is it?", " « ünïcode »", "\n\tline two");
        } else {
            s.model = randomBoolean() ? null : randomAlphaOfLengthBetween(1, 10);
            s.queryVectors = randomVectors();
        }
        s.field = randomAlphaOfLengthBetween(1, 10) + (rarely() ? ".tokens" : "");
        if (randomBoolean()) {
            s.scoring = randomFrom(Scoring.values());
        }
        if (randomBoolean()) {
            s.topKPrime = randomFrom(1, 1_000_000, randomIntBetween(1, 5000));
        }
        if (s.model != null && randomBoolean()) {
            s.missing = randomFrom(MissingVectors.values());
        }
        if (s.missing == MissingVectors.ENCODE || randomBoolean()) {
            s.textFields = randomTextFields();
        }
        if (randomBoolean()) {
            s.windowSize = randomIntBetween(1, 10_000);
        }
        if (randomBoolean()) {
            s.scoreMode = randomFrom(ScoreMode.values());
        }
        if (randomBoolean()) {
            s.queryWeight = randomWeight();
        }
        if (randomBoolean()) {
            s.rescoreWeight = randomWeight();
        }
        if (randomBoolean()) {
            s.minScore = randomWeight();
        }
        return s;
    }

    private Spec lastSpec;

    @Override
    protected LateInteractionRescorerBuilder createTestInstance() {
        lastSpec = randomSpec();
        return lastSpec.build();
    }

    /** Recovers the spec of an instance from its public state. */
    private static Spec specOf(LateInteractionRescorerBuilder b) throws IOException {
        Map<String, Object> json = XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
        Spec s = new Spec();
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) json.get(NAME);
        s.model = (String) c.get("model");
        s.queryText = (String) c.get("query_text");
        s.queryVectors = b.queryVectors();
        s.field = b.field();
        s.scoring = b.scoring();
        s.topKPrime = c.get("top_k_prime") == null ? null : ((Number) c.get("top_k_prime")).intValue();
        s.missing = MissingVectors.fromString((String) c.get("missing_vectors"));
        @SuppressWarnings("unchecked")
        List<String> tf = (List<String>) c.getOrDefault("text_fields", List.of());
        s.textFields = tf;
        s.windowSize = b.windowSize();
        s.scoreMode = b.scoreMode();
        s.queryWeight = b.queryWeight();
        s.rescoreWeight = b.rescoreWeight();
        s.minScore = b.minScore();
        return s;
    }

    @Override
    protected LateInteractionRescorerBuilder mutateInstance(LateInteractionRescorerBuilder instance) throws IOException {
        Spec s = specOf(instance).copy();
        switch (between(0, 11)) {
            case 0 -> s.model = (s.model == null ? "" : s.model) + "x";
            case 1 -> {
                if (s.queryText != null) {
                    s.queryText = s.queryText + " more";
                } else {
                    s.queryVectors = randomValueOtherThanMany(v -> Arrays.deepEquals(v, instance.queryVectors()), () -> randomVectors());
                }
            }
            case 2 -> s.field = s.field + "_2";
            case 3 -> s.scoring = s.scoring == Scoring.XTR ? Scoring.COLBERT : Scoring.XTR;
            case 4 -> s.topKPrime = s.topKPrime == null ? 7 : (s.topKPrime == 1_000_000 ? 1 : s.topKPrime + 1);
            case 5 -> {
                if (s.model == null) {
                    s.model = "m";
                }
                s.missing = s.missing == MissingVectors.ENCODE ? MissingVectors.KEEP : MissingVectors.ENCODE;
                if (s.textFields.isEmpty()) {
                    s.textFields = List.of("text");
                }
            }
            case 6 -> {
                List<String> tf = new ArrayList<>(s.textFields);
                tf.add("extra");
                s.textFields = tf;
            }
            case 7 -> s.windowSize = s.windowSize == null ? 3 : s.windowSize + 1;
            case 8 -> s.scoreMode = randomValueOtherThan(s.scoreMode, () -> randomFrom(ScoreMode.values()));
            case 9 -> s.queryWeight = randomValueOtherThan(s.queryWeight, LateInteractionRescorerBuilderTests::randomWeight);
            case 10 -> s.rescoreWeight = randomValueOtherThan(s.rescoreWeight, LateInteractionRescorerBuilderTests::randomWeight);
            case 11 -> s.minScore = randomValueOtherThan(s.minScore, LateInteractionRescorerBuilderTests::randomWeight);
            default -> throw new AssertionError();
        }
        return s.build();
    }

    // ---- wire --------------------------------------------------------------------------------------------------

    public void testNamedWriteableRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            LateInteractionRescorerBuilder original = createTestInstance();
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

    public void testQueryVectorsSurviveTheWireExactly() throws IOException {
        float[][] v = { { Float.MIN_VALUE, -0f, 1e-30f }, { Float.MAX_VALUE, 3.14159265f, -2.5f } };
        LateInteractionRescorerBuilder copy = copyInstance(new LateInteractionRescorerBuilder(null, null, v, "tok", null));
        assertArrayEquals(v, copy.queryVectors());
        assertEquals(Scoring.COLBERT, copy.scoring());
        assertNull(copy.model());
        assertNull(copy.windowSize());
    }

    // ---- XContent ----------------------------------------------------------------------------------------------

    public void testShuffledXContentRoundTrip() throws IOException {
        for (int run = 0; run < NUMBER_OF_TEST_RUNS; run++) {
            LateInteractionRescorerBuilder original = createTestInstance();
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
            assertEquals(type + " " + Strings.toString(XContentType.JSON, original), original, parsed);
            assertEquals(original.hashCode(), parsed.hashCode());
        }
    }

    private static Map<String, Object> jsonMap(LateInteractionRescorerBuilder b) {
        return XContentHelper.convertToMap(XContentType.JSON.xContent(), Strings.toString(XContentType.JSON, b), false);
    }

    public void testXContentOfDefaults() {
        LateInteractionRescorerBuilder b = new LateInteractionRescorerBuilder("m", "what is up", null, "tok", null);
        Map<String, Object> clause = new LinkedHashMap<>();
        clause.put("model", "m");
        clause.put("query_text", "what is up");
        clause.put("field", "tok");
        clause.put("scoring", "colbert");
        clause.put("missing_vectors", "keep");
        clause.put("score_mode", "replace");
        clause.put("query_weight", 1.0);
        clause.put("rescore_weight", 1.0);
        assertEquals(Map.of(NAME, clause), jsonMap(b));
    }

    public void testParsesEveryOption() throws IOException {
        RescorerBuilder<?> parsed = parseJson(
            "{\"window_size\": 50, \"late_interaction\": {\"model\": \"m\", \"query_text\": \"q\", \"field\": \"tok\","
                + " \"scoring\": \"xtr\", \"top_k_prime\": 200, \"missing_vectors\": \"encode\", \"text_fields\": [\"title\", \"text\"],"
                + " \"score_mode\": \"total\", \"query_weight\": 0.5, \"rescore_weight\": 2, \"min_score\": 0.25}}"
        );
        LateInteractionRescorerBuilder expected = new LateInteractionRescorerBuilder("m", "q", null, "tok", null).scoring(Scoring.XTR)
            .topKPrime(200)
            .missingVectors(MissingVectors.ENCODE)
            .textFields(List.of("title", "text"))
            .scoreMode(ScoreMode.TOTAL)
            .queryWeight(0.5f)
            .rescoreWeight(2f)
            .minScore(0.25f);
        expected.windowSize(50);
        assertEquals(expected, parsed);

        parsed = parseJson("{\"late_interaction\": {\"query_vectors\": [[1, 0.5], [-2, 0]], \"field\": \"tok\"}}");
        assertEquals(new LateInteractionRescorerBuilder(null, null, new float[][] { { 1f, 0.5f }, { -2f, 0f } }, "tok", null), parsed);
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private RescorerBuilder<?> parseJson(String json) throws IOException {
        try (XContentParser parser = createParser(XContentType.JSON.xContent(), json)) {
            assertEquals(XContentParser.Token.START_OBJECT, parser.nextToken());
            return RescorerBuilder.parseFromXContent(parser);
        }
    }

    private String parseError(String clauseBody) {
        return expectThrows(Exception.class, () -> parseJson("{\"late_interaction\": " + clauseBody + "}")).getMessage();
    }

    public void testExactlyOneQueryForm() {
        String both = "{\"model\": \"m\", \"query_text\": \"q\", \"query_vectors\": [[1]], \"field\": \"tok\"}";
        assertEquals("[late_interaction] requires exactly one of [query_text] or [query_vectors]", parseError(both));
        assertEquals("[late_interaction] requires exactly one of [query_text] or [query_vectors]", parseError("{\"model\": \"m\", \"field\": \"tok\"}"));
        assertEquals("[late_interaction] requires a non-empty [query_text]", parseError("{\"model\": \"m\", \"query_text\": \" \", \"field\": \"tok\"}"));
        assertEquals("[late_interaction] [query_text] needs a [model] to encode it", parseError("{\"query_text\": \"q\", \"field\": \"tok\"}"));
        assertEquals(
            "[late_interaction] [query_text] needs a [model] to encode it",
            parseError("{\"model\": \"\", \"query_text\": \"q\", \"field\": \"tok\"}")
        );
    }

    public void testFieldIsRequired() {
        assertEquals("[late_interaction] requires a non-empty [field]", parseError("{\"model\": \"m\", \"query_text\": \"q\"}"));
        assertEquals("[late_interaction] requires a non-empty [field]", parseError("{\"model\": \"m\", \"query_text\": \"q\", \"field\": \"\"}"));
    }

    public void testBadQueryVectors() {
        assertEquals(
            "[late_interaction] [query_vectors] must hold at least one vector",
            parseError("{\"query_vectors\": [], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must all have the same, non-zero dimension",
            parseError("{\"query_vectors\": [[1, 2], [3]], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must all have the same, non-zero dimension",
            parseError("{\"query_vectors\": [[]], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must be an array of arrays of numbers",
            parseError("{\"query_vectors\": [[1, \"a\"]], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must be an array of arrays of numbers",
            parseError("{\"query_vectors\": [1, 2], \"field\": \"tok\"}")
        );
        assertEquals(
            "[late_interaction] [query_vectors] must hold finite numbers",
            expectThrows(
                IllegalArgumentException.class,
                () -> new LateInteractionRescorerBuilder(null, null, new float[][] { { Float.NaN } }, "tok", null)
            ).getMessage()
        );
    }

    private static final String VALID = "\"model\": \"m\", \"query_text\": \"q\", \"field\": \"tok\"";

    public void testBadScoringAndTopKPrime() {
        assertEquals(
            "[late_interaction] illegal scoring [maxsim], must be one of [colbert, xtr]",
            parseError("{" + VALID + ", \"scoring\": \"maxsim\"}")
        );
        assertEquals(
            "[late_interaction] illegal scoring [XTR], must be one of [colbert, xtr]",
            parseError("{" + VALID + ", \"scoring\": \"XTR\"}")
        );
        assertEquals(
            "[late_interaction] [top_k_prime] must be between 1 and 1000000, got [0]",
            parseError("{" + VALID + ", \"top_k_prime\": 0}")
        );
        assertEquals(
            "[late_interaction] [top_k_prime] must be between 1 and 1000000, got [-5]",
            parseError("{" + VALID + ", \"scoring\": \"xtr\", \"top_k_prime\": -5}")
        );
        assertEquals(
            "[late_interaction] [top_k_prime] must be between 1 and 1000000, got [1000001]",
            parseError("{" + VALID + ", \"top_k_prime\": 1000001}")
        );
    }

    public void testMissingVectorsOptions() {
        assertEquals(
            "[late_interaction] [missing_vectors] [encode] needs [text_fields] to read text from",
            parseError("{" + VALID + ", \"missing_vectors\": \"encode\"}")
        );
        assertEquals(
            "[late_interaction] [missing_vectors] [encode] needs [text_fields] to read text from",
            parseError("{" + VALID + ", \"missing_vectors\": \"encode\", \"text_fields\": []}")
        );
        assertEquals(
            "[late_interaction] [missing_vectors] [encode] needs a [model]",
            parseError("{\"query_vectors\": [[1]], \"field\": \"tok\", \"missing_vectors\": \"encode\", \"text_fields\": [\"text\"]}")
        );
        assertEquals(
            "[late_interaction] illegal missing_vectors [drop], must be one of [keep, encode]",
            parseError("{" + VALID + ", \"missing_vectors\": \"drop\"}")
        );
    }

    public void testCombinationOptionErrors() {
        assertEquals(
            "[late_interaction] illegal score_mode [sum], must be one of [replace, total, multiply, avg, max, min]",
            parseError("{" + VALID + ", \"score_mode\": \"sum\"}")
        );
        assertEquals(
            "[late_interaction] [min_score] must be a finite number, got [NaN]",
            expectThrows(
                IllegalArgumentException.class,
                () -> new LateInteractionRescorerBuilder("m", "q", null, "tok", null).minScore(Float.NaN)
            ).getMessage()
        );
    }

    public void testUnknownField() {
        String msg = parseError("{" + VALID + ", \"top_k\": 5}");
        assertTrue(msg, msg.endsWith("[late_interaction] unknown field [top_k]"));
    }

    public void testUnrewrittenTextQueryWritesItsText() throws IOException {
        // without the coordinator's rewrite (no registry) the text travels and shards encode it themselves
        LateInteractionRescorerBuilder b = new LateInteractionRescorerBuilder("m", "q", null, "tok", null);
        LateInteractionRescorerBuilder copy = copyInstance(b);
        assertEquals(b, copy);
        assertNull(copy.queryVectors());
    }
}
