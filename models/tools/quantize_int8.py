"""Dynamic int8 quantization of an fp32 BERT-style ONNX graph, in the pattern onnxruntime's quantize_dynamic emits.

    /usr/bin/python3 models/tools/quantize_int8.py IN.onnx OUT.onnx [--full-range] [--keep-embeddings] [--keep REGEX]
                                                   [--check TOKENIZER]

For every MatMul whose B is a 2-D float initializer:
    x --DynamicQuantizeLinear--> (x_q uint8, x_scale, x_zp)           (one per distinct activation, shared)
    MatMulInteger(x_q, W_q int8 [K, N], x_zp, W_zp int8 [N] = 0) --Cast(float)--> * (x_scale * W_scale[N])
Weights are per output column, symmetric. By default they use 7 bits ([-64, 64], scale = absmax / 64, ORT's
reduce_range): u8 x s8 products then cannot saturate the int16 accumulation of AVX2 kernels without VNNI, which is
what all-minilm-l6-v2-q.onnx does too. --full-range uses [-127, 127].
Every Gather on a float initializer (the embedding tables) becomes Gather on a uint8 table + DequantizeLinear
(per tensor, symmetric around zero point 128, scale = absmax / 127.5), which is what brings MiniLM from 90 MB to 23 MB.
Gemm (the classifier head on a 2-D input) and attention score MatMuls (no constant operand) stay fp32, and so does
every MatMul whose node name matches a --keep regex (e.g. 'layer\.[0-9]+/out/' for the FFN output projections, whose
GELU input quantizes worst: see quant_sensitivity.py).
"""
import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _weight_per_column(w, reduce_range):
    qmax = 64 if reduce_range else 127
    absmax = np.abs(w).max(axis=0).astype(np.float32)
    scale = np.where(absmax > 0, 2.0 * absmax / (2 * qmax), 1.0).astype(np.float32)
    q = np.clip(np.round(w / scale[None, :]), -qmax, qmax).astype(np.int8)
    return q, scale, np.zeros(w.shape[1], dtype=np.int8)


def _table_u8(w):
    absmax = float(np.abs(w).max())
    scale = np.float32(2.0 * absmax / 255.0 if absmax > 0 else 1.0)
    q = np.clip(np.round(w / scale) + 128, 0, 255).astype(np.uint8)
    return q, np.array(scale, dtype=np.float32), np.array(128, dtype=np.uint8)


def _row_quant_nodes(x, consts):
    """Per-row (per-token) asymmetric uint8 quantization of x over its last axis, in standard ONNX ops:
    lo = min(min_row(x), 0), hi = max(max_row(x), 0), s = max((hi - lo) / 255, tiny), q = uint8(clip(round((x - lo) / s),
    0, 255)), so that x ~ s * q + lo. Returns the nodes and the names of (q, s, lo)."""
    p = x + "_row"
    n = [
        helper.make_node("ReduceMin", [x], [p + "_min"], axes=[-1], keepdims=1, name=p + "_min"),
        helper.make_node("Min", [p + "_min", consts["zero"]], [p + "_lo"], name=p + "_lo"),
        helper.make_node("ReduceMax", [x], [p + "_max"], axes=[-1], keepdims=1, name=p + "_max"),
        helper.make_node("Max", [p + "_max", consts["zero"]], [p + "_hi"], name=p + "_hi"),
        helper.make_node("Sub", [p + "_hi", p + "_lo"], [p + "_span"], name=p + "_span"),
        helper.make_node("Mul", [p + "_span", consts["inv255"]], [p + "_s0"], name=p + "_s0"),
        helper.make_node("Max", [p + "_s0", consts["tiny"]], [p + "_scale"], name=p + "_scale"),
        helper.make_node("Sub", [x, p + "_lo"], [p + "_shift"], name=p + "_shift"),
        helper.make_node("Div", [p + "_shift", p + "_scale"], [p + "_div"], name=p + "_div"),
        helper.make_node("Round", [p + "_div"], [p + "_round"], name=p + "_round"),
        helper.make_node("Clip", [p + "_round", consts["zero"], consts["c255"]], [p + "_clip"], name=p + "_clip"),
        helper.make_node("Cast", [p + "_clip"], [p + "_quantized"], to=TensorProto.UINT8, name=p + "_cast"),
    ]
    return n, (p + "_quantized", p + "_scale", p + "_lo")


