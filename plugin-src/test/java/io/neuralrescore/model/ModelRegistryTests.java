/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import org.apache.lucene.tests.util.LuceneTestCase;
import org.opensearch.test.OpenSearchTestCase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import io.neuralrescore.stats.RescoreStats;
import io.neuralrescore.stats.StatName;

/** The registry's caching and reference counting, with a fake loader: no ONNX Runtime involved. */
// The randomized test file system (ExtrasFS) sometimes adds an empty "extra0" folder to temp dirs; the listing
// reports every folder under a models root (a folder without a manifest shows up with an error), so it must not run here.
@LuceneTestCase.SuppressFileSystems("ExtrasFS")
public class ModelRegistryTests extends OpenSearchTestCase {

    /** A model that counts how often it is closed. */
    static final class FakeModel implements CrossEncoder {
        final ModelManifest manifest;
        final AtomicInteger closes = new AtomicInteger();

        FakeModel(ModelManifest manifest) {
            this.manifest = manifest;
        }

        @Override
        public ModelManifest manifest() {
            return manifest;
        }

        @Override
        public String device() {
            return "fake:" + manifest.id();
        }

        @Override
        public float[] score(String query, List<String> texts, int maxLength) {
            return new float[texts.size()];
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }
    }

    /** A loader that counts its calls, can be told to fail, and keeps what it made. */
    static final class FakeLoader implements ModelLoader {
        final AtomicInteger calls = new AtomicInteger();
        final List<FakeModel> made = new CopyOnWriteArrayList<>();
        volatile Exception failWith;
        volatile long delayMillis;

        @Override
        public LoadedModel load(ModelManifest manifest, Path folder) throws IOException {
            calls.incrementAndGet();
            assertEquals(manifest.id(), folder.getFileName().toString());
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Exception e = failWith;
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            FakeModel model = new FakeModel(manifest);
            made.add(model);
            return model;
        }
    }

    private Path root1;
    private Path root2;
    private FakeLoader loader;
    private RescoreStats stats;
    private ModelRegistry registry;

    @Override
    public void setUp() throws Exception {
        super.setUp();
        root1 = createTempDir();
        root2 = createTempDir();
        loader = new FakeLoader();
        stats = new RescoreStats();
        registry = new ModelRegistry(List.of(root1, root2), loader, stats);
        writeModel(root1, "ce", "{\"type\": \"cross_encoder\", \"description\": \"first root\"}");
        writeModel(root2, "bi", "{\"type\": \"bi_encoder\", \"dimension\": 4}");
    }

    @Override
    public void tearDown() throws Exception {
        registry.close();
        super.tearDown();
    }

    private static void writeModel(Path root, String id, String manifest) throws IOException {
        Path dir = Files.createDirectories(root.resolve(id));
        Files.writeString(dir.resolve(ModelManifest.FILE_NAME), manifest);
    }

