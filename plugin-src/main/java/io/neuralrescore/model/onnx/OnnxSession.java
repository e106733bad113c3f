/*
 * SPDX-License-Identifier: Apache-2.0
 */
package io.neuralrescore.model.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.Closeable;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import io.neuralrescore.model.ModelManifest;

/** One ONNX Runtime session. {@link #run} is thread-safe; native tensors are closed before it returns. */
public final class OnnxSession implements Closeable {
    private static final Logger logger = LogManager.getLogger(OnnxSession.class);

    /** A float output copied to the heap, with its shape. */
    public record Output(float[] values, long[] shape) {}

    private final OrtEnvironment env;
    private final OrtSession session;
    private final String device;
    private final ModelManifest.InputNames inputs;
    private final String outputName;

    private OnnxSession(OrtEnvironment env, OrtSession session, String device, ModelManifest.InputNames inputs, String outputName) {
        this.env = env;
        this.session = session;
        this.device = device;
        this.inputs = inputs;
        this.outputName = outputName;
    }

    /** Opens the manifest's model file, on CUDA when asked and available, and checks its inputs and output exist. */
    public static OnnxSession open(ModelManifest manifest, Path folder, OnnxOptions options) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path file = folder.resolve(manifest.modelFile());
        if (file.toFile().isFile() == false) {
            throw new IllegalArgumentException("model [" + manifest.id() + "] has no model file [" + manifest.modelFile() + "]");
        }
        DeviceSelection.Decision decision = DeviceSelection.decide(options.device(), OrtEnvironment.getAvailableProviders());
        if (decision.warning() != null) {
            logger.warn(decision.warning());
        }
        OrtSession session = null;
        String device = "cpu";
        if (decision.useCuda()) {
            try (OrtSession.SessionOptions so = sessionOptions(options)) {
                so.addCUDA(options.gpuDeviceId());
                session = env.createSession(file.toString(), so);
                device = "cuda:" + options.gpuDeviceId();
            } catch (OrtException e) {
                logger.warn(DeviceSelection.cudaFailureWarning(manifest.id(), e));
            }
        }
        if (session == null) {
            try (OrtSession.SessionOptions so = sessionOptions(options)) {
                session = env.createSession(file.toString(), so);
            }
        }
        try {
            check(manifest, session);
        } catch (RuntimeException | OrtException e) {
            session.close();
            throw e;
        }
        return new OnnxSession(env, session, device, manifest.inputs(), manifest.output());
    }

    private static OrtSession.SessionOptions sessionOptions(OnnxOptions options) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        so.setIntraOpNumThreads(options.intraOpThreads());
        so.setInterOpNumThreads(options.interOpThreads());
        so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        return so;
    }

    private static void check(ModelManifest manifest, OrtSession session) throws OrtException {
        Map<String, NodeInfo> in = session.getInputInfo();
        ModelManifest.InputNames names = manifest.inputs();
        for (String name : new String[] { names.inputIds(), names.attentionMask(), names.tokenTypeIds() }) {
            if (name != null && in.containsKey(name) == false) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] graph has no input [" + name + "]; its inputs are " + in.keySet() + " (see [inputs] in model.json)"
                );
            }
        }
        for (String graphInput : in.keySet()) {
            if (graphInput.equals(names.inputIds()) == false
                && graphInput.equals(names.attentionMask()) == false
                && graphInput.equals(names.tokenTypeIds()) == false) {
                throw new IllegalArgumentException(
                    "model [" + manifest.id() + "] graph input [" + graphInput + "] is not mapped in [inputs] of model.json"
                );
            }
        }
        Map<String, NodeInfo> out = session.getOutputInfo();
        NodeInfo output = out.get(manifest.output());
        if (output == null) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "] graph has no output [" + manifest.output() + "]; its outputs are " + out.keySet()
            );
        }
        if (output.getInfo() instanceof TensorInfo ti && ti.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new IllegalArgumentException(
                "model [" + manifest.id() + "] output [" + manifest.output() + "] is " + ti.type + ", expected float32"
            );
        }
    }

    /** Runs one padded batch and returns the configured output. */
    public Output run(PaddedBatch batch) throws OrtException {
        long[] shape = { batch.size(), batch.length() };
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            feed.put(inputs.inputIds(), OnnxTensor.createTensor(env, LongBuffer.wrap(batch.ids()), shape));
            feed.put(inputs.attentionMask(), OnnxTensor.createTensor(env, LongBuffer.wrap(batch.mask()), shape));
            if (inputs.tokenTypeIds() != null) {
                feed.put(inputs.tokenTypeIds(), OnnxTensor.createTensor(env, LongBuffer.wrap(batch.typeIds()), shape));
            }
            try (OrtSession.Result result = session.run(feed, java.util.Set.of(outputName))) {
                Optional<OnnxValue> value = result.get(outputName);
                OnnxTensor tensor = (OnnxTensor) value.orElseThrow();
                long[] outShape = tensor.getInfo().getShape();
                FloatBuffer buffer = tensor.getFloatBuffer();
                float[] values = new float[buffer.remaining()];
                buffer.get(values);
                return new Output(values, outShape);
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    public String device() {
        return device;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            logger.warn("error closing ONNX session", e);
        }
    }
}