def quantize(in_path, out_path, reduce_range=True, quantize_embeddings=True, keep_fp32=(), act_per_row=False):
    """act_per_row: quantize each MatMul input per row (token) with its own scale and offset instead of one
    DynamicQuantizeLinear range for the whole batch; the offset comes back as lo * column sums of the dequantized
    weights."""
    model = onnx.load(in_path)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    arrays = {}
    consts = {}
    if act_per_row:
        for k, v, dt in (("zero", 0.0, np.float32), ("inv255", 1.0 / 255.0, np.float32),
                         ("tiny", 1e-12, np.float32), ("c255", 255.0, np.float32), ("zp_u8", 0, np.uint8)):
            consts[k] = "row_quant_" + k
            g.initializer.append(numpy_helper.from_array(np.array(v, dtype=dt), consts[k]))

    def arr(name):
        if name not in arrays:
            arrays[name] = numpy_helper.to_array(inits[name])
        return arrays[name]

    new_inits, drop = [], set()
    new_nodes = []
    dql = {}  # activation name -> (q, scale, zp) names
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    n_mm = n_gather = 0
    for node in g.node:
        if (node.op_type == "MatMul" and node.input[1] in inits and len(inits[node.input[1]].dims) == 2
                and inits[node.input[1]].data_type == TensorProto.FLOAT
                and not any(re.search(k, node.name) for k in keep_fp32)):
            x, wname, y = node.input[0], node.input[1], node.output[0]
            if act_per_row:
                if x not in dql:
                    nodes, dql[x] = _row_quant_nodes(x, consts)
                    new_nodes += nodes
                xq, xs, xlo = dql[x]
                wq_name, ws_name, wz_name = wname + "_quantized", wname + "_scale", wname + "_zero_point"
                cs_name = wname + "_colsum"
                if wq_name not in {t.name for t in new_inits}:
                    q, sc, z = _weight_per_column(arr(wname), reduce_range)
                    colsum = (q.astype(np.float64).sum(axis=0) * sc).astype(np.float32)
                    new_inits += [numpy_helper.from_array(q, wq_name), numpy_helper.from_array(sc, ws_name),
                                  numpy_helper.from_array(z, wz_name), numpy_helper.from_array(colsum, cs_name)]
                drop.add(wname)
                base = node.name or y
                yq = y + "_output_quantized"
                new_nodes += [
                    helper.make_node("MatMulInteger", [xq, wq_name, consts["zp_u8"], wz_name], [yq],
                                     name=base + "_quant"),
                    helper.make_node("Cast", [yq], [yq + "_f"], to=TensorProto.FLOAT, name=base + "_quant_cast"),
                    helper.make_node("Mul", [xs, ws_name], [base + "_rs"], name=base + "_row_scales"),
                    helper.make_node("Mul", [yq + "_f", base + "_rs"], [base + "_prod"], name=base + "_scaled"),
                    helper.make_node("Mul", [xlo, cs_name], [base + "_off"], name=base + "_offset"),
                    helper.make_node("Add", [base + "_prod", base + "_off"], [y], name=base + "_plus_offset"),
                ]
                n_mm += 1
                continue
            if x not in dql:
                names = (x + "_quantized", x + "_scale", x + "_zero_point")
                new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(names),
                                                  name=x + "_QuantizeLinear"))
                dql[x] = names
            xq, xs, xz = dql[x]
            wq_name, ws_name, wz_name = wname + "_quantized", wname + "_scale", wname + "_zero_point"
            if wq_name not in {t.name for t in new_inits}:
                q, s, z = _weight_per_column(arr(wname), reduce_range)
                new_inits += [numpy_helper.from_array(q, wq_name), numpy_helper.from_array(s, ws_name),
                              numpy_helper.from_array(z, wz_name)]
            drop.add(wname)
            base = node.name or y
            scales = base + "_quant_scales_mul:0"
            yq = y + "_output_quantized"
            yc = yq + "_cast_output"
            new_nodes += [
                helper.make_node("Mul", [xs, ws_name], [scales], name=base + "_quant_scales_mul"),
                helper.make_node("MatMulInteger", [xq, wq_name, xz, wz_name], [yq], name=base + "_quant"),
                helper.make_node("Cast", [yq], [yc], to=TensorProto.FLOAT, name=base + "_quant_output_cast"),
                helper.make_node("Mul", [yc, scales], [y], name=base + "_quant_output_scale_mul"),
            ]
            n_mm += 1
            continue
        if (quantize_embeddings and node.op_type == "Gather" and node.input[0] in inits
                and inits[node.input[0]].data_type == TensorProto.FLOAT and len(inits[node.input[0]].dims) == 2):
            tname, y = node.input[0], node.output[0]
            q, s, z = _table_u8(arr(tname))
            qn, sn, zn = tname + "_quantized", tname + "_scale", tname + "_zero_point"
            new_inits += [numpy_helper.from_array(q, qn), numpy_helper.from_array(s, sn),
                          numpy_helper.from_array(z, zn)]
            drop.add(tname)
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            new_nodes += [
                helper.make_node("Gather", [qn, node.input[1]], [y + "_quantized"], name=(node.name or y) + "_quant",
                                 **attrs),
                helper.make_node("DequantizeLinear", [y + "_quantized", sn, zn], [y],
                                 name=(node.name or y) + "_DequantizeLinear"),
            ]
            n_gather += 1
            continue
        new_nodes.append(node)

    # an initializer is dropped only if every consumer was rewritten
    still_used = {i for n in new_nodes for i in n.input}
    keep = [i for i in g.initializer if not (i.name in drop and i.name not in still_used)]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]
    if all(o.domain in ("", "ai.onnx") for o in model.opset_import):
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx") and o.version < 11:
                o.version = 11
    how = "dynamic int8: MatMul weights per-column int8 %s, embeddings uint8 per-tensor: %s" % (
        "7-bit (reduce_range)" if reduce_range else "8-bit", quantize_embeddings)
    if act_per_row:
        how += "; activations per row (token), asymmetric uint8"
    if keep_fp32:
        how += "; MatMuls kept fp32: %s" % " ".join(keep_fp32)
    save_checked(model, out_path, {"quantization": how})
    return n_mm, n_gather


