/*
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * Command-line tools in test scope (never run by the unit tests).
 * <ul>
 * <li>{@link io.neuralrescore.tools.EmbedDump}: embeds a JSONL/TSV file with a bi-encoder exactly as the plugin does and
 * writes a float32 matrix plus ids, for the Cosine Adapter trainer ({@code models/adapter/embed.sh}).</li>
 * </ul>
 */
package io.neuralrescore.tools;
