/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.rescore;

import org.apache.lucene.util.SetOnce;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.threadpool.ThreadPool;

import java.util.function.Supplier;

/**
 * Runs a query encoding once per request on the coordinating node, as an async rewrite action (on the generic pool,
 * since inference waits on the inference pool). The rewritten clause carries the result to every shard.
 */
public final class CoordinatorEncoding {
    private CoordinatorEncoding() {}

    /** True when {@code ctx} is the coordinator's rewrite, where async actions run once per request. */
    public static boolean onCoordinator(QueryRewriteContext ctx) {
        return ctx.convertToCoordinatorContext() != null;
    }

    /** Registers {@code work}; the returned supplier yields null until the action has run. */
    public static <T> Supplier<T> register(QueryRewriteContext ctx, Supplier<T> work) {
        SetOnce<T> result = new SetOnce<>();
        ctx.registerAsyncAction((client, listener) -> client.threadPool().executor(ThreadPool.Names.GENERIC).execute(() -> {
            try {
                result.set(work.get());
                listener.onResponse(null);
            } catch (Exception e) {
                listener.onFailure(e);
            }
        }));
        return result::get;
    }
}
