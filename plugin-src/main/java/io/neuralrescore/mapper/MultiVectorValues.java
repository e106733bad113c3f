/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.mapper;

import org.opensearch.index.mapper.MapperParsingException;

import java.util.List;

/** Turns a parsed JSON value (array of arrays, or one array, of numbers) into a token matrix of the mapped dimension. */
public final class MultiVectorValues {
    private MultiVectorValues() {}

    /** The matrix, or null for an empty array (no value). */
    public static float[][] parse(String field, List<Object> values, int dims) {
        if (values.isEmpty()) {
            return null;
        }
        if (values.get(0) instanceof Number) {
            return new float[][] { row(field, values, 0, dims) };
        }
        float[][] out = new float[values.size()][];
        for (int i = 0; i < out.length; i++) {
            if (values.get(i) instanceof List<?> list) {
                @SuppressWarnings("unchecked")
                List<Object> row = (List<Object>) list;
                out[i] = row(field, row, i, dims);
            } else {
                throw new MapperParsingException(
                    "field [" + field + "]: token vector [" + i + "] must be an array of numbers, got [" + values.get(i) + "]"
                );
            }
        }
        return out;
    }

    private static float[] row(String field, List<Object> values, int index, int dims) {
        if (values.size() != dims) {
            throw new MapperParsingException(
                "field [" + field + "]: token vector [" + index + "] has dimension [" + values.size() + "], the mapping says [" + dims + "]"
            );
        }
        float[] out = new float[dims];
        for (int d = 0; d < dims; d++) {
            if (values.get(d) instanceof Number n) {
                out[d] = n.floatValue();
                if (Float.isFinite(out[d]) == false) {
                    throw new MapperParsingException("field [" + field + "]: token vector [" + index + "] has a non-finite value");
                }
            } else {
                throw new MapperParsingException(
                    "field [" + field + "]: token vector [" + index + "] has a non-numeric value [" + values.get(d) + "]"
                );
            }
        }
        return out;
    }
}
