/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Groups sequences into inference batches. Length bucketing sorts by length so each batch pads to nearly its own
 * length, and the token budget (batch size times padded length) keeps batches of long texts small and batches of
 * short ones large. Measured on MiniLM-L6, this roughly doubles throughput over fixed-size batches in arrival order.
 */
public final class BatchPlanner {
    private BatchPlanner() {}

    /**
     * Length-bucketed batches of indices into {@code lengths}. Each batch lists its members longest first; its padded
     * token count stays within {@code maxTokens}, except that a single sequence longer than the budget is a batch alone.
     */
    public static List<int[]> plan(int[] lengths, int maxTokens, int maxBatch) {
        return plan(lengths, maxTokens, maxBatch, 1.0);
    }

    /**
     * As {@link #plan(int[], int, int)}, and a batch also stops growing when the share of padding tokens in it would
     * exceed {@code maxPadding} (0 to 1; 1 = no limit). On CPU a larger batch gains little over a smaller one, but
     * every padding token costs as much as a real one, so a tight limit wins for windows whose lengths vary.
     */
    public static List<int[]> plan(int[] lengths, int maxTokens, int maxBatch, double maxPadding) {
        if (maxPadding < 0 || maxPadding > 1 || Double.isNaN(maxPadding)) {
            throw new IllegalArgumentException("maxPadding must be within [0, 1], got [" + maxPadding + "]");
        }
        if (maxTokens < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("maxTokens and maxBatch must be positive, got [" + maxTokens + ", " + maxBatch + "]");
        }
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // stable sort: equal lengths keep arrival order, so plans are deterministic
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
        List<int[]> batches = new ArrayList<>();
        int start = 0;
        while (start < order.length) {
            int padded = Math.max(1, lengths[order[start]]);
            int size = 1;
            long real = padded;
            while (start + size < order.length && size < maxBatch && (long) (size + 1) * padded <= maxTokens) {
                long withNext = real + Math.max(1, lengths[order[start + size]]);
                long paddedWithNext = (long) (size + 1) * padded;
                if (paddedWithNext - withNext > maxPadding * paddedWithNext) {
                    break;
                }
                real = withNext;
                size++;
            }
            int[] batch = new int[size];
            for (int j = 0; j < size; j++) {
                batch[j] = order[start + j];
            }
            batches.add(batch);
            start += size;
        }
        return batches;
    }

    /** Fixed-size batches in arrival order: the padded baseline benchmarks compare against. */
    public static List<int[]> fixed(int count, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be positive, got [" + batchSize + "]");
        }
        List<int[]> batches = new ArrayList<>();
        for (int start = 0; start < count; start += batchSize) {
            int size = Math.min(batchSize, count - start);
            int[] batch = new int[size];
            for (int j = 0; j < size; j++) {
                batch[j] = start + j;
            }
            batches.add(batch);
        }
        return batches;
    }
}
