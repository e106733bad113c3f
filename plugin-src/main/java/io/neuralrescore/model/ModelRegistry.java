/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;

/**
 * The node's models. A model loads on first use (or at start, when preloaded), is shared by every search on the
 * node, and is closed when the node closes and the last search holding it lets go. Lookups go through the
 * configured models folder first, then the models shipped inside the plugin.
 */
public final class ModelRegistry implements Closeable {
    private static final Logger logger = LogManager.getLogger(ModelRegistry.class);

    private final List<Path> roots;
    private final ModelLoader loader;
    private final RescoreStats stats;
    private final Map<String, CompletableFuture<Entry>> loaded = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ModelRegistry(List<Path> roots, ModelLoader loader, RescoreStats stats) {
        this.roots = List.copyOf(roots);
        this.loader = loader;
        this.stats = stats;
    }

    /** Folder of a model, searching the roots in order; throws naming the id when no root has it. */
    public Path folder(String id) {
        ModelIds.validate(id);
        for (Path root : roots) {
            Path candidate = root.resolve(id);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("unknown model [" + id + "]: no folder [" + id + "] in " + roots);
    }

    /** The manifest of a model, loaded or not. */
    public ModelManifest manifest(String id) {
        CompletableFuture<Entry> f = loaded.get(id);
        if (f != null && f.isDone() && f.isCompletedExceptionally() == false) {
            return f.join().model.manifest();
        }
        Path folder = folder(id);
        try {
            return ModelManifest.read(id, folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest of model [" + id + "]", e);
        }
    }

    /**
     * Checks that {@code id} names a model of {@code expected} type, for request validation before any shard works.
     *
     * @param clause name of the clause asking, used in the error message
     */
    public ModelManifest requireType(String id, ModelType expected, String clause) {
        ModelManifest manifest = manifest(id);
        if (manifest.type() != expected) {
            throw new IllegalArgumentException(
                "["
                    + clause
                    + "] model ["
                    + id
                    + "] is a ["
                    + manifest.type().jsonName()
                    + "] model, but ["
                    + clause
                    + "] needs a ["
                    + expected.jsonName()
                    + "] model"
            );
        }
        return manifest;
    }

    /** Leases a model, loading it if needed. Close the lease when done; the model stays cached for later searches. */
    public ModelLease acquire(String id) {
        ModelIds.validate(id);
        while (true) {
            if (closed) {
                throw new IllegalStateException("model registry is closed");
            }
            CompletableFuture<Entry> future = loaded.get(id);
            if (future == null) {
                CompletableFuture<Entry> mine = new CompletableFuture<>();
                future = loaded.putIfAbsent(id, mine);
                if (future == null) {
                    future = mine;
                    load(id, mine);
                }
            }
            Entry entry;
            try {
                entry = future.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while loading model [" + id + "]", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("failed to load model [" + id + "]: " + cause.getMessage(), cause);
            }
            if (entry.tryRetain()) {
                return new ModelLease(entry);
            }
            // the entry was retired between lookup and retain (node closing); loop to fail or reload
            loaded.remove(id, future);
        }
    }

    private void load(String id, CompletableFuture<Entry> future) {
        long start = System.nanoTime();
        try {
            ModelManifest manifest = ModelManifest.read(id, folder(id));
            LoadedModel model = loader.load(manifest, folder(id));
            stats.increment(StatName.MODEL_LOADS);
            logger.info(
                "loaded model [{}] of type [{}] on [{}] in [{}] ms",
                id,
                manifest.type().jsonName(),
                model.device(),
                (System.nanoTime() - start) / 1_000_000
            );
            future.complete(new Entry(model));
        } catch (Exception e) {
            stats.increment(StatName.MODEL_LOAD_FAILURES);
            loaded.remove(id, future); // the next search retries, e.g. after the operator fixes the folder
            RuntimeException failure = e instanceof IllegalArgumentException iae
                ? iae
                : new IllegalStateException("failed to load model [" + id + "]: " + e.getMessage(), e);
            future.completeExceptionally(failure);
        }
    }

    /**
     * Drops a model from the cache: it is closed as soon as the searches holding a lease on it finish, and the next
     * {@link #acquire} loads it again from its folder (picking up replaced files). A load in progress is dropped
     * once it completes. Returns whether the model was loaded or loading.
     */
    public boolean unload(String id) {
        ModelIds.validate(id);
        CompletableFuture<Entry> future = loaded.remove(id);
        if (future == null) {
            return false;
        }
        future.thenAccept(Entry::retire);
        stats.increment(StatName.MODEL_UNLOADS);
        logger.info("unloaded model [{}]", id);
        return true;
    }

    /** Ids of every model visible in the roots (first root wins on duplicates), with loaded models' devices. */
    public Map<String, ModelInfo> list() {
        Map<String, ModelInfo> out = new TreeMap<>();
        for (Path root : roots) {
            if (Files.isDirectory(root) == false) {
                continue;
            }
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
                for (Path dir : dirs) {
                    String id = dir.getFileName().toString();
                    if (out.containsKey(id)) {
                        continue;
                    }
                    out.put(id, describe(id, dir));
                }
            } catch (IOException e) {
                logger.warn("cannot list models under [{}]", root, e);
            }
        }
        return out;
    }

    private ModelInfo describe(String id, Path dir) {
        CompletableFuture<Entry> f = loaded.get(id);
        String device = null;
        if (f != null && f.isDone() && f.isCompletedExceptionally() == false) {
            device = f.join().model.device();
        }
        try {
            ModelManifest m = ModelManifest.read(id, dir);
            return new ModelInfo(id, m.type().jsonName(), dir.toString(), device != null, device, m.description(), null);
        } catch (Exception e) {
            return new ModelInfo(id, null, dir.toString(), false, null, null, e.getMessage());
        }
    }

    /** One row of the models listing. {@code error} is set when the manifest cannot be read. */
    public record ModelInfo(
        String id,
        String type,
        String path,
        boolean loaded,
        String device,
        String description,
        String error
    ) {}

    public List<Path> roots() {
        return roots;
    }

    public RescoreStats stats() {
        return stats;
    }

    @Override
    public void close() {
        closed = true;
        List<CompletableFuture<Entry>> all = new ArrayList<>(loaded.values());
        loaded.clear();
        for (CompletableFuture<Entry> f : all) {
            f.thenAccept(Entry::retire);
        }
    }

    /** A loaded model and how many leases hold it; closed when retired and unheld. */
    static final class Entry {
        final LoadedModel model;
        private int refs;
        private boolean retired;

        Entry(LoadedModel model) {
            this.model = model;
        }

        synchronized boolean tryRetain() {
            if (retired) {
                return false;
            }
            refs++;
            return true;
        }

        void release() {
            boolean closeNow;
            synchronized (this) {
                refs--;
                assert refs >= 0 : "released more than retained";
                closeNow = retired && refs == 0;
            }
            if (closeNow) {
                model.close();
            }
        }

        void retire() {
            boolean closeNow;
            synchronized (this) {
                if (retired) {
                    return;
                }
                retired = true;
                closeNow = refs == 0;
            }
            if (closeNow) {
                model.close();
            }
        }

        synchronized int refs() {
            return refs;
        }
    }
}
