"""A small numpy reference executor for the ONNX ops BERT-style graphs use (fp32 and ORT dynamic int8).

There is no onnxruntime for Python on these machines; this lets us check exported and quantized graphs
numerically. It follows the ONNX operator specs literally (DynamicQuantizeLinear rounds half to even, saturates
to uint8, includes 0 in the range), so it is slow but a faithful reference.
"""
import numpy as np
import onnx
from onnx import numpy_helper
from scipy.special import erf

_DT = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _axes(node, inputs, a, idx):
    if "axes" in a:
        return list(a["axes"])
    if len(inputs) > idx and inputs[idx] is not None:
        return [int(x) for x in inputs[idx]]
    return None


def _dql(x):
    x = x.astype(np.float32)
    lo = min(0.0, float(x.min()))
    hi = max(0.0, float(x.max()))
    scale = np.float32((hi - lo) / 255.0)
    if scale == 0:
        scale = np.float32(1.0)  # all-zero input; zero point 0 then
    zp = np.clip(np.round(np.float32(0.0) - np.float32(lo) / scale), 0, 255).astype(np.uint8)
    q = np.clip(np.round(x / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.array(scale, dtype=np.float32), np.array(zp, dtype=np.uint8)


def run_op(node, inputs):
    op, a = node.op_type, _attrs(node)
    x = inputs[0] if inputs else None
    if op == "Constant":
        return [numpy_helper.to_array(a["value"]) if "value" in a else np.array(a.get("value_float", a.get("value_int")))]
    if op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "And", "Or"):
        y = inputs[1]
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power, "Equal": np.equal,
             "Less": np.less, "Greater": np.greater, "And": np.logical_and, "Or": np.logical_or}.get(op)
        if op == "Div":
            r = x // y if np.issubdtype(x.dtype, np.integer) else x / y
        else:
            r = f(x, y)
        if op in ("Add", "Sub", "Mul", "Div", "Pow"):
            r = r.astype(x.dtype)
        return [r]
    if op == "Sqrt":
        return [np.sqrt(x)]
    if op == "Erf":
        return [erf(x).astype(x.dtype)]
    if op == "Tanh":
        return [np.tanh(x)]
    if op == "Sigmoid":
        return [(1 / (1 + np.exp(-x))).astype(x.dtype)]
    if op == "Relu":
        return [np.maximum(x, 0)]
    if op == "Neg":
        return [-x]
    if op == "Not":
        return [np.logical_not(x)]
    if op == "Identity":
        return [x]
    if op == "Cast":
        return [x.astype(_DT[a["to"]])]
    if op == "Shape":
        return [np.array(x.shape, dtype=np.int64)]
    if op == "Gather":
        ax = a.get("axis", 0)
        return [np.take(x, inputs[1].astype(np.int64), axis=ax)]
    if op == "Unsqueeze":
        for ax in sorted(_axes(node, inputs, a, 1)):
            x = np.expand_dims(x, ax if ax >= 0 else ax + x.ndim + 1)
        return [x]
    if op == "Squeeze":
        axes = _axes(node, inputs, a, 1)
        return [np.squeeze(x) if axes is None else np.squeeze(x, axis=tuple(axes))]
    if op == "Concat":
        return [np.concatenate([np.atleast_1d(i) for i in inputs], axis=a["axis"])]
    if op == "Reshape":
        shape = [int(s) for s in inputs[1]]
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [x.reshape(shape)]
    if op == "Transpose":
        return [np.transpose(x, a.get("perm"))]
    if op == "MatMul":
        return [np.matmul(x, inputs[1])]
    if op == "Gemm":
        A, B = inputs[0], inputs[1]
        if a.get("transA", 0):
            A = A.T
        if a.get("transB", 0):
            B = B.T
        r = a.get("alpha", 1.0) * (A @ B)
        if len(inputs) > 2:
            r = r + a.get("beta", 1.0) * inputs[2]
        return [r.astype(np.float32)]
    if op == "ReduceMean":
        axes = _axes(node, inputs, a, 1)
        return [np.mean(x, axis=tuple(axes), keepdims=bool(a.get("keepdims", 1))).astype(x.dtype)]
    if op == "ReduceSum":
        axes = _axes(node, inputs, a, 1)
        return [np.sum(x, axis=None if axes is None else tuple(axes), keepdims=bool(a.get("keepdims", 1)))]
    if op in ("ReduceMax", "ReduceMin"):
        axes = _axes(node, inputs, a, 1)
        f = np.max if op == "ReduceMax" else np.min
        return [f(x, axis=None if axes is None else tuple(axes), keepdims=bool(a.get("keepdims", 1)))]
    if op in ("Max", "Min"):
        f = np.maximum if op == "Max" else np.minimum
        r = inputs[0]
        for y in inputs[1:]:
            r = f(r, y)
        return [r.astype(inputs[0].dtype)]
    if op == "Round":
        return [np.round(x)]  # half to even, as ONNX
    if op == "Clip":
        lo = inputs[1] if len(inputs) > 1 and inputs[1] is not None else None
        hi = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
        return [np.clip(x, lo, hi).astype(x.dtype)]
    if op == "Softmax":
        ax = a.get("axis", -1)
        m = x.max(axis=ax, keepdims=True)
        e = np.exp(x - m)
        return [(e / e.sum(axis=ax, keepdims=True)).astype(x.dtype)]
    if op == "Slice":
        starts, ends = inputs[1], inputs[2]
        axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
        steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
        sl = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            sl[int(ax)] = slice(int(max(s, -2**62)), int(min(e, 2**62)), int(st))
        return [x[tuple(sl)]]
    if op == "Range":
        return [np.arange(inputs[0], inputs[1], inputs[2]).astype(inputs[0].dtype)]
    if op == "Expand":
        return [x * np.ones([int(s) for s in inputs[1]], dtype=x.dtype)]
    if op == "ConstantOfShape":
        v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return [np.full([int(s) for s in x], v.ravel()[0], dtype=v.dtype)]
    if op == "Where":
        return [np.where(x, inputs[1], inputs[2])]
    if op == "LayerNormalization":
        ax = a.get("axis", -1)
        mu = x.mean(axis=ax, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=ax, keepdims=True)
        y = (x - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * inputs[1]
        if len(inputs) > 2:
            y = y + inputs[2]
        return [y.astype(np.float32)]
    if op == "DynamicQuantizeLinear":
        return list(_dql(x))
    if op == "MatMulInteger":
        A = x.astype(np.int32)
        B = inputs[1].astype(np.int32)
        if len(inputs) > 2 and inputs[2] is not None:
            A = A - inputs[2].astype(np.int32)
        if len(inputs) > 3 and inputs[3] is not None:
            B = B - inputs[3].astype(np.int32)  # scalar or per-column [N]
        # float64 BLAS is exact here (|sum| < 2**53) and far faster than numpy's integer matmul
        return [np.matmul(A.astype(np.float64), B.astype(np.float64)).astype(np.int32)]
    if op == "DequantizeLinear":
        zp = inputs[2] if len(inputs) > 2 else np.zeros((), x.dtype)
        s = inputs[1]
        if s.ndim == 1 and x.ndim > 1:
            ax = a.get("axis", 1)
            shp = [1] * x.ndim
            shp[ax] = -1
            s, zp = s.reshape(shp), zp.reshape(shp)
        return [((x.astype(np.int32) - zp.astype(np.int32)) * s).astype(np.float32)]
    raise NotImplementedError(op)


class OnnxNumpy:
    def __init__(self, path_or_model):
        m = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
        self.model = m
        self.inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
        self.input_names = [i.name for i in m.graph.input if i.name not in self.inits]
        self.output_names = [o.name for o in m.graph.output]

    def run(self, feeds, outputs=None):
        env = dict(self.inits)
        env.update(feeds)
        for node in self.model.graph.node:
            ins = [env[i] if i else None for i in node.input]
            outs = run_op(node, ins)
            for name, v in zip(node.output, outs):
                env[name] = v
        return [env[o] for o in (outputs or self.output_names)]
