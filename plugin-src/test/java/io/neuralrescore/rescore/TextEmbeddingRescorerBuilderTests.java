/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.common.io.stream.BytesStreamOutput;
import org.opensearch.common.xcontent.XContentType;
import org.opensearch.core.common.Strings;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.xcontent.XContentParser;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code text_embedding} clause: the shared checks of the base class, plus the query vector that rewrite computes,
 * which travels to the shards on the wire but is never part of the clause's JSON.
 */
public class TextEmbeddingRescorerBuilderTests extends TextModelRescorerBuilderTestCase<TextEmbeddingRescorerBuilder> {

    @Override
    protected String clause() {
        return TextEmbeddingRescorerBuilder.NAME;
    }

    @Override
    protected TextEmbeddingRescorerBuilder newBuilder(String model, String queryText, List<String> fields) {
        return new TextEmbeddingRescorerBuilder(model, queryText, fields, null);
    }

    @Override
    protected TextEmbeddingRescorerBuilder read(StreamInput in) throws IOException {
        return new TextEmbeddingRescorerBuilder(in, null);
    }

    @Override
    protected TextEmbeddingRescorerBuilder fromXContent(XContentParser parser) {
        return TextEmbeddingRescorerBuilder.fromXContent(parser, null);
    }

    @Override
    protected TextEmbeddingRescorerBuilder createTestInstance() {
        TextEmbeddingRescorerBuilder b = randomBuilder();
        try {
            return randomBoolean() ? withQueryVector(b, randomVector()) : b;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    protected TextEmbeddingRescorerBuilder mutateInstance(TextEmbeddingRescorerBuilder instance) throws IOException {
        if (randomBoolean()) {
            return super.mutateInstance(instance);
        }
        TextEmbeddingRescorerBuilder plain = asXContentSees(instance);
        float[] v = instance.queryVector();
        if (v == null) {
            return withQueryVector(plain, randomVector());
        }
        if (randomBoolean()) {
            return plain; // the vector alone makes the difference
        }
        float[] other = v.clone();
        int i = between(0, other.length - 1);
        other[i] = Math.nextUp(other[i]);
        return withQueryVector(plain, other);
    }

    @Override
    protected TextEmbeddingRescorerBuilder withExtras(TextEmbeddingRescorerBuilder from, TextEmbeddingRescorerBuilder to)
        throws IOException {
        return from.queryVector() == null ? to : withQueryVector(to, from.queryVector());
    }

    /** The JSON carries no vector: what parses back is the clause before rewrite. */
    @Override
    protected TextEmbeddingRescorerBuilder asXContentSees(TextEmbeddingRescorerBuilder instance) throws IOException {
        if (instance.queryVector() == null) {
            return instance;
        }
        BytesStreamOutput out = new BytesStreamOutput();
        instance.writeTo(out);
        byte[] bytes = BytesReference.toBytes(out.bytes());
        // the vector is written last: drop it and write "no vector" instead
        int vectorBytes = 1 + vIntSize(instance.queryVector().length) + 4 * instance.queryVector().length;
        BytesStreamOutput plain = new BytesStreamOutput();
        plain.writeBytes(bytes, 0, bytes.length - vectorBytes);
        plain.writeBoolean(false);
        return read(plain.bytes().streamInput());
    }

    private static int vIntSize(int value) {
        int size = 1;
        while ((value & ~0x7F) != 0) {
            size++;
            value >>>= 7;
        }
        return size;
    }

    private static float[] randomVector() {
        float[] v = new float[between(1, 64)];
        for (int i = 0; i < v.length; i++) {
            v[i] = randomFloat() * 2 - 1;
        }
        return v;
    }

    /**
     * {@code b} (which has no vector) as rewrite leaves it: with the query's embedding. Rewrite needs a model, so the
     * state is made the way a shard receives it, through the wire format, whose last field is the optional vector.
     */
    static TextEmbeddingRescorerBuilder withQueryVector(TextEmbeddingRescorerBuilder b, float[] vector) throws IOException {
        assertNull(b.queryVector());
        BytesStreamOutput out = new BytesStreamOutput();
        b.writeTo(out);
        byte[] bytes = BytesReference.toBytes(out.bytes());
        assertEquals("no vector is written as a final false", 0, bytes[bytes.length - 1]);
        BytesStreamOutput withVector = new BytesStreamOutput();
        withVector.writeBytes(bytes, 0, bytes.length - 1);
        withVector.writeBoolean(true);
        withVector.writeFloatArray(vector);
        TextEmbeddingRescorerBuilder result = new TextEmbeddingRescorerBuilder(withVector.bytes().streamInput(), null);
        assertArrayEquals(vector, result.queryVector(), 0f);
        return result;
    }

    public void testQueryVectorTravelsOnTheWire() throws IOException {
        float[] v = randomVector();
        TextEmbeddingRescorerBuilder b = withQueryVector(newBuilder("m", "q", List.of("f")).minScore(0.5f), v);
        TextEmbeddingRescorerBuilder copy = copyInstance(b);
        assertArrayEquals(v, copy.queryVector(), 0f);
        assertEquals(b, copy);
        assertEquals(Float.valueOf(0.5f), copy.minScore());
    }

    public void testQueryVectorIsPartOfEquality() throws IOException {
        TextEmbeddingRescorerBuilder plain = newBuilder("m", "q", List.of("f"));
        TextEmbeddingRescorerBuilder a = withQueryVector(plain, new float[] { 1f, 2f });
        TextEmbeddingRescorerBuilder b = withQueryVector(newBuilder("m", "q", List.of("f")), new float[] { 1f, 2f });
        TextEmbeddingRescorerBuilder c = withQueryVector(newBuilder("m", "q", List.of("f")), new float[] { 1f, 2.5f });
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, c);
        assertNotEquals(a, plain);
        assertNotEquals(plain, a);
    }

    public void testQueryVectorIsNotInXContent() throws IOException {
        TextEmbeddingRescorerBuilder b = withQueryVector(newBuilder("m", "q", List.of("f")), new float[] { 0.25f, -0.5f });
        TextEmbeddingRescorerBuilder plain = newBuilder("m", "q", List.of("f"));
        assertEquals(Strings.toString(XContentType.JSON, plain), Strings.toString(XContentType.JSON, b));
        assertEquals(plain, asXContentSees(b));
        assertNull(asXContentSees(b).queryVector());
        assertTrue(Arrays.equals(new float[] { 0.25f, -0.5f }, b.queryVector()));
    }

    public void testParsedClauseHasNoVector() throws IOException {
        try (
            XContentParser parser = createParser(
                XContentType.JSON.xContent(),
                "{\"model\": \"m\", \"query_text\": \"q\", \"fields\": [\"f\"]}"
            )
        ) {
            assertNull(TextEmbeddingRescorerBuilder.fromXContent(parser, null).queryVector());
        }
    }

    /** A clause whose vector is already known needs no rewrite and no model. */
    public void testRewriteKeepsAKnownVector() throws IOException {
        TextEmbeddingRescorerBuilder b = withQueryVector(newBuilder("m", "q", List.of("f")), new float[] { 1f });
        assertSame(b, b.rewrite(null));
    }
}
