/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.opensearch.index.mapper.MapperParsingException;
import org.opensearch.test.OpenSearchTestCase;

import java.util.ArrayList;
import java.util.List;

/** The parsed JSON value of a {@code multi_vector} field to a token matrix: shapes, numbers, and exact errors. */
public class MultiVectorValuesTests extends OpenSearchTestCase {

    private static List<Object> list(Object... values) {
        return new ArrayList<>(List.of(values));
    }

    public void testMatrixAndSingleVector() {
        assertArrayEquals(
            new float[][] { { 1f, 2f }, { 3f, 4.5f } },
            MultiVectorValues.parse("f", list(list(1, 2), list(3L, 4.5d)), 2)
        );
        assertArrayEquals(new float[][] { { 1f, -2f, 0.25f } }, MultiVectorValues.parse("f", list(1, -2.0f, 0.25d), 3));
        assertNull("an empty array is no value", MultiVectorValues.parse("f", list(), 3));
    }

    public void testRandomMatricesSurvive() {
        int dims = randomIntBetween(1, 50);
        int tokens = randomIntBetween(1, 20);
        float[][] want = new float[tokens][dims];
        List<Object> json = new ArrayList<>();
        for (float[] row : want) {
            List<Object> r = new ArrayList<>();
            for (int d = 0; d < dims; d++) {
                row[d] = randomFloat() * 200 - 100;
                r.add(randomBoolean() ? (Object) (double) row[d] : (Object) row[d]);
            }
            json.add(r);
        }
        assertArrayEquals(want, MultiVectorValues.parse("f", json, dims));
    }

    private static String error(List<Object> values, int dims) {
        return expectThrows(MapperParsingException.class, () -> MultiVectorValues.parse("tok", values, dims)).getMessage();
    }

    public void testErrors() {
        assertEquals("field [tok]: token vector [0] has dimension [2], the mapping says [3]", error(list(list(1, 2)), 3));
        assertEquals("field [tok]: token vector [2] has dimension [4], the mapping says [3]", error(list(list(1, 2, 3), list(1, 2, 3), list(1, 2, 3, 4)), 3));
        assertEquals("field [tok]: token vector [0] has dimension [2], the mapping says [3]", error(list(1, 2), 3));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [x]", error(list(list(1, "x")), 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [true]", error(list(1, true), 2));
        assertEquals("field [tok]: token vector [0] has a non-numeric value [null]", error(nullRow(), 2));
        assertEquals("field [tok]: token vector [1] must be an array of numbers, got [7]", error(list(list(1, 2), "7"), 2));
        assertEquals("field [tok]: token vector [0] has a non-finite value", error(list(list(1, Double.NaN)), 2));
        assertEquals("field [tok]: token vector [0] has a non-finite value", error(list(Double.POSITIVE_INFINITY, 1), 2));
        assertEquals("field [tok]: token vector [0] has a non-finite value", error(list(list(1e39, 1)), 2));
    }

    private static List<Object> nullRow() {
        List<Object> row = new ArrayList<>();
        row.add(1);
        row.add(null);
        List<Object> out = new ArrayList<>();
        out.add(row);
        return out;
    }
}
