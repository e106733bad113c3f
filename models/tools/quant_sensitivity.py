"""Which parts of a cross-encoder lose ranking quality under dynamic int8 quantization? (torch simulation)

    /usr/bin/python3 models/tools/quant_sensitivity.py MODEL [--set msmarco-graded] [--limit 40] [--configs ...]

MODEL is an exported cross-encoder graph (fp32, or int8 read back dequantized) or a training checkpoint (.pt).
Quantization is simulated in torch with the arithmetic of quantize_int8.py's graph: MatMul weights symmetric per
output column (7-bit by default), the MatMul input quantized per call (DynamicQuantizeLinear: uint8, per tensor over
the whole batch, range widened to include 0, float32 scale, round half to even), integer MatMul sums, float32 scale
products; embedding tables uint8 per tensor. Each query's candidates are scored as one batch, as the plugin does.
It is not bit-exact: the float ops between the MatMuls (LayerNorm, softmax, GELU) differ from any other executor in
the last bits, and a last-bit change moves values across quantization rounding boundaries, so results drift apart
(about 0.1 logit on 150-token pairs against the numpy reference executor, see --check-graph). Int8 scores are
chaotic in that sense on every runtime; compare configurations by averages over many pairs, as printed here.
Prints nDCG@10 on a validation set and the mean |logit| change for: fp32, everything quantized, and everything but
one group of MatMuls (the groups that cost most are the ones quantize_int8.py --keep should leave in fp32).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402
import onnx_numpy  # noqa: E402
import quantize_int8  # noqa: E402
import trainlib  # noqa: E402
import wordpiece  # noqa: E402

KINDS = ("query", "key", "value", "attn_out", "inter", "out")


def quant_act(x):
    """DynamicQuantizeLinear (the reference executor's): (codes - zero point) as float, and the float32 scale."""
    q, scale, zp = onnx_numpy._dql(x.numpy())
    return torch.from_numpy(q.astype(np.float32) - np.float32(zp)), torch.from_numpy(scale)


def quant_weight(w, reduce_range):
    """w: [out, in] (torch layout), quantized as quantize_int8.py does the graph's [in, out]: integer codes [out, in]
    (as float) and float32 scales [out]."""
    q, scale, _ = quantize_int8._weight_per_column(w.numpy().T, reduce_range)
    return torch.from_numpy(q.T.astype(np.float32)), torch.from_numpy(scale)


def fake_table(w):
    """An embedding table through quantize_int8.py's uint8 table and back."""
    q, scale, zp = quantize_int8._table_u8(w.numpy())
    return torch.from_numpy((q.astype(np.float32) - np.float32(zp)) * scale)


class QLinear(nn.Module):
    """Linear with simulated dynamic int8; optional smoothing (SmoothQuant): x W^T = (x / s)(W diag(s))^T, which moves
    per-input-channel activation outliers into the weights before both are quantized."""

    def __init__(self, lin, reduce_range):
        super().__init__()
        self.lin, self.on, self.reduce_range = lin, True, reduce_range
        self.smooth = None
        self.act_max = None  # per input channel, collected while calibrating
        self.calibrating = False
        self.wq = quant_weight(lin.weight.detach(), reduce_range)

    def set_smooth(self, alpha):
        if alpha is None:
            self.smooth, self.wq = None, quant_weight(self.lin.weight.detach(), self.reduce_range)
            return
        w_max = self.lin.weight.detach().abs().max(dim=0).values.clamp(min=1e-5)
        s = (self.act_max.clamp(min=1e-5) ** alpha / w_max ** (1 - alpha)).clamp(min=1e-5)
        self.smooth = s
        self.wq = quant_weight(self.lin.weight.detach() * s[None, :], self.reduce_range)

    def forward(self, x):
        if self.calibrating:
            m = x.detach().abs().reshape(-1, x.shape[-1]).max(dim=0).values
            self.act_max = m if self.act_max is None else torch.maximum(self.act_max, m)
        if not self.on:
            return self.lin(x)
        if self.smooth is not None:
            x = x / self.smooth
        # MatMulInteger (exact integer sums: float64 holds them), Cast to float32, Mul by x_scale * w_scale, Add bias
        xq, xs = quant_act(x)
        codes, ws = self.wq
        acc = torch.matmul(xq.double(), codes.double().t()).float()
        return acc * (xs * ws) + self.lin.bias


def load(path):
    model = minilm.CrossEncoder(minilm.load_minilm(dropout=0.0))
    if path.endswith(".pt"):
        model.load_state_dict(torch.load(path)["model"])
    else:
        st = minilm.read_onnx_state(path)
        model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in st.items()})
    return model.eval()


def instrument(model, reduce_range):
    qlins = {}
    for i, layer in enumerate(model.bert.layer):
        for kind in KINDS:
            q = QLinear(getattr(layer, kind), reduce_range)
            setattr(layer, kind, q)
            qlins["%d.%s" % (i, kind)] = q
    emb = model.bert.embeddings
    tables = {n: getattr(emb, n).weight.detach().clone() for n in
              ("word_embeddings", "position_embeddings", "token_type_embeddings")}
    return qlins, emb, tables


