/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.InferenceCancellation;
import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;

/**
 * Plans batches over encoded sequences and runs them on the inference thread pool, so native inference never runs
 * on search threads and the pool's size bounds how many batches compete for cores. The caller waits for all batches.
 * Each batch first checks the caller's {@link InferenceCancellation} scope: once the search is cancelled, batches
 * not yet started are skipped and the caller gets a {@code TaskCancelledException}.
 */
public final class InferenceRunner {
    /** Work for one batch; writes its results into the caller's arrays at {@code members}' positions. */
    @FunctionalInterface
    public interface BatchWork {
        void run(int[] members, PaddedBatch batch) throws Exception;
    }

    private final Executor executor;
    private final BatchLimits limits;
    private final RescoreStats stats;

    /** @param executor the inference pool, or null to run on the calling thread (tools and tests) */
    public InferenceRunner(Executor executor, BatchLimits limits, RescoreStats stats) {
        this.executor = executor;
        this.limits = limits;
        this.stats = stats;
    }

    public void run(Encoded[] encodings, BatchWork work) {
        run(encodings, 0, work);
    }

    /** As {@link #run(Encoded[], BatchWork)}, with at most {@code maxBatch} sequences per batch when it is positive. */
    public void run(Encoded[] encodings, int maxBatch, BatchWork work) {
        int[] lengths = new int[encodings.length];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = encodings[i].length();
        }
        int size = maxBatch > 0 ? Math.min(maxBatch, limits.maxSize()) : limits.maxSize();
        List<int[]> plan = BatchPlanner.plan(lengths, limits.maxTokens(), size, limits.maxPadding());
        BooleanSupplier cancelled = InferenceCancellation.current();
        InferenceCancellation.check(cancelled);
        List<CompletableFuture<Void>> futures = new ArrayList<>(plan.size());
        for (int[] members : plan) {
            Runnable task = () -> {
                InferenceCancellation.check(cancelled);
                runOne(encodings, members, work);
            };
            if (executor == null) {
                task.run();
            } else {
                futures.add(CompletableFuture.runAsync(task, executor));
            }
        }
        try {
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("inference failed: " + cause.getMessage(), cause);
        }
    }

    private void runOne(Encoded[] encodings, int[] members, BatchWork work) {
        PaddedBatch batch = PaddedBatch.of(encodings, members);
        long start = System.nanoTime();
        try {
            work.run(members, batch);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("inference failed: " + e.getMessage(), e);
        }
        stats.add(StatName.INFERENCE_NANOS, System.nanoTime() - start);
        stats.increment(StatName.INFERENCE_BATCHES);
        stats.add(StatName.INFERENCE_SEQUENCES, batch.size());
        stats.add(StatName.INFERENCE_TOKENS, batch.realTokens());
        stats.add(StatName.PADDED_TOKENS, (long) batch.size() * batch.length() - batch.realTokens());
    }
}
