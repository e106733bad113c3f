/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import org.opensearch.test.OpenSearchTestCase;

import java.util.ArrayList;
import java.util.List;

/** Length-bucketed batching checked against its contract, brute force, on random lengths and budgets. */
public class BatchPlannerTests extends OpenSearchTestCase {

    private static int[] randomLengths() {
        int[] lengths = new int[between(0, 300)];
        int maxLen = randomFrom(4, 64, 512, 4096);
        for (int i = 0; i < lengths.length; i++) {
            // repeated lengths exercise ties; zero-length sequences count as one padded token
            lengths[i] = rarely() ? 0 : randomBoolean() ? between(1, maxLen) : randomFrom(5, 17, 128);
        }
        return lengths;
    }

    public void testPlanAgainstBruteForce() {
        for (int run = 0; run < 200; run++) {
            int[] lengths = randomLengths();
            int maxTokens = randomFrom(between(1, 64), between(64, 4096), between(4096, 1 << 16));
            int maxBatch = randomFrom(1, between(1, 8), between(8, 256));
            List<int[]> plan = BatchPlanner.plan(lengths, maxTokens, maxBatch);
            String ctx = "lengths " + lengths.length + ", maxTokens " + maxTokens + ", maxBatch " + maxBatch;

            int[] seen = new int[lengths.length];
            List<Integer> order = new ArrayList<>();
            for (int[] batch : plan) {
                assertTrue(ctx + ": no empty batch", batch.length > 0);
                assertTrue(ctx + ": size " + batch.length + " <= maxBatch", batch.length <= maxBatch);
                int padded = Math.max(1, lengths[batch[0]]);
                for (int j = 0; j < batch.length; j++) {
                    seen[batch[j]]++;
                    order.add(batch[j]);
                    if (j > 0) {
                        assertTrue(ctx + ": longest first", lengths[batch[j - 1]] >= lengths[batch[j]]);
                    }
                }
                long tokens = (long) batch.length * padded;
                assertTrue(
                    ctx + ": batch of " + batch.length + " x " + padded + " within budget, or a single oversize sequence",
                    tokens <= maxTokens || (batch.length == 1 && padded > maxTokens)
                );
            }
            for (int i = 0; i < lengths.length; i++) {
                assertEquals(ctx + ": index " + i + " appears exactly once", 1, seen[i]);
            }
            // across batches too: one descending sweep, equal lengths in arrival order (stable)
            for (int k = 1; k < order.size(); k++) {
                int a = order.get(k - 1);
                int b = order.get(k);
                assertTrue(ctx + ": descending over the plan", lengths[a] > lengths[b] || (lengths[a] == lengths[b] && a < b));
            }
            // greedy: a batch stops only at maxBatch, at the budget, or at the end
            for (int k = 0; k + 1 < plan.size(); k++) {
                int[] batch = plan.get(k);
                long withNext = (long) (batch.length + 1) * Math.max(1, lengths[batch[0]]);
                assertTrue(ctx + ": batch " + k + " could not take one more", batch.length == maxBatch || withNext > maxTokens);
            }
            // deterministic
            List<int[]> again = BatchPlanner.plan(lengths.clone(), maxTokens, maxBatch);
            assertEquals(plan.size(), again.size());
            for (int k = 0; k < plan.size(); k++) {
                assertArrayEquals(plan.get(k), again.get(k));
            }
        }
    }

    public void testPaddingLimitAgainstBruteForce() {
        for (int run = 0; run < 200; run++) {
            int[] lengths = randomLengths();
            int maxTokens = randomFrom(between(64, 4096), 1 << 16);
            int maxBatch = between(1, 128);
            double maxPadding = randomFrom(0.0, 0.05, 0.25, randomDouble());
            List<int[]> plan = BatchPlanner.plan(lengths, maxTokens, maxBatch, maxPadding);
            String ctx = "lengths " + lengths.length + ", maxTokens " + maxTokens + ", maxBatch " + maxBatch + ", maxPadding " + maxPadding;
            int[] seen = new int[lengths.length];
            for (int k = 0; k < plan.size(); k++) {
                int[] batch = plan.get(k);
                long padded = (long) batch.length * Math.max(1, lengths[batch[0]]);
                long real = 0;
                for (int member : batch) {
                    seen[member]++;
                    real += Math.max(1, lengths[member]);
                }
                assertTrue(ctx + ": padding share of batch " + k, padded - real <= maxPadding * padded + 1e-9);
                if (k + 1 < plan.size()) {
                    // greedy: the next sequence would break the size, the budget or the padding limit
                    int next = plan.get(k + 1)[0];
                    long paddedNext = padded + Math.max(1, lengths[batch[0]]);
                    long realNext = real + Math.max(1, lengths[next]);
                    assertTrue(
                        ctx + ": batch " + k + " could not take one more",
                        batch.length == maxBatch || paddedNext > maxTokens || paddedNext - realNext > maxPadding * paddedNext
                    );
                }
            }
            for (int i = 0; i < lengths.length; i++) {
                assertEquals(ctx + ": index " + i + " appears exactly once", 1, seen[i]);
            }
        }
    }

