/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Plugin entry point.
 * <ul>
 * <li>{@link io.neuralrescore.plugin.NeuralRescorePlugin}: registers rescorers, settings, the inference thread pool,
 * the search filter and REST handlers. No logic.</li>
 * </ul>
 */
package io.neuralrescore.plugin;