def save_checked(model, out_path, metadata):
    """Adds (or replaces) metadata_props entries, runs the ONNX checker and saves."""
    meta = {p.key: p.value for p in model.metadata_props}
    meta.update(metadata)
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)


def check(fp32_path, int8_path, tokenizer_path, texts=None):
    """Runs both graphs on a few inputs with the numpy reference executor; returns max abs diff and cosine."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import wordpiece
    from onnx_numpy import OnnxNumpy
    tok = wordpiece.WordPieceTokenizer(tokenizer_path)
    pairs = texts or [("what causes high blood pressure", "Hypertension is often caused by a diet high in salt."),
                      ("what causes high blood pressure", "The Eiffel tower is 330 metres tall."),
                      ("capital of france", "Paris is the capital of France.")]
    enc = [tok.encode_pair(q, d, 128) for q, d in pairs]
    ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
    a, b = OnnxNumpy(fp32_path), OnnxNumpy(int8_path)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
    feeds = {k: v for k, v in feeds.items() if k in a.input_names}
    ya, yb = a.run(feeds)[0], b.run(feeds)[0]
    if ya.ndim == 3:  # token outputs: compare valid tokens only (padding rows are junk in both)
        m = mask[..., None].astype(np.float32)
        ya, yb = ya * m, yb * m
    fa, fb = ya.reshape(len(pairs), -1), yb.reshape(len(pairs), -1)
    cos = (fa * fb).sum(1) / np.linalg.norm(fa, axis=1) / np.linalg.norm(fb, axis=1)
    return ya, yb, float(np.abs(ya - yb).max()), cos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--full-range", action="store_true", help="8-bit weights instead of 7-bit")
    ap.add_argument("--keep-embeddings", action="store_true", help="leave Gather tables in fp32")
    ap.add_argument("--keep", action="append", default=[], metavar="REGEX",
                    help="leave MatMuls whose node name matches in fp32 (repeatable)")
    ap.add_argument("--act-per-row", action="store_true",
                    help="quantize MatMul inputs per token (own scale and offset) instead of per batch")
    ap.add_argument("--check", metavar="TOKENIZER_JSON", help="compare outputs with the numpy reference executor")
    args = ap.parse_args()
    n_mm, n_g = quantize(args.input, args.output, not args.full_range, not args.keep_embeddings, args.keep,
                          args.act_per_row)
    print("quantized %d MatMul, %d Gather; %d -> %d bytes" % (n_mm, n_g, os.path.getsize(args.input),
                                                            os.path.getsize(args.output)))
    if args.check:
        ya, yb, diff, cos = check(args.input, args.output, args.check)
        print("fp32 vs int8: max |diff| %.4g, cosine per item %s" % (diff, np.round(cos, 5)))
        if ya.ndim == 2:
            print("fp32", ya.ravel(), "\nint8", yb.ravel())


if __name__ == "__main__":
    main()
