"""Dynamic int8 quantization of an fp32 BERT-style ONNX graph, in the pattern onnxruntime's quantize_dynamic emits.

    /usr/bin/python3 models/tools/quantize_int8.py IN.onnx OUT.onnx [--full-range] [--keep-embeddings] [--keep REGEX]
                                                   [--smooth ALPHA [--calib-tsv PAIRS.tsv]] [--check TOKENIZER]

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

--smooth ALPHA (SmoothQuant, Xiao et al., ICML 2023): fine-tuned MiniLM cross-encoders carry outlier channels (in
minilm-ce-hd4, channel 99 of every attention LayerNorm output peaks at 12-30 while the median channel peaks at 1.5-1.9),
so one per-batch activation range leaves the other channels a few uint8 steps. Each quantized activation x is
divided per input channel j by s_j = max|x_j|^ALPHA / max|W_j,:|^(1 - ALPHA) (one inserted Mul, shared by the MatMuls
that read x) and each weight row j is multiplied by s_j before its per-column quantization: x W = (x / s)(s W) exactly
in fp32.
The activation maxima come from calibration batches (--calib-queries MS MARCO dev600 training queries x their 20
BM25 candidates, never the 40 graded validation queries; or --calib-tsv, your own query/passage pairs). The scales
cannot be folded into the LayerNorms because a post-LN BERT's LayerNorm output also feeds the residual connection.
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


def calibration_batches(n_queries=16, tsv=None):
    """Calibration inputs as [(query, [passages])], one rescore window each: by default the first n_queries MS MARCO
    dev600 queries that are not validation queries, each with its 20 BM25 candidates (needs
    /work/shared/train); with tsv, a file of `query<TAB>passage` lines grouped by query (any text of the kind
    the model will rank, e.g. a sample of your own queries and their BM25 hits)."""
    if tsv:
        groups = {}
        with open(tsv, encoding="utf-8") as f:
            for line in f:
                if "\t" in line:
                    q, d = line.rstrip("\n").split("\t", 1)
                    groups.setdefault(q, []).append(d)
        return list(groups.items())[:n_queries]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import distill_hybrid
    pool, graded = distill_hybrid.load_pool(distill_hybrid.DATA)
    return [(pool[q]["q"], [d for _, d in pool[q]["cands"]])
            for q in sorted(q for q in pool if q not in graded)[:n_queries]]


def calibrate(fp32_path, tokenizer_path, batches, max_length=256):
    """{activation name: per-channel max |x| over all positions} for the inputs of every MatMul with a constant
    weight, from the fp32 graph (numpy reference executor) on calibration_batches' windows."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import wordpiece
    from onnx_numpy import OnnxNumpy
    tok = wordpiece.WordPieceTokenizer(tokenizer_path)
    g = OnnxNumpy(fp32_path)
    acts = sorted({n.input[0] for n in g.model.graph.node
                   if n.op_type == "MatMul" and n.input[1] in g.inits and g.inits[n.input[1]].ndim == 2})
    amax = {}
    for q, docs in batches:
        enc = [tok.encode_pair(q, d, max_length) for d in docs]
        ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
        feeds = {k: v for k, v in {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}.items()
                 if k in g.input_names}
        for a, x in zip(acts, g.run(feeds, outputs=acts)):
            v = np.abs(x.reshape(-1, x.shape[-1])).max(axis=0)
            amax[a] = np.maximum(amax[a], v) if a in amax else v
    return amax


def smoothing_scales(model, amax, alpha):
    """{activation name: s [channels]} with s_j = amax_j^alpha / wmax_j^(1 - alpha), wmax_j the largest |W[j, :]|
    over every constant-weight MatMul reading that activation."""
    inits = {i.name: i for i in model.graph.initializer}
    wmax = {}
    for n in model.graph.node:
        if n.op_type == "MatMul" and n.input[0] in amax and n.input[1] in inits:
            w = np.abs(numpy_helper.to_array(inits[n.input[1]])).max(axis=1)
            wmax[n.input[0]] = np.maximum(wmax[n.input[0]], w) if n.input[0] in wmax else w
    out = {}
    for a, w in wmax.items():
        s = np.power(np.maximum(amax[a], 1e-5), alpha) / np.power(np.maximum(w, 1e-5), 1.0 - alpha)
        out[a] = np.clip(s, 1e-5, None).astype(np.float32)
    return out