    public void testHandComputedPaddingLimit() {
        // sorted: 0(10) 1(10) 2(9) 3(5); limit 0.1: [0,1,2] pads 1 of 30 tokens; adding 3 would pad 6 of 40 (15%)
        List<int[]> plan = BatchPlanner.plan(new int[] { 10, 10, 9, 5 }, 1000, 64, 0.1);
        assertEquals(2, plan.size());
        assertArrayEquals(new int[] { 0, 1, 2 }, plan.get(0));
        assertArrayEquals(new int[] { 3 }, plan.get(1));
        // no limit: one batch
        assertEquals(1, BatchPlanner.plan(new int[] { 10, 10, 9, 5 }, 1000, 64, 1.0).size());
        // zero: only equal lengths share a batch
        assertEquals(3, BatchPlanner.plan(new int[] { 10, 10, 9, 5 }, 1000, 64, 0.0).size());
        assertEquals(
            "maxPadding must be within [0, 1], got [1.5]",
            expectThrows(IllegalArgumentException.class, () -> BatchPlanner.plan(new int[] { 1 }, 8, 4, 1.5)).getMessage()
        );
    }

    public void testHandComputedPlan() {
        // lengths by index:        0  1   2  3   4  5
        int[] lengths = new int[] { 3, 10, 3, 7, 10, 1 };
        List<int[]> plan = BatchPlanner.plan(lengths, 20, 8);
        // sorted: 1(10) 4(10) 3(7) 0(3) 2(3) 5(1); [1,4] = 2x10 = 20; [3,0] = 2x7 = 14 (3x7 = 21 too many); [2,5] = 2x3
        assertEquals(3, plan.size());
        assertArrayEquals(new int[] { 1, 4 }, plan.get(0));
        assertArrayEquals(new int[] { 3, 0 }, plan.get(1));
        assertArrayEquals(new int[] { 2, 5 }, plan.get(2));
    }

    public void testOversizeSequenceIsAloneInItsBatch() {
        List<int[]> plan = BatchPlanner.plan(new int[] { 2, 100, 3 }, 10, 4);
        assertEquals(2, plan.size());
        assertArrayEquals(new int[] { 1 }, plan.get(0));
        assertArrayEquals(new int[] { 2, 0 }, plan.get(1));
    }

    public void testMaxBatchCaps() {
        List<int[]> plan = BatchPlanner.plan(new int[] { 1, 1, 1, 1, 1 }, 1000, 2);
        assertEquals(3, plan.size());
        assertArrayEquals(new int[] { 0, 1 }, plan.get(0));
        assertArrayEquals(new int[] { 2, 3 }, plan.get(1));
        assertArrayEquals(new int[] { 4 }, plan.get(2));
    }

    public void testEmpty() {
        assertTrue(BatchPlanner.plan(new int[0], 10, 10).isEmpty());
        assertTrue(BatchPlanner.fixed(0, 3).isEmpty());
    }

    public void testBadLimits() {
        assertEquals(
            "maxTokens and maxBatch must be positive, got [0, 4]",
            expectThrows(IllegalArgumentException.class, () -> BatchPlanner.plan(new int[] { 1 }, 0, 4)).getMessage()
        );
        assertEquals(
            "maxTokens and maxBatch must be positive, got [8, -1]",
            expectThrows(IllegalArgumentException.class, () -> BatchPlanner.plan(new int[] { 1 }, 8, -1)).getMessage()
        );
        assertEquals(
            "batchSize must be positive, got [0]",
            expectThrows(IllegalArgumentException.class, () -> BatchPlanner.fixed(5, 0)).getMessage()
        );
    }

    public void testFixedAgainstBruteForce() {
        for (int run = 0; run < 100; run++) {
            int count = between(0, 500);
            int batchSize = between(1, 70);
            List<int[]> plan = BatchPlanner.fixed(count, batchSize);
            assertEquals((count + batchSize - 1) / batchSize, plan.size());
            int next = 0;
            for (int k = 0; k < plan.size(); k++) {
                int[] batch = plan.get(k);
                assertEquals(k < plan.size() - 1 ? batchSize : count - batchSize * (plan.size() - 1), batch.length);
                for (int index : batch) {
                    assertEquals("arrival order", next++, index);
                }
            }
            assertEquals(count, next);
        }
    }
}
