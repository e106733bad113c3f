/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.mapper.MapperParsingException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The value of a {@code multi_vector} field in a document, as a token matrix of the mapped dimension. Two forms:
 * <ul>
 * <li>JSON numbers: an array of arrays (one per token), or one array (a single token). Read straight from the
 * parser's tokens, without boxing every number into a list first.</li>
 * <li>A base64 string of IEEE-754 float32 values in big-endian order (the layout Elasticsearch's {@code dense_vector}
 * takes), the token vectors concatenated: {@code 4 x dims} bytes per token. Written by the {@code late_interaction}
 * ingest processor with {@code "format": "base64"}; about 6 times smaller than the numbers as JSON text, and
 * copied rather than formatted and parsed at every step between the processor and the mapper.</li>
 * </ul>
 */
public final class MultiVectorValues {
    private MultiVectorValues() {}

    /**
     * The matrix of the array the parser is on ({@code START_ARRAY}; the parser is left on its {@code END_ARRAY}),
     * or null for an empty array (no value).
     */
    public static float[][] parse(String field, XContentParser parser, int dims) throws IOException {
        XContentParser.Token token = parser.nextToken();
        if (token == XContentParser.Token.END_ARRAY) {
            return null;
        }
        if (token == XContentParser.Token.VALUE_NUMBER) {
            // one flat array: a single token vector, whose first number is already read
            return new float[][] { row(field, parser, 0, dims, true) };
        }
        List<float[]> rows = new ArrayList<>();
        for (; token != XContentParser.Token.END_ARRAY; token = parser.nextToken()) {
            int index = rows.size();
            if (token != XContentParser.Token.START_ARRAY) {
                throw new MapperParsingException(
                    "field [" + field + "]: token vector [" + index + "] must be an array of numbers, got [" + render(parser) + "]"
                );
            }
            parser.nextToken();
            rows.add(row(field, parser, index, dims, false));
        }
        return rows.toArray(new float[0][]);
    }

    /**
     * One token vector. The parser is on its first element ({@code flat}: a number already checked) or on its
     * {@code END_ARRAY}; it is left on the {@code END_ARRAY}. The checks run in the order a reader expects: the
     * dimension first, then the first non-numeric value, then non-finite values.
     */
    private static float[] row(String field, XContentParser parser, int index, int dims, boolean flat) throws IOException {
        float[] out = new float[dims];
        int n = 0;
        String nonNumeric = null;
        boolean nonFinite = false;
        for (XContentParser.Token t = parser.currentToken(); t != XContentParser.Token.END_ARRAY; t = parser.nextToken()) {
            if (t == XContentParser.Token.VALUE_NUMBER) {
                float f = parser.floatValue();
                nonFinite |= Float.isFinite(f) == false;
                if (n < dims) {
                    out[n] = f;
                }
            } else if (nonNumeric == null) {
                nonNumeric = render(parser);
            } else {
                parser.skipChildren();
            }
            n++;
        }
        if (n != dims) {
            throw new MapperParsingException(
                "field [" + field + "]: token vector [" + index + "] has dimension [" + n + "], the mapping says [" + dims + "]"
            );
        }
        if (nonNumeric != null) {
            throw new MapperParsingException("field [" + field + "]: token vector [" + index + "] has a non-numeric value [" + nonNumeric + "]");
        }
        if (nonFinite) {
            throw new MapperParsingException("field [" + field + "]: token vector [" + index + "] has a non-finite value");
        }
        return out;
    }

    /** The value the parser is on, as an error message shows it (an array or object is read to its end). */
    private static String render(XContentParser parser) throws IOException {
        return switch (parser.currentToken()) {
            case START_ARRAY -> String.valueOf(parser.list());
            case START_OBJECT -> String.valueOf(parser.map());
            case VALUE_NULL -> "null";
            default -> parser.text();
        };
    }

    /**
     * The matrix of a base64 value (big-endian float32, token vectors concatenated), or null for an empty string
     * (no value).
     */
    public static float[][] decodeBase64(String field, String value, int dims) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new MapperParsingException(
                "field [" + field + "]: a string value must be base64 of big-endian float32 token vectors: " + e.getMessage()
            );
        }
        if (bytes.length == 0) {
            return null;
        }
        int rowBytes = Float.BYTES * dims;
        if (bytes.length % rowBytes != 0) {
            throw new MapperParsingException(
                "field [" + field + "]: the base64 value holds [" + bytes.length + "] bytes, not a whole number of token vectors of ["
                    + dims + "] float32 values ([" + rowBytes + "] bytes each)"
            );
        }
        FloatBuffer floats = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        float[][] out = new float[bytes.length / rowBytes][dims];
        for (int i = 0; i < out.length; i++) {
            floats.get(out[i]);
            for (float f : out[i]) {
                if (Float.isFinite(f) == false) {
                    throw new MapperParsingException("field [" + field + "]: token vector [" + i + "] has a non-finite value");
                }
            }
        }
        return out;
    }

    /** The base64 form of a matrix: what {@link #decodeBase64} reads back exactly. */
    public static String encodeBase64(float[][] matrix) {
        int total = Arrays.stream(matrix).mapToInt(r -> r.length).sum();
        ByteBuffer buffer = ByteBuffer.allocate(Float.BYTES * total).order(ByteOrder.BIG_ENDIAN);
        FloatBuffer floats = buffer.asFloatBuffer();
        for (float[] row : matrix) {
            floats.put(row);
        }
        return Base64.getEncoder().encodeToString(buffer.array());
    }
}
