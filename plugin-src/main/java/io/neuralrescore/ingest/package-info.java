/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Ingest processors.
 * <ul>
 * <li>{@link io.neuralrescore.ingest.EncodingProcessor}: {@code late_interaction} (token vectors) and
 * {@code text_embedding} (one vector) encoding of text fields at index time.</li>
 * </ul>
 */
package io.neuralrescore.ingest;
