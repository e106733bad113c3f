/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.XContentParser;

import java.io.IOException;
import java.util.List;

/** Query vector matrices in clauses: parsing, validation and wire format. */
public final class Matrices {
    private Matrices() {}

    /** Parses an array of arrays of numbers. */
    public static float[][] parse(XContentParser p, String clause) throws IOException {
        List<Object> list = p.list();
        float[][] out = new float[list.size()][];
        for (int i = 0; i < out.length; i++) {
            if (list.get(i) instanceof List<?> row) {
                out[i] = new float[row.size()];
                for (int d = 0; d < row.size(); d++) {
                    if (row.get(d) instanceof Number n) {
                        out[i][d] = n.floatValue();
                    } else {
                        throw new IllegalArgumentException("[" + clause + "] [query_vectors] must be an array of arrays of numbers");
                    }
                }
            } else {
                throw new IllegalArgumentException("[" + clause + "] [query_vectors] must be an array of arrays of numbers");
            }
        }
        return out;
    }

    public static void validate(float[][] v, String clause) {
        if (v.length == 0) {
            throw new IllegalArgumentException("[" + clause + "] [query_vectors] must hold at least one vector");
        }
        for (float[] row : v) {
            if (row.length == 0 || row.length != v[0].length) {
                throw new IllegalArgumentException("[" + clause + "] [query_vectors] must all have the same, non-zero dimension");
            }
            for (float x : row) {
                if (Float.isFinite(x) == false) {
                    throw new IllegalArgumentException("[" + clause + "] [query_vectors] must hold finite numbers");
                }
            }
        }
    }

    public static float[][] read(StreamInput in) throws IOException {
        float[][] m = new float[in.readVInt()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = in.readFloatArray();
        }
        return m;
    }

    public static void write(StreamOutput out, float[][] m) throws IOException {
        out.writeVInt(m.length);
        for (float[] row : m) {
            out.writeFloatArray(row);
        }
    }
}