def smoothing_for(fp32_path, tokenizer_path, alpha, n_queries=16, tsv=None):
    """SmoothQuant scales for an fp32 graph, calibrated on calibration_batches(n_queries, tsv): (scales for
    quantize's smooth, the note quantize records in the graph's metadata)."""
    batches = calibration_batches(n_queries, tsv)
    smooth = smoothing_scales(onnx.load(fp32_path), calibrate(fp32_path, tokenizer_path, batches), alpha)
    return smooth, " (alpha %g, calibrated on %d %s)" % (
        alpha, len(batches), "windows of " + os.path.basename(tsv) if tsv else "MS MARCO dev600 training queries")


def quantize(in_path, out_path, reduce_range=True, quantize_embeddings=True, keep_fp32=(), act_per_row=False,
             smooth=None, smooth_note=""):
    """act_per_row: quantize each MatMul input per row (token) with its own scale and offset instead of one
    DynamicQuantizeLinear range for the whole batch; the offset comes back as lo * column sums of the dequantized
    weights. smooth: {activation name: per-channel s} from smoothing_scales (SmoothQuant; see the module doc)."""
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
    smoothed = set()
    for node in g.node:
        if (node.op_type == "MatMul" and node.input[1] in inits and len(inits[node.input[1]].dims) == 2
                and inits[node.input[1]].data_type == TensorProto.FLOAT
                and not any(re.search(k, node.name) for k in keep_fp32)):
            x, wname, y = node.input[0], node.input[1], node.output[0]
            if smooth and x in smooth:
                sv = smooth[x]
                inv = x + "_smooth_inv"
                if inv not in smoothed:
                    new_inits.append(numpy_helper.from_array((1.0 / sv).astype(np.float32), inv))
                    new_nodes.append(helper.make_node("Mul", [x, inv], [x + "_smoothed"], name=x + "_smooth"))
                    smoothed.add(inv)
                key = wname + "_smoothed"
                if key not in arrays:
                    arrays[key] = (arr(wname) * sv[:, None]).astype(np.float32)
                    inits[key] = inits[wname]  # for the shape/type checks of later users; data from arrays
                drop.add(wname)
                x, wname = x + "_smoothed", key
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
    if smooth:
        how += "; SmoothQuant per-channel scales on %d activations%s" % (len(smoothed), smooth_note)
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
    ap.add_argument("--smooth", type=float, metavar="ALPHA", help="SmoothQuant migration strength (0.5 is usual)")
    ap.add_argument("--calib-queries", type=int, default=16, help="calibration windows (queries)")
    ap.add_argument("--calib-tsv", help="query<TAB>passage lines to calibrate on instead of MS MARCO dev600")
    ap.add_argument("--tokenizer", help="tokenizer.json for --smooth calibration (default: next to the input)")
    ap.add_argument("--check", metavar="TOKENIZER_JSON", help="compare outputs with the numpy reference executor")
    args = ap.parse_args()
    smooth, note = None, ""
    if args.smooth is not None:
        tok = args.tokenizer or os.path.join(os.path.dirname(os.path.abspath(args.input)), "tokenizer.json")
        smooth, note = smoothing_for(args.input, tok, args.smooth, args.calib_queries, args.calib_tsv)
    n_mm, n_g = quantize(args.input, args.output, not args.full_range, not args.keep_embeddings, args.keep,
                         args.act_per_row, smooth, note)
    print("quantized %d MatMul, %d Gather; %d -> %d bytes" % (n_mm, n_g, os.path.getsize(args.input),
                                                            os.path.getsize(args.output)))
    if args.check:
        ya, yb, diff, cos = check(args.input, args.output, args.check)
        print("fp32 vs int8: max |diff| %.4g, cosine per item %s" % (diff, np.round(cos, 5)))
        if ya.ndim == 2:
            print("fp32", ya.ravel(), "\nint8", yb.ravel())


if __name__ == "__main__":
    main()
