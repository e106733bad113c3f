/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Transport-level hooks.
 * <ul>
 * <li>{@link io.neuralrescore.transport.DroppedHitsActionFilter}: removes hits dropped by {@code min_score} from search responses.</li>
 * <li>{@link io.neuralrescore.transport.UnloadModelAction}: unloads a model on every node, so its next use reloads it
 * from its folder.</li>
 * </ul>
 */
package io.neuralrescore.transport;
