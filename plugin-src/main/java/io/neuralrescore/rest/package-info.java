/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * REST handlers.
 * <ul>
 * <li>{@link io.neuralrescore.rest.RestModelsAction}: lists the node's models and its counters.</li>
 * </ul>
 */
package io.neuralrescore.rest;
