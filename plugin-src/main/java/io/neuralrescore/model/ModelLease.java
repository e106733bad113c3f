/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model;

import java.util.concurrent.atomic.AtomicBoolean;

/** A search's hold on a loaded model; closing it twice is harmless. */
public final class ModelLease implements AutoCloseable {
    private final ModelRegistry.Entry entry;
    private final AtomicBoolean released = new AtomicBoolean();

    ModelLease(ModelRegistry.Entry entry) {
        this.entry = entry;
    }

    public LoadedModel model() {
        if (released.get()) {
            throw new IllegalStateException("model lease already released");
        }
        return entry.model;
    }

    /** The model as the given capability, or an error naming what the clause needed. */
    public <T> T as(Class<T> kind, String clause) {
        LoadedModel model = model();
        if (kind.isInstance(model) == false) {
            throw new IllegalArgumentException(
                "[" + clause + "] model [" + model.manifest().id() + "] of type [" + model.manifest().type().jsonName() + "] cannot serve it"
            );
        }
        return kind.cast(model);
    }

    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            entry.release();
        }
    }
}
