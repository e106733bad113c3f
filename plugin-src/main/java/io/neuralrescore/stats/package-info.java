/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Node statistics.
 * <ul>
 * <li>{@link io.neuralrescore.stats.StatName}: stable snake_case counter names.</li>
 * <li>{@link io.neuralrescore.stats.RescoreStats}: the node's counters.</li>
 * </ul>
 */
package io.neuralrescore.stats;
