/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Pure scoring math, free of OpenSearch types so it can be tested against brute force.
 * <ul>
 * <li>{@link io.neuralrescore.scoring.ScoreMode}: combining first-pass and model scores.</li>
 * <li>{@link io.neuralrescore.scoring.Normalization}: optional sigmoid on raw model scores.</li>
 * <li>{@link io.neuralrescore.scoring.VectorMath}: cosine, dot, masked mean pooling, L2 normalization.</li>
 * </ul>
 */
package io.neuralrescore.scoring;
