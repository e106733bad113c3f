/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import org.opensearch.core.tasks.TaskCancelledException;
import org.opensearch.test.OpenSearchTestCase;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.neuralrescore.model.Encoded;
import io.neuralrescore.model.InferenceCancellation;
import io.neuralrescore.stats.RescoreStats;

/** A cancelled search stops its inference within one batch; outside a scope every batch runs. */
public class InferenceRunnerCancellationTests extends OpenSearchTestCase {
    private static final int SEQUENCES = 40;

    private ExecutorService pool;

    @Override
    public void setUp() throws Exception {
        super.setUp();
        pool = Executors.newSingleThreadExecutor(); // like the default inference pool: one thread, batches in order
    }

    @Override
    public void tearDown() throws Exception {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        super.tearDown();
    }

    /** 40 sequences of 4 tokens, at most 4 per batch: 10 batches. */
    private static Encoded[] encodings() {
        Encoded[] e = new Encoded[SEQUENCES];
        for (int i = 0; i < e.length; i++) {
            e[i] = new Encoded(new long[] { 101, 7, 8, 102 }, new long[4]);
        }
        return e;
    }

    private InferenceRunner runner() {
        return new InferenceRunner(pool, new BatchLimits(8192, 4), new RescoreStats());
    }

    public void testEveryBatchRunsOutsideAScope() {
        AtomicInteger sequences = new AtomicInteger();
        runner().run(encodings(), (members, batch) -> sequences.addAndGet(members.length));
        assertEquals(SEQUENCES, sequences.get());
    }

    public void testCancellationDuringInferenceSkipsTheRemainingBatches() {
        AtomicBoolean cancelled = new AtomicBoolean();
        AtomicInteger batches = new AtomicInteger();
        int cancelAfter = between(1, 9);
        try (InferenceCancellation.Scope scope = InferenceCancellation.enter(cancelled::get)) {
            expectThrows(TaskCancelledException.class, () -> runner().run(encodings(), (members, batch) -> {
                if (batches.incrementAndGet() == cancelAfter) {
                    cancelled.set(true); // the search task is cancelled while this batch runs
                }
            }));
        }
        assertEquals("batches after the cancellation are skipped", cancelAfter, batches.get());
        // the scope is closed: the same runner scores everything again
        AtomicInteger after = new AtomicInteger();
        runner().run(encodings(), (members, batch) -> after.incrementAndGet());
        assertEquals(10, after.get());
    }

    public void testAlreadyCancelledSearchRunsNoBatch() {
        AtomicInteger batches = new AtomicInteger();
        try (InferenceCancellation.Scope scope = InferenceCancellation.enter(() -> true)) {
            expectThrows(TaskCancelledException.class, () -> runner().run(encodings(), (members, batch) -> batches.incrementAndGet()));
        }
        assertEquals(0, batches.get());
    }

    public void testScopesNest() {
        AtomicBoolean outer = new AtomicBoolean(true);
        try (InferenceCancellation.Scope a = InferenceCancellation.enter(outer::get)) {
            try (InferenceCancellation.Scope b = InferenceCancellation.enter(() -> false)) {
                assertFalse(InferenceCancellation.current().getAsBoolean());
            }
            assertTrue("closing the inner scope restores the outer one", InferenceCancellation.current().getAsBoolean());
        }
        assertFalse("no scope: never cancelled", InferenceCancellation.current().getAsBoolean());
    }
}
