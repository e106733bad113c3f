/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * DJL reads its configuration from system properties. Inside a node it must never reach for the network (the
 * security agent denies sockets), must cache natives under the node's temp dir, and finds engines through the
 * thread context class loader, which on a search thread is not the plugin's.
 */
public final class DjlEnvironment {
    private DjlEnvironment() {}

    /** Called before the first tokenizer or engine is created; idempotent. */
    public static synchronized void ensureOffline() {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        if (System.getProperty("DJL_CACHE_DIR") == null) {
            String tmp = System.getProperty("java.io.tmpdir");
            System.setProperty("DJL_CACHE_DIR", Path.of(tmp, "djl-cache").toString());
        }
    }

    /** Work that creates DJL objects; runs with the plugin's class loader as context loader. */
    @FunctionalInterface
    public interface IOSupplier<T> {
        T get() throws IOException;
    }

    public static <T> T withPluginClassLoader(IOSupplier<T> work) throws IOException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(DjlEnvironment.class.getClassLoader());
        try {
            return work.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}
