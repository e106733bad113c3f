/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.scoring;

import org.opensearch.test.OpenSearchTestCase;

import java.util.Locale;

public class ScoreModeTests extends OpenSearchTestCase {

    /** first 2, query_weight 3, model 5, rescore_weight 0.5: weighted inputs 6 and 2.5. */
    public void testCombineHandComputed() {
        assertEquals(2.5f, ScoreMode.REPLACE.combine(2f, 3f, 5f, 0.5f), 0f);
        assertEquals(8.5f, ScoreMode.TOTAL.combine(2f, 3f, 5f, 0.5f), 0f);
        assertEquals(15f, ScoreMode.MULTIPLY.combine(2f, 3f, 5f, 0.5f), 0f);
        assertEquals(4.25f, ScoreMode.AVG.combine(2f, 3f, 5f, 0.5f), 0f);
        assertEquals(6f, ScoreMode.MAX.combine(2f, 3f, 5f, 0.5f), 0f);
        assertEquals(2.5f, ScoreMode.MIN.combine(2f, 3f, 5f, 0.5f), 0f);
    }

    public void testNegativeModelScores() {
        // cross-encoder logits are often negative: first 1 (weight 1), model -4 (weight 2)
        assertEquals(-8f, ScoreMode.REPLACE.combine(1f, 1f, -4f, 2f), 0f);
        assertEquals(-7f, ScoreMode.TOTAL.combine(1f, 1f, -4f, 2f), 0f);
        assertEquals(-8f, ScoreMode.MULTIPLY.combine(1f, 1f, -4f, 2f), 0f);
        assertEquals(-3.5f, ScoreMode.AVG.combine(1f, 1f, -4f, 2f), 0f);
        assertEquals(1f, ScoreMode.MAX.combine(1f, 1f, -4f, 2f), 0f);
        assertEquals(-8f, ScoreMode.MIN.combine(1f, 1f, -4f, 2f), 0f);
    }

    public void testZeroWeights() {
        assertEquals(0f, ScoreMode.REPLACE.combine(7f, 1f, 9f, 0f), 0f);
        assertEquals(9f, ScoreMode.TOTAL.combine(7f, 0f, 9f, 1f), 0f);
    }

    public void testWeightedFormAgainstDouble() {
        for (int i = 0; i < 1000; i++) {
            float first = randomFloat() * 20 - 10;
            float qw = randomFloat() * 4 - 2;
            float model = randomFloat() * 20 - 10;
            float rw = randomFloat() * 4 - 2;
            float a = first * qw;
            float b = model * rw;
            assertEquals(b, ScoreMode.REPLACE.combine(first, qw, model, rw), 0f);
            assertEquals(a + b, ScoreMode.TOTAL.combine(first, qw, model, rw), 0f);
            assertEquals(a * b, ScoreMode.MULTIPLY.combine(first, qw, model, rw), 0f);
            assertEquals((a + b) / 2, ScoreMode.AVG.combine(first, qw, model, rw), 0f);
            assertEquals(Math.max(a, b), ScoreMode.MAX.combine(first, qw, model, rw), 0f);
            assertEquals(Math.min(a, b), ScoreMode.MIN.combine(first, qw, model, rw), 0f);
        }
    }

    public void testFromStringRoundTrips() {
        for (ScoreMode mode : ScoreMode.values()) {
            assertEquals(mode.name().toLowerCase(Locale.ROOT), mode.jsonName());
            assertSame(mode, ScoreMode.fromString(mode.jsonName()));
        }
    }

    public void testFromStringErrors() {
        for (String bad : new String[] { "sum", "Total", "MAX", "", " avg", null }) {
            assertEquals(
                "illegal score_mode [" + bad + "], must be one of [replace, total, multiply, avg, max, min]",
                expectThrows(IllegalArgumentException.class, () -> ScoreMode.fromString(bad)).getMessage()
            );
        }
    }
}