def set_config(qlins, emb, tables, keep, quant_tables, smooth=(), alpha=None):
    """keep: MatMul groups left fp32 ('out' = all six, '5' = layer 5, '5.out'); smooth: kinds smoothed with alpha."""
    for name, q in qlins.items():
        q.on = not any(k in (name, name.split(".")[0], name.split(".")[1]) for k in keep)
        q.set_smooth(alpha if name.split(".")[1] in smooth else None)
    with torch.no_grad():
        for n, w in tables.items():
            getattr(emb, n).weight.copy_(fake_table(w) if quant_tables else w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default=os.path.join(minilm.MODELS_DIR, "build", "data"))
    ap.add_argument("--set", default="msmarco-graded")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--full-range", action="store_true", help="8-bit weights instead of 7-bit")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--smooth", nargs="*", default=[], metavar="KIND:ALPHA",
                    help="also try smoothing these MatMul kinds, e.g. out:0.5 inter:0.5 (activation maxima per channel "
                    "from --calib training groups)")
    ap.add_argument("--check-graph", metavar="INT8_ONNX",
                    help="first compare the simulation (everything quantized) with this int8 graph run by the numpy "
                    "reference executor on a few pairs, e.g. the graph MODEL was read back from")
    ap.add_argument("--no-sweep", action="store_true", help="skip the one-kind-kept-at-a-time sweep")
    ap.add_argument("--calib", type=int, default=32, help="training groups (x8 pairs) for smoothing calibration")
    ap.add_argument("--configs", nargs="*", help="extra configs: comma-separated groups kept in fp32, e.g. "
                    "'out' (all six), '5.out', '5' (all of layer 5), 'tables' (embeddings)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    items = trainlib.load_val(args.data)[args.set][: args.limit]
    tok = wordpiece.WordPieceTokenizer(minilm.extract_backbone()[1])
    model = load(args.model)
    qlins, emb, tables = instrument(model, not args.full_range)
    encs = [[tok.encode_pair(it["q"], c[1], args.max_len) for c in it["cands"]] for it in items]
    if args.check_graph:
        # tables as read (a graph read back has them on its uint8 grid already; quantizing again would move them)
        set_config(qlins, emb, tables, [], False)
        graph = onnx_numpy.OnnxNumpy(args.check_graph)
        enc = encs[0][:4]
        ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
        with torch.no_grad():
            sim = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0].numpy()
        ref = graph.run({"input_ids": ids, "attention_mask": mask, "token_type_ids": tt})[0][:, 0]
        print(json.dumps({"check_graph": args.check_graph, "simulated": [round(float(x), 5) for x in sim],
                          "graph": [round(float(x), 5) for x in ref],
                          "max_abs_diff": float(np.abs(sim - ref).max())}), flush=True)

    def scores():
        out = []
        with torch.no_grad():
            for enc in encs:
                ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
                out.append(model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0].numpy())
        return out

    def ndcg(s):
        it = iter(s)
        return trainlib.rerank_val(lambda q, texts: next(it), items)[0]

    # (name, MatMul groups kept fp32, quantize the embedding tables, smoothed kinds, alpha)
    configs = [("fp32", KINDS, False, (), None), ("int8 (all)", (), True, (), None)]
    if not args.no_sweep:
        configs += [("keep %s" % k, [k], True, (), None) for k in KINDS]
        configs += [("keep tables", (), False, (), None)]
    for c in args.configs or []:
        parts = c.split(",")
        configs.append(("keep " + c, [k for k in parts if k != "tables"], "tables" not in parts, (), None))
    for spec in args.smooth:
        kinds, alpha = spec.rsplit(":", 1)
        configs.append(("smooth %s alpha %s" % (kinds, alpha), (), True, kinds.split(","), float(alpha)))
    if args.smooth:
        groups = trainlib.load_groups(os.path.join(args.data, "train_groups.jsonl"))
        groups = groups[:: max(1, len(groups) // args.calib)][: args.calib]
        for q in qlins.values():
            q.calibrating, q.on = True, False
        with torch.no_grad():
            for g in groups:
                texts = [p[0] for p in g["pos"][:1]] + [x[0] for x in g["neg"][:7]]
                enc = [tok.encode_pair(g["q"], t, args.max_len) for t in texts]
                ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
                model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))
        for q in qlins.values():
            q.calibrating = False
    ref = None
    for name, keep, quant_tables, smooth, alpha in configs:
        t0 = time.time()
        set_config(qlins, emb, tables, keep, quant_tables, smooth, alpha)
        s = scores()
        if ref is None:
            ref = s
        diff = float(np.mean(np.concatenate([np.abs(a - b) for a, b in zip(s, ref)])))
        print(json.dumps({"config": name, "ndcg10": round(ndcg(s), 4), "mean_abs_logit_diff": round(diff, 4),
                          "seconds": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
