"""How close do quantized cross-encoder graphs stay to their fp32 graph? (numpy reference executor, no build data)

    /usr/bin/python3 models/tools/quant_fidelity.py FP32.onnx TOKENIZER.json VARIANT.onnx... [--queries 40] [--skip 0]

Scores the graded MS MARCO dev600 validation queries (the 40 with thesis grades, each with its 20 BM25 candidates in
one batch, as the plugin sends a rescore window) with every graph and prints, per graph: mean |logit - fp32 logit|,
mean per-query Kendall tau to the fp32 order, and nDCG@10 on the graded labels. These queries are the validation set
of distill_hybrid.py, not a test collection, so choosing a quantization scheme here does not look at test labels.
The numpy executor is not ONNX Runtime: float ops differ in the last bits, which int8 rounding can amplify, so the
figures compare schemes on average, not bit for bit.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distill_hybrid  # noqa: E402
import ir  # noqa: E402
import onnx_numpy  # noqa: E402
import wordpiece  # noqa: E402


def kendall_tau(a, b):
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return s / (n * (n - 1) / 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fp32")
    ap.add_argument("tokenizer")
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--skip", type=int, default=0,
                    help="leave out the first SKIP graded queries (e.g. those a previous choice already used)")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--data", default=distill_hybrid.DATA)
    args = ap.parse_args()
    pool, graded = distill_hybrid.load_pool(args.data)
    qids = sorted(q for q in graded if q in pool)[args.skip: args.skip + args.queries]
    tok = wordpiece.WordPieceTokenizer(args.tokenizer)
    batches = []
    for q in qids:
        enc = [tok.encode_pair(pool[q]["q"], t, args.max_length) for _, t in pool[q]["cands"]]
        batches.append(wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc]))

    def score(path):
        g = onnx_numpy.OnnxNumpy(path)
        out = []
        for ids, mask, tt in batches:
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
            out.append(g.run({k: v for k, v in feeds.items() if k in g.input_names})[0][:, 0].astype(np.float64))
        return out

    def ndcg(scores):
        run = {q: {p: float(s) for (p, _), s in zip(pool[q]["cands"], sc)} for q, sc in zip(qids, scores)}
        return ir.ndcg_at(run, {q: graded[q] for q in qids}, 10)[0]

    t = time.time()
    ref = score(args.fp32)
    print(json.dumps({"graph": args.fp32, "ndcg10": round(ndcg(ref), 4), "seconds": round(time.time() - t, 1)}),
          flush=True)
    for path in args.variants:
        t = time.time()
        s = score(path)
        diff = float(np.mean(np.concatenate([np.abs(a - b) for a, b in zip(s, ref)])))
        tau = float(np.mean([kendall_tau(a, b) for a, b in zip(s, ref)]))
        print(json.dumps({"graph": path, "mean_abs_logit_diff": round(diff, 4), "kendall_tau_to_fp32": round(tau, 4),
                          "ndcg10": round(ndcg(s), 4), "seconds": round(time.time() - t, 1)}), flush=True)


if __name__ == "__main__":
    main()
