/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Query extension: the plugin's scorers in the query phase.
 * <ul>
 * <li>{@link io.neuralrescore.query.LateInteractionQueryBuilder}: the {@code late_interaction} query (ColBERT MaxSim over an inner query's hits).</li>
 * <li>{@link io.neuralrescore.query.LateInteractionValuesSource}: per-document MaxSim combined with the inner score.</li>
 * </ul>
 */
package io.neuralrescore.query;
