"""Shared training plumbing: resumable checkpoints, deterministic schedules, logging, validation reranking."""
import json
import math
import os
import random
import time

import numpy as np
import torch

import ir


class Logger:
    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "a", buffering=1)

    def __call__(self, *a):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + " ".join(str(x) for x in a)
        self.f.write(line + "\n")
        print(line, flush=True)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_groups(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def schedule(groups, weights, total, seed):
    """Deterministic list of group indices: per pass, each source contributes round(weight * count) groups."""
    by = {}
    for i, g in enumerate(groups):
        by.setdefault(g["src"], []).append(i)
    rng = random.Random(seed)
    out = []
    while len(out) < total:
        epoch = []
        for src, idx in sorted(by.items()):
            w = weights.get(src, 1.0)
            n = int(round(w * len(idx)))
            pick = []
            while len(pick) < n:
                cp = idx[:]
                rng.shuffle(cp)
                pick += cp
            epoch += pick[:n]
        rng.shuffle(epoch)
        out += epoch
    return out[:total]


def lr_factor(step, warmup, total):
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def rng_state():
    return {"py": random.getstate(), "np": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(s):
    random.setstate(s["py"])
    np.random.set_state(s["np"])
    torch.set_rng_state(s["torch"])


def rerank_val(score_fn, items, k=10):
    """items: [{'qid','q','cands':[[id,text,bi]],'rels':{id:gain}}]; score_fn(q, [texts]) -> scores.
    Returns nDCG@k of the reranked candidates and of the bi-encoder and candidate (BM25) order."""
    run, run_bi, run_first, qrels = {}, {}, {}, {}
    for it in items:
        s = score_fn(it["q"], [c[1] for c in it["cands"]])
        run[it["qid"]] = {c[0]: float(x) for c, x in zip(it["cands"], s)}
        run_bi[it["qid"]] = {c[0]: float(c[2]) for c in it["cands"]}
        n = len(it["cands"])
        run_first[it["qid"]] = {c[0]: float(n - j) for j, c in enumerate(it["cands"])}
        qrels[it["qid"]] = it["rels"]
    return (ir.ndcg_at(run, qrels, k)[0], ir.ndcg_at(run_bi, qrels, k)[0], ir.ndcg_at(run_first, qrels, k)[0])


def load_val(data_dir):
    out = {}
    for name in sorted(os.listdir(data_dir)):
        if name.startswith("val_") and name.endswith(".jsonl"):
            out[name[4:-6]] = load_groups(os.path.join(data_dir, name))
    return out
