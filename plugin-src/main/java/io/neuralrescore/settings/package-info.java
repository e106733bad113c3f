/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Node settings.
 * <ul>
 * <li>{@link io.neuralrescore.settings.RescoreSettings}: every {@code plugins.rescore.*} setting with its bounds.</li>
 * </ul>
 */
package io.neuralrescore.settings;