    public void testLoadsOnceUnderConcurrentAcquire() throws Exception {
        loader.delayMillis = 100; // keep the load in flight while the other threads arrive
        int threads = between(4, 12);
        CyclicBarrier barrier = new CyclicBarrier(threads);
        List<ModelLease> leases = new CopyOnWriteArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    barrier.await();
                    leases.add(registry.acquire("ce"));
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            t.start();
            started.add(t);
        }
        for (Thread t : started) {
            t.join();
        }
        assertEquals(List.of(), failures);
        assertEquals(threads, leases.size());
        assertEquals("one load for all threads", 1, loader.calls.get());
        assertEquals(1, stats.get(StatName.MODEL_LOADS));
        FakeModel model = loader.made.get(0);
        for (ModelLease lease : leases) {
            assertSame(model, lease.model());
            lease.close();
        }
        assertEquals("cached, not closed, while the registry is open", 0, model.closes.get());
        try (ModelLease again = registry.acquire("ce")) {
            assertSame(model, again.model());
        }
        assertEquals("later searches reuse the cached model", 1, loader.calls.get());
    }

    public void testModelClosedOnlyAfterRegistryCloseAndLastLease() {
        ModelLease first = registry.acquire("ce");
        ModelLease second = registry.acquire("ce");
        FakeModel model = loader.made.get(0);
        registry.close();
        assertEquals("leases still hold it", 0, model.closes.get());
        first.close();
        first.close(); // harmless: does not release the second lease's hold
        assertEquals(0, model.closes.get());
        assertSame(model, second.model());
        second.close();
        assertEquals(1, model.closes.get());
        second.close();
        registry.close();
        assertEquals("closed exactly once", 1, model.closes.get());
    }

    public void testUnloadClosesAfterTheLastLeaseAndTheNextAcquireReloads() throws IOException {
        assertFalse("not loaded yet", registry.unload("ce"));
        ModelLease held = registry.acquire("ce");
        FakeModel first = loader.made.get(0);
        assertTrue(registry.list().get("ce").loaded());
        assertTrue(registry.unload("ce"));
        assertFalse("listed as not loaded at once", registry.list().get("ce").loaded());
        assertEquals("a search holding it keeps it", 0, first.closes.get());
        assertSame(first, held.model());
        // the operator replaced the model's files: the next search loads the new manifest
        writeModel(root1, "ce", "{\"type\": \"cross_encoder\", \"description\": \"replaced\"}");
        try (ModelLease next = registry.acquire("ce")) {
            assertNotSame(first, next.model());
            assertEquals("replaced", next.model().manifest().description());
        }
        assertEquals(2, loader.calls.get());
        held.close();
        assertEquals("closed once its last lease is released", 1, first.closes.get());
        assertFalse("a second unload of the old one finds nothing", loader.made.get(1).closes.get() > 0);
        assertEquals(1, stats.get(StatName.MODEL_UNLOADS));
        assertTrue(registry.unload("ce"));
        assertEquals("no lease: closed at once", 1, loader.made.get(1).closes.get());
        assertFalse(registry.unload("ce"));
        assertFalse("unknown ids are simply not loaded", registry.unload("nope"));
        assertEquals(
            "model id [../ce] must not contain path separators",
            expectThrows(IllegalArgumentException.class, () -> registry.unload("../ce")).getMessage()
        );
    }

    public void testRegistryCloseWithoutLeasesClosesAtOnce() {
        registry.acquire("ce").close();
        FakeModel model = loader.made.get(0);
        assertEquals(0, model.closes.get());
        registry.close();
        assertEquals(1, model.closes.get());
    }

    public void testLeaseCannotBeUsedAfterClose() {
        ModelLease lease = registry.acquire("ce");
        lease.close();
        assertEquals("model lease already released", expectThrows(IllegalStateException.class, lease::model).getMessage());
        assertEquals(
            "model lease already released",
            expectThrows(IllegalStateException.class, () -> lease.as(CrossEncoder.class, "cross_encoder")).getMessage()
        );
    }

    public void testLeaseAsChecksTheCapability() {
        try (ModelLease lease = registry.acquire("ce")) {
            assertSame(loader.made.get(0), lease.as(CrossEncoder.class, "cross_encoder"));
            assertEquals(
                "[text_embedding] model [ce] of type [cross_encoder] cannot serve it",
                expectThrows(IllegalArgumentException.class, () -> lease.as(TextEmbedder.class, "text_embedding")).getMessage()
            );
        }
    }

    public void testAcquireAfterCloseFails() {
        registry.close();
        assertEquals("model registry is closed", expectThrows(IllegalStateException.class, () -> registry.acquire("ce")).getMessage());
        assertEquals(0, loader.calls.get());
    }

    public void testFailedLoadIsRetried() {
        loader.failWith = new IOException("disk on fire");
        assertEquals(
            "failed to load model [ce]: disk on fire",
            expectThrows(IllegalStateException.class, () -> registry.acquire("ce")).getMessage()
        );
        assertEquals(1, stats.get(StatName.MODEL_LOAD_FAILURES));
        assertEquals(0, stats.get(StatName.MODEL_LOADS));

        // an argument error (bad graph, wrong inputs) reaches the caller as is, so the request gets a 400
        loader.failWith = new IllegalArgumentException("model [ce] has no output [logits]");
        assertEquals(
            "model [ce] has no output [logits]",
            expectThrows(IllegalArgumentException.class, () -> registry.acquire("ce")).getMessage()
        );
        assertEquals(2, stats.get(StatName.MODEL_LOAD_FAILURES));

        loader.failWith = null;
        try (ModelLease lease = registry.acquire("ce")) {
            assertEquals("fake:ce", lease.model().device());
        }
        assertEquals(3, loader.calls.get());
        assertEquals(1, stats.get(StatName.MODEL_LOADS));
    }

    public void testBrokenManifestFailsTheLoadAndIsRetriedOnceFixed() throws IOException {
        writeModel(root1, "fixme", "{\"type\": \"cross_encoder\", \"max_length\": 1}");
        assertEquals(
            "invalid manifest for model [fixme]: [max_length] must be between 2 and 8192, got [1]",
            expectThrows(IllegalArgumentException.class, () -> registry.acquire("fixme")).getMessage()
        );
        assertEquals("the loader never saw it", 0, loader.calls.get());
        writeModel(root1, "fixme", "{\"type\": \"cross_encoder\", \"max_length\": 2}");
        try (ModelLease lease = registry.acquire("fixme")) {
            assertEquals(2, lease.model().manifest().maxLength());
        }
    }

    public void testUnknownAndInvalidIds() {
        assertEquals(
            "unknown model [nope]: no folder [nope] in " + List.of(root1, root2),
            expectThrows(IllegalArgumentException.class, () -> registry.acquire("nope")).getMessage()
        );
        assertEquals(
            "unknown model [nope]: no folder [nope] in " + List.of(root1, root2),
            expectThrows(IllegalArgumentException.class, () -> registry.manifest("nope")).getMessage()
        );
        assertEquals(
            "model id [../ce] must not contain path separators",
            expectThrows(IllegalArgumentException.class, () -> registry.acquire("../ce")).getMessage()
        );
        assertEquals(
            "model id [..] must not contain [..]",
            expectThrows(IllegalArgumentException.class, () -> registry.manifest("..")).getMessage()
        );
        assertEquals(0, loader.calls.get());
    }

    public void testFolderWithoutManifest() throws IOException {
        Files.createDirectories(root2.resolve("empty"));
        assertEquals(
            "model [empty] has no model.json in its folder",
            expectThrows(IllegalArgumentException.class, () -> registry.manifest("empty")).getMessage()
        );
    }

    public void testRequireType() {
        assertEquals(ModelType.CROSS_ENCODER, registry.requireType("ce", ModelType.CROSS_ENCODER, "cross_encoder").type());
        assertEquals(
            "[text_embedding] model [ce] is a [cross_encoder] model, but [text_embedding] needs a [bi_encoder] model",
            expectThrows(IllegalArgumentException.class, () -> registry.requireType("ce", ModelType.BI_ENCODER, "text_embedding"))
                .getMessage()
        );
        assertEquals(
            "[cross_encoder] model [bi] is a [bi_encoder] model, but [cross_encoder] needs a [cross_encoder] model",
            expectThrows(IllegalArgumentException.class, () -> registry.requireType("bi", ModelType.CROSS_ENCODER, "cross_encoder"))
                .getMessage()
        );
        assertEquals("validation does not load", 0, loader.calls.get());
    }

    public void testManifestOfUnloadedAndLoadedModel() throws IOException {
        ModelManifest m = registry.manifest("bi");
        assertEquals(ModelType.BI_ENCODER, m.type());
        assertEquals(4, m.dimension());
        assertEquals("reading a manifest does not load the model", 0, loader.calls.get());

        registry.acquire("ce").close();
        // once loaded, the manifest is the one the model runs with, whatever the folder says now
        writeModel(root1, "ce", "{\"type\": \"cross_encoder\", \"description\": \"edited\"}");
        assertEquals("first root", registry.manifest("ce").description());
        assertEquals("edited", ModelManifest.read("ce", root1.resolve("ce")).description());
    }

    public void testFirstRootWins() throws IOException {
        writeModel(root2, "ce", "{\"type\": \"bi_encoder\", \"dimension\": 2, \"description\": \"second root\"}");
        assertEquals(root1.resolve("ce"), registry.folder("ce"));
        assertEquals("first root", registry.manifest("ce").description());
        assertEquals(root2.resolve("bi"), registry.folder("bi"));
    }

    public void testList() throws IOException {
        writeModel(root2, "ce", "{\"type\": \"bi_encoder\", \"dimension\": 2, \"description\": \"second root\"}");
        writeModel(root1, "broken", "{\"type\": \"cross_encoder\", \"pooling\": \"mean\"}");
        writeModel(root2, "garbled", "{not json");
        Files.writeString(root1.resolve("stray-file.txt"), "not a model");
        registry.acquire("bi").close();

        Map<String, ModelRegistry.ModelInfo> list = registry.list();
        assertEquals(List.of("bi", "broken", "ce", "garbled"), new ArrayList<>(list.keySet()));
        assertEquals(
            new ModelRegistry.ModelInfo("bi", "bi_encoder", root2.resolve("bi").toString(), true, "fake:bi", "", null),
            list.get("bi")
        );
        assertEquals(
            new ModelRegistry.ModelInfo("ce", "cross_encoder", root1.resolve("ce").toString(), false, null, "first root", null),
            list.get("ce")
        );
        assertEquals(
            new ModelRegistry.ModelInfo(
                "broken",
                null,
                root1.resolve("broken").toString(),
                false,
                null,
                null,
                "invalid manifest for model [broken]: unknown keys [pooling] for model type [cross_encoder]"
            ),
            list.get("broken")
        );
        ModelRegistry.ModelInfo garbled = list.get("garbled");
        assertNull(garbled.type());
        assertFalse(garbled.loaded());
        assertTrue(garbled.error(), garbled.error().startsWith("invalid manifest for model [garbled]: is not valid JSON: "));
        assertEquals("listing loads nothing", 1, loader.calls.get());
    }

    public void testListSkipsMissingRoots() throws IOException {
        ModelRegistry withMissing = new ModelRegistry(List.of(root1.resolve("does-not-exist"), root2), loader, stats);
        assertEquals(List.of("bi"), new ArrayList<>(withMissing.list().keySet()));
        withMissing.close();
    }
}
