"""Shared training plumbing: resumable checkpoints, deterministic schedules, logging, validation reranking."""
import json
import math
import os
import random
import time

import numpy as np
import torch

import colbert_encoding
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


def cross_encoder_param_groups(model, lr, head_lr):
    """AdamW groups of a cross-encoder: trainable backbone weights (decay 0.01), its biases and norms (no decay),
    and the head (decay 0.01, its own learning rate). Frozen tensors (the word embeddings) are left out."""
    nodecay = lambda n: n.endswith("bias") or "norm" in n.lower()  # noqa: E731
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in named if n.startswith("bert.") and not nodecay(n)], "lr": lr, "weight_decay": 0.01},
        {"params": [p for n, p in named if n.startswith("bert.") and nodecay(n)], "lr": lr, "weight_decay": 0.0},
        {"params": [p for n, p in named if not n.startswith("bert.")], "lr": head_lr, "weight_decay": 0.01},
    ]


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


def maxsim_scores(qh, q_enc, dh, d_enc):
    """qh [B, 32, d], dh [N, L, d] (normalized token vectors of colbert_encoding queries / documents) -> MaxSim [B, N]
    with padding and skiplist masked out of the max."""
    keep = torch.zeros(dh.shape[0], dh.shape[1], dtype=torch.bool)
    for j, e in enumerate(d_enc):
        keep[j, : len(e[2])] = torch.tensor(e[2])
    sim = torch.einsum("bqd,nld->bnql", qh, dh)
    sim = sim.masked_fill(~keep[None, :, None, :], -1e4)
    qmask = torch.zeros(qh.shape[0], qh.shape[1])
    for i, e in enumerate(q_enc):
        qmask[i, : len(e[0])] = 1.0
    return (sim.max(dim=-1).values * qmask[:, None, :]).sum(-1)


def zero_shot_maxsim(forward, tok, doc_len):
    """Scorer f(q, texts) -> [float] of zero-shot MaxSim: forward(ids, mask) -> token vectors of a raw backbone,
    encoded without markers or [MASK], punctuation skipped in documents, 384 dims (the plugin's zero-shot setting)."""
    raw = colbert_encoding.ColbertEncoding(tok, None, None, 32, doc_len, False, "punctuation")

    def vectors(encs):
        ids, mask = colbert_encoding.pad([e[0] for e in encs], [e[1] for e in encs])
        return torch.nn.functional.normalize(forward(torch.from_numpy(ids), torch.from_numpy(mask)), dim=-1)

    def f(q, texts):
        with torch.no_grad():
            qe = [raw.query(q)]
            qh = vectors(qe)
            out = []
            de_all = [raw.document(t) for t in texts]
            for k in range(0, len(texts), 16):
                de = de_all[k: k + 16]
                out += maxsim_scores(qh, qe, vectors(de), de)[0].tolist()
        return out
    return f
