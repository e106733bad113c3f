/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.apache.lucene.index.QueryTimeout;
import org.apache.lucene.search.IndexSearcher;
import org.opensearch.core.tasks.TaskCancelledException;

import java.util.function.BooleanSupplier;

/**
 * Lets a search stop the model inference it started when its task is cancelled. A rescorer opens a {@link Scope}
 * on the search thread around its scoring; the inference runner reads it on that thread when it plans batches, and
 * every batch checks it before it starts (batches run on the inference pool), so a cancelled search stops within
 * one batch instead of scoring its whole window. Outside a scope nothing is ever cancelled.
 */
public final class InferenceCancellation {
    private static final BooleanSupplier NEVER = () -> false;
    private static final ThreadLocal<BooleanSupplier> CURRENT = new ThreadLocal<>();

    private InferenceCancellation() {}

    /** Open on the calling thread until closed; scopes nest (closing restores the outer one). */
    public static Scope enter(BooleanSupplier cancelled) {
        BooleanSupplier outer = CURRENT.get();
        CURRENT.set(cancelled == null ? NEVER : cancelled);
        return () -> {
            if (outer == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(outer);
            }
        };
    }

    /**
     * The search's own cancellation checks: OpenSearch registers its task-cancellation check (low-level cancellation,
     * on by default) on the shard's searcher, which exposes them as Lucene's {@link QueryTimeout}. The search
     * timeout is deregistered before rescoring, so only a cancelled task ends a rescore early, as in OpenSearch's own
     * rescorers.
     */
    public static Scope enter(IndexSearcher searcher) {
        QueryTimeout timeout = searcher == null ? null : searcher.getTimeout();
        return enter(timeout == null ? NEVER : timeout::shouldExit);
    }

    /** The check of the calling thread's innermost scope (never cancelled outside a scope). */
    public static BooleanSupplier current() {
        BooleanSupplier c = CURRENT.get();
        return c == null ? NEVER : c;
    }

    /** Throws if {@code cancelled} says so. */
    public static void check(BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            throw new TaskCancelledException("search cancelled: model inference stopped before its remaining batches");
        }
    }

    /** An open scope; closing it does not throw. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
