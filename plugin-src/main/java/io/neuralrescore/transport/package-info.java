/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Transport-level hooks.
 * <ul>
 * <li>{@link io.neuralrescore.transport.DroppedHitsActionFilter}: removes hits dropped by {@code min_score} from search responses.</li>
 * </ul>
 */
package io.neuralrescore.transport;
