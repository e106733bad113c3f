/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.opensearch.common.xcontent.json.JsonXContent;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.mapper.MapperParsingException;
import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * A {@code multi_vector} value to a token matrix: JSON arrays read from the parser's tokens (shapes, numbers, exact
 * errors, and the parser left where the mapper expects it) and base64 strings of big-endian float32 values.
 */
public class MultiVectorValuesTests extends OpenSearchTestCase {

    /** Parses {@code {"v": <json>, "after": 1}} and checks the parser ends on the array's END_ARRAY. */
    private float[][] parse(String json, int dims) throws IOException {
        try (XContentParser p = createParser(JsonXContent.jsonXContent, "{\"v\": " + json + ", \"after\": 1}")) {
            p.nextToken();
            p.nextToken();
            assertEquals(XContentParser.Token.START_ARRAY, p.nextToken());
            float[][] out = MultiVectorValues.parse("tok", p, dims);
            assertEquals("left on the array's end", XContentParser.Token.END_ARRAY, p.currentToken());
            assertEquals(XContentParser.Token.FIELD_NAME, p.nextToken());
            assertEquals("after", p.currentName());
            return out;
        }
    }

    private String error(String json, int dims) {
        return expectThrows(MapperParsingException.class, () -> parse(json, dims)).getMessage();
    }

    public void testMatrixAndSingleVector() throws IOException {
        assertArrayEquals(new float[][] { { 1f, 2f }, { 3f, 4.5f } }, parse("[[1, 2], [3, 4.5]]", 2));
        assertArrayEquals(new float[][] { { 1f, -2f, 0.25f } }, parse("[1, -2.0, 0.25]", 3));
        assertNull("an empty array is no value", parse("[]", 3));
    }

    public void testRandomMatricesSurvive() throws IOException {
        int dims = randomIntBetween(1, 50);
        int tokens = randomIntBetween(1, 20);
        float[][] want = new float[tokens][dims];
        StringBuilder json = new StringBuilder("[");
        for (int t = 0; t < tokens; t++) {
            json.append(t == 0 ? "[" : ", [");
            for (int d = 0; d < dims; d++) {
                want[t][d] = randomFloat() * 200 - 100;
                json.append(d == 0 ? "" : ", ").append(randomBoolean() ? Double.toString(want[t][d]) : Float.toString(want[t][d]));
            }
            json.append("]");
        }
        assertArrayEquals(want, parse(json.append("]").toString(), dims));
        assertArrayEquals(want, MultiVectorValues.decodeBase64("tok", MultiVectorValues.encodeBase64(want), dims));
    }

    public void testErrors() {
        assertEquals("field [tok]: token vector [0] has dimension [2], the mapping says [3]", error("[[1, 2]]", 3));
        assertEquals("field [tok]: token vector [2] has dimension [4], the mapping says [3]", error("[[1, 2, 3], [1, 2, 3], [1, 2, 3, 4]]", 3));
        assertEquals("field [tok]: token vector [0] has dimension [2], the mapping says [3]", error("[1, 2]", 3));
        assertEquals("the dimension is checked first", "field [tok]: token vector [0] has dimension [3], the mapping says [2]", error("[[1, \"x\", 2]]", 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [x]", error("[[1, \"x\"]]", 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [true]", error("[1, true]", 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [null]", error("[[1, null]]", 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [[1, 2]]", error("[[[1, 2], 2, {\"a\": [3]}]]", 3));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [{a=1}]", error("[[{\"a\": 1}, 2]]", 2));
        assertEquals("field [tok]: token vector [1] must be an array of numbers, got [7]", error("[[1, 2], \"7\"]", 2));
        assertEquals("field [tok]: token vector [1] must be an array of numbers, got [7.5]", error("[[1, 2], 7.5]", 2));
        assertEquals("field [tok]: token vector [0] must be an array of numbers, got [null]", error("[null]", 2));
        assertEquals("field [tok]: token vector [0] has a non-finite value", error("[[1, 1e39]]", 2));
        assertEquals("field [tok]: token vector [0] has a non-finite value", error("[-1e39, 1]", 2));
    }

    public void testBase64IsBigEndianFloat32() {
        // 1.0f = 3F800000, -2.0f = C0000000 (big-endian), as Elasticsearch's dense_vector base64 input
        byte[] bytes = { 0x3F, (byte) 0x80, 0, 0, (byte) 0xC0, 0, 0, 0, 0x3F, (byte) 0x80, 0, 0, 0, 0, 0, 0 };
        String b64 = Base64.getEncoder().encodeToString(bytes);
        assertArrayEquals(new float[][] { { 1f, -2f }, { 1f, 0f } }, MultiVectorValues.decodeBase64("tok", b64, 2));
        assertArrayEquals(new float[][] { { 1f, -2f, 1f, 0f } }, MultiVectorValues.decodeBase64("tok", b64, 4));
        assertEquals(b64, MultiVectorValues.encodeBase64(new float[][] { { 1f, -2f }, { 1f, 0f } }));
        assertNull("an empty string is no value", MultiVectorValues.decodeBase64("tok", "", 2));
    }

    public void testBase64Errors() {
        String twelveBytes = Base64.getEncoder().encodeToString(new byte[12]);
        assertEquals(
            "field [tok]: the base64 value holds [12] bytes, not a whole number of token vectors of [2] float32 values ([8] bytes each)",
            expectThrows(MapperParsingException.class, () -> MultiVectorValues.decodeBase64("tok", twelveBytes, 2)).getMessage()
        );
        assertEquals(
            "field [tok]: a string value must be base64 of big-endian float32 token vectors: Illegal base64 character 5b",
            expectThrows(MapperParsingException.class, () -> MultiVectorValues.decodeBase64("tok", "[[1, 2]]", 2)).getMessage()
        );
        String nan = Base64.getEncoder().encodeToString(ByteBuffer.allocate(16).putFloat(1f).putFloat(2f).putFloat(Float.NaN).putFloat(0f).array());
        assertEquals(
            "field [tok]: token vector [1] has a non-finite value",
            expectThrows(MapperParsingException.class, () -> MultiVectorValues.decodeBase64("tok", nan, 2)).getMessage()
        );
    }
}
