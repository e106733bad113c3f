/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.settings;

import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Setting.Property;
import org.opensearch.common.util.concurrent.OpenSearchExecutors;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** Node settings of the plugin. Static ones are read once at node start; dynamic ones update live. */
public final class RescoreSettings {
    private RescoreSettings() {}

    /** Name of the thread pool that runs model inference (sized by {@code thread_pool.neural_rescore.*}). */
    public static final String THREAD_POOL = "neural_rescore";

    /**
     * Folder with one sub-folder per model id. Empty means {@code <config>/rescore-models}. Models shipped inside the
     * plugin (under the plugin's {@code models/} folder) are found too; a folder here with the same id wins.
     */
    public static final Setting<String> MODELS_PATH = Setting.simpleString("plugins.rescore.models_path", Property.NodeScope);

    /**
     * Folder of the models shipped with the plugin. Empty means the plugin's own {@code models/} folder; tests and
     * tools point it elsewhere.
     */
    public static final Setting<String> BUNDLED_MODELS_PATH = Setting.simpleString("plugins.rescore.bundled_models_path", Property.NodeScope);

    /** Model ids to load when the node starts instead of on first use, so the first search pays no load time. */
    public static final Setting<List<String>> PRELOAD = Setting.listSetting(
        "plugins.rescore.preload",
        List.of(),
        Function.identity(),
        Property.NodeScope
    );

    /** Where inference runs. {@code gpu} uses CUDA and falls back to CPU with a logged warning when CUDA is unavailable. */
    public static final Setting<String> DEVICE = new Setting<>("plugins.rescore.device", "cpu", value -> {
        String v = value.toLowerCase(Locale.ROOT);
        if (v.equals("cpu") == false && v.equals("gpu") == false) {
            throw new IllegalArgumentException("[plugins.rescore.device] must be [cpu] or [gpu], got [" + value + "]");
        }
        return v;
    }, Property.NodeScope);

    /** CUDA device ordinal used when {@link #DEVICE} is {@code gpu}. */
    public static final Setting<Integer> GPU_DEVICE_ID = Setting.intSetting("plugins.rescore.gpu_device_id", 0, 0, Property.NodeScope);

    /** ONNX Runtime intra-op threads per session. Defaults to the node's allocated processors. */
    public static final Setting<Integer> INTRA_OP_THREADS = new Setting<>(
        "plugins.rescore.onnx.intra_op_threads",
        s -> Integer.toString(OpenSearchExecutors.allocatedProcessors(s)),
        s -> Setting.parseInt(s, 1, 256, "plugins.rescore.onnx.intra_op_threads"),
        Property.NodeScope
    );

    /** ONNX Runtime inter-op threads per session (parallel graph branches; BERT-style graphs gain little from more). */
    public static final Setting<Integer> INTER_OP_THREADS = Setting.intSetting("plugins.rescore.onnx.inter_op_threads", 1, 1, 64, Property.NodeScope);

    /**
     * Token budget of one inference batch: batch size times padded length stays at or under it. Inputs are
     * length-bucketed, so padding waste stays small.
     */
    public static final Setting<Integer> BATCH_MAX_TOKENS = Setting.intSetting(
        "plugins.rescore.batch.max_tokens",
        8192,
        64,
        1 << 20,
        Property.NodeScope,
        Property.Dynamic
    );

    /** Largest number of sequences in one inference batch, whatever the token budget. */
    public static final Setting<Integer> BATCH_MAX_SIZE = Setting.intSetting(
        "plugins.rescore.batch.max_size",
        64,
        1,
        4096,
        Property.NodeScope,
        Property.Dynamic
    );

    /**
     * Largest share of padding tokens in one inference batch (0 to 1): a batch of length-sorted inputs stops growing
     * before its padding would pass it. Padding costs as much as real tokens while bigger batches gain little on CPU:
     * measured on a MiniLM-L6 cross-encoder over TREC DL windows of 100, 0.05 gave 1.9x the pairs/s of no limit.
     */
    public static final Setting<Double> BATCH_MAX_PADDING = Setting.doubleSetting(
        "plugins.rescore.batch.max_padding",
        0.05,
        0.0,
        1.0,
        Property.NodeScope,
        Property.Dynamic
    );

    public static List<Setting<?>> all() {
        return List.of(
            MODELS_PATH,
            BUNDLED_MODELS_PATH,
            PRELOAD,
            DEVICE,
            GPU_DEVICE_ID,
            INTRA_OP_THREADS,
            INTER_OP_THREADS,
            BATCH_MAX_TOKENS,
            BATCH_MAX_SIZE,
            BATCH_MAX_PADDING
        );
    }
}
