/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.stats;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Per-node counters, incremented where the work happens. */
public final class RescoreStats {
    private final EnumMap<StatName, LongAdder> counters = new EnumMap<>(StatName.class);

    public RescoreStats() {
        for (StatName name : StatName.values()) {
            counters.put(name, new LongAdder());
        }
    }

    public void increment(StatName name) {
        counters.get(name).increment();
    }

    public void add(StatName name, long delta) {
        counters.get(name).add(delta);
    }

    public long get(StatName name) {
        return counters.get(name).sum();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (StatName name : StatName.values()) {
            out.put(name.key(), get(name));
        }
        return out;
    }
}
