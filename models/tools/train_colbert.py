"""Fine-tunes the MiniLM-L6 ColBERT-style encoder (resumable; rerun the same command to continue).

    nohup nice -n 15 /usr/bin/python3 models/tools/train_colbert.py --out models/build/minilm-colbert-v1 \
        [--teacher models/build/minilm-ce-v1/best.pt] &

Model: all-MiniLM-L6-v2 + linear projection 384 -> 128 (no bias), markers [unused0]/[unused1], queries padded with
[MASK] to 32 (see colbert_encoding.py). With --train-layers 6 (all) every transformer layer trains and, of the word
embeddings, the rows of the two markers and [MASK] (nearly untrained in the backbone). With --train-layers N < 6 the
embeddings and the bottom 6-N layers stay frozen (run without gradients, so a step costs about half as much on CPU)
and only the top N layers and the projection train. --proj-init pca starts the projection from the top principal
directions of the backbone's (normalized) token vectors, so step 0 is close to zero-shot MaxSim; `orthonormal` is a
random orthonormal projection.
Per step: B queries, each with its positive and n-1 hard negatives (BM25- and bi-encoder-mined). Loss =
softmax cross-entropy of each query over all B*n documents of the step (its own hard negatives + in-batch
negatives) on MaxSim scores / temperature, + lambda * KL(teacher || student) over the query's own n documents, the
teacher being our fine-tuned cross-encoder when --teacher is a checkpoint (ColBERTv2-style distillation), zero-shot
MaxSim of the untouched backbone with --teacher zeroshot (keeps the student close to where it started, as a
regularizer against forgetting what the backbone learned from MS MARCO), plus --teacher-bi-weight * the bi-encoder
cosine when given (a fused teacher that ranks better than either alone), else the bi-encoder cosine * 20. With
--teacher strong the MS MARCO and toy groups are taught instead by softmax(--strong-teacher-scale * the calibrated
bge-small + e5-small logits of build/data/strong_teacher.jsonl, written by strong_teacher.py), the other sources as
with zeroshot.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colbert_encoding  # noqa: E402
import minilm  # noqa: E402
import strong_teacher  # noqa: E402
import trainlib  # noqa: E402
import wordpiece  # noqa: E402
from train_cross_encoder import make_group  # noqa: E402

DEFAULT_WEIGHTS = {"msmarco": 3.0, "toy": 2.0, "scifact": 2.0, "nfcorpus": 0.6, "wikiqa": 1.0, "trecqa": 3.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(minilm.MODELS_DIR, "build", "data"))
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "build", "minilm-colbert-v1"))
    ap.add_argument("--teacher", default=None, help="cross-encoder checkpoint used as distillation teacher, or "
                    "`zeroshot`: MaxSim of the untouched backbone (384 dims, no markers, no [MASK]), or `strong`: as "
                    "zeroshot, but the MS MARCO and toy groups are taught by the bge-small + e5-small logits of "
                    "build/data/strong_teacher.jsonl (strong_teacher.py)")
    ap.add_argument("--strong-teacher-scale", type=float, default=1.0)
    ap.add_argument("--teacher-bi-weight", type=float, default=0.0,
                    help="with --teacher zeroshot: teacher logits = zero-shot MaxSim + this * bi-encoder cosine "
                    "(a fusion of the two untouched rankers; 0 = zero-shot MaxSim alone)")
    ap.add_argument("--seed", type=int, default=43)
    ap.add_argument("--validate", metavar="CKPT", default=None,
                    help="only score CKPT on the validation sets (same --dim/--markers/--val-* as its training) and exit")
    ap.add_argument("--weights", default=None, help="JSON object overriding the sampling weight of source groups")
    ap.add_argument("--label-weights", default=None,
                    help="JSON object: per-source weight of the hard-label contrastive loss (default 1 for every "
                    "source); 0 leaves a source's groups to the distillation term alone")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=8000, help="total training queries (groups)")
    ap.add_argument("--stop-query", type=int, default=None,
                    help="stop (validate, save, mark DONE) after this many queries; the learning-rate schedule still "
                    "runs toward --queries (reproduces a run cut off at a validation point)")
    ap.add_argument("--batch", type=int, default=8, help="queries per step")
    ap.add_argument("--group-size", type=int, default=4, help="docs per query: 1 positive + hard negatives")
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--head-lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--distill", type=float, default=1.0)
    ap.add_argument("--doc-len", type=int, default=180)
    ap.add_argument("--val-doc-len", type=int, default=180)
    ap.add_argument("--val-every", type=int, default=2000, help="queries")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-limit", type=int, default=0, help="cap queries per validation set (smoke tests)")
    ap.add_argument("--train-layers", type=int, default=6, help="top transformer layers that train (6 = all)")
    ap.add_argument("--proj-init", choices=("orthonormal", "pca"), default="orthonormal")
    ap.add_argument("--pca-docs", type=int, default=400, help="training documents whose token vectors fit the PCA")
    ap.add_argument("--markers", type=int, choices=(0, 1), default=1, help="query/document markers [unused0]/[unused1]")
    ap.add_argument("--query-augmentation", type=int, choices=(0, 1), default=1, help="pad queries with [MASK] to 32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = trainlib.Logger(os.path.join(args.out, "train.log"))
    groups = trainlib.load_groups(os.path.join(args.data, "train_groups.jsonl"))
    val = trainlib.load_val(args.data)
    if args.val_limit:
        val = {k: v[: args.val_limit] for k, v in val.items()}
    weights = {**DEFAULT_WEIGHTS, **(json.loads(args.weights) if args.weights else {})}
    label_weights = json.loads(args.label_weights) if args.label_weights else {}
    sched = trainlib.schedule(groups, weights, args.queries, args.seed)
    onnx_path, tok_path = minilm.extract_backbone()
    tok = wordpiece.WordPieceTokenizer(tok_path)
    manifest = {"query_marker": "[unused0]" if args.markers else None,
                "document_marker": "[unused1]" if args.markers else None, "query_max_length": 32,
                "document_max_length": args.doc_len, "query_augmentation": bool(args.query_augmentation),
                "skiplist": "punctuation", "normalize": True, "dimension": args.dim}
    enc = colbert_encoding.ColbertEncoding.from_manifest(tok, manifest)

    torch.manual_seed(args.seed)
    model = minilm.ColBERT(minilm.load_minilm(onnx_path, dropout=0.1), dim=args.dim, seed=args.seed)
    emb = model.bert.embeddings.word_embeddings.weight
    n_layers = len(model.bert.layer)
    frozen = n_layers - max(0, min(n_layers, args.train_layers))
    with torch.no_grad():  # start the markers from [CLS]'s scale so they are not drowned by position embeddings
        for t in ("[unused0]", "[unused1]"):
            emb[tok.vocab[t]] *= emb[tok.vocab["[CLS]"]].norm() / emb[tok.vocab[t]].norm()
    if frozen == 0:
        rows = torch.zeros(emb.shape[0], 1)
        for t in ("[unused0]", "[unused1]", "[MASK]"):
            rows[tok.vocab[t]] = 1.0
        emb.register_hook(lambda g: g * rows)
    else:
        for p in list(model.bert.embeddings.parameters()) + [p for l in model.bert.layer[:frozen]
                                                             for p in l.parameters()]:
            p.requires_grad_(False)

    def attention_bias(mask):
        return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def bottom(ids, mask):
        """Output of the frozen part (embeddings and bottom layers): no gradients, no dropout."""
        bert = model.bert
        bias = attention_bias(mask)
        with torch.no_grad():
            was = bert.training
            bert.embeddings.train(False)
            x = bert.embeddings(ids, torch.zeros_like(ids))
            for layer in bert.layer[:frozen]:
                layer.train(False)
                x = layer(x, bias)
            bert.embeddings.train(was)
        return x

    def top(x, mask):
        bias = attention_bias(mask)
        for layer in model.bert.layer[frozen:]:
            x = layer(x, bias)
        return x

    def hidden(ids, mask):
        """Backbone output; the frozen bottom runs without gradients and without dropout."""
        if frozen == 0:
            return model.bert(ids, mask, torch.zeros_like(ids))
        return top(bottom(ids, mask), mask)

    bottom_cache = {}

    def cached_hidden(encs):
        """hidden() for validation texts: the frozen part's output of each sequence is computed once per run."""
        if frozen == 0:
            ids, mask = colbert_encoding.pad([e[0] for e in encs], [e[1] for e in encs])
            return hidden(torch.from_numpy(ids), torch.from_numpy(mask))
        missing = [e for e in encs if (tuple(e[0]), tuple(e[1])) not in bottom_cache]
        if missing:
            ids, mask = colbert_encoding.pad([e[0] for e in missing], [e[1] for e in missing])
            x = bottom(torch.from_numpy(ids), torch.from_numpy(mask))
            for j, e in enumerate(missing):
                bottom_cache[(tuple(e[0]), tuple(e[1]))] = x[j, : len(e[0])].clone()
        ids, mask = colbert_encoding.pad([e[0] for e in encs], [e[1] for e in encs])
        x = torch.zeros(len(encs), ids.shape[1], model.bert.config.hidden)
        for j, e in enumerate(encs):
            x[j, : len(e[0])] = bottom_cache[(tuple(e[0]), tuple(e[1]))]
        return top(x, torch.from_numpy(mask))

    def pca_init():
        """Projection rows = top principal directions (uncentred second moment) of normalized backbone token vectors
        of training documents and queries, as they are encoded (markers, [MASK] augmentation)."""
        rng = random.Random(args.seed)
        picked = [groups[rng.randrange(len(groups))] for _ in range(args.pca_docs)]
        vecs = []
        model.eval()
        with torch.no_grad():
            for k in range(0, len(picked), 16):
                part = picked[k:k + 16]
                for encs in ([enc.document(g["pos"][0][0]) for g in part] + [enc.document(g["neg"][0][0]) for g in part if g["neg"]],
                             [enc.query(g["q"]) for g in part]):
                    ids, mask = colbert_encoding.pad([e[0] for e in encs], [e[1] for e in encs])
                    h = F.normalize(hidden(torch.from_numpy(ids), torch.from_numpy(mask)), dim=-1)
                    for j, e in enumerate(encs):
                        vecs.append(h[j, : len(e[0])])
        x = torch.cat(vecs)
        evals, evecs = torch.linalg.eigh(x.T @ x / x.shape[0])
        top = evecs[:, torch.argsort(evals, descending=True)[: args.dim]]
        with torch.no_grad():
            model.proj.weight.copy_(top.T)
        log("pca projection from %d token vectors: %.1f%% of the second moment kept" % (
            x.shape[0], 100.0 * float(evals.sort(descending=True).values[: args.dim].sum() / evals.sum())))
        model.train()

    teacher = None
    zs_teacher = None
    strong = None
    if args.teacher == "strong":
        strong = strong_teacher.load_rows(args.data, len(groups))
    if args.teacher in ("zeroshot", "strong"):
        zs_teacher = minilm.load_minilm(onnx_path, dropout=0.0)
        zs_teacher.eval()
        for p in zs_teacher.parameters():
            p.requires_grad_(False)
    elif args.teacher:
        teacher = minilm.CrossEncoder(minilm.load_minilm(onnx_path, dropout=0.0), 1)
        teacher.load_state_dict(torch.load(args.teacher, map_location="cpu")["model"])
        teacher.eval()

    nodecay = lambda n: n.endswith("bias") or "norm" in n.lower()  # noqa: E731
    named = [(n, p) for n, p in model.named_parameters()
             if n != "bert.embeddings.word_embeddings.weight" and p.requires_grad]
    params = [
        {"params": [p for n, p in named if n.startswith("bert.") and not nodecay(n)], "lr": args.lr,
         "weight_decay": 0.01},
        {"params": [p for n, p in named if n.startswith("bert.") and nodecay(n)], "lr": args.lr, "weight_decay": 0.0},
        {"params": [p for n, p in named if not n.startswith("bert.")], "lr": args.head_lr, "weight_decay": 0.0},
    ] + ([{"params": [emb], "lr": args.head_lr, "weight_decay": 0.0}] if frozen == 0 else [])
    base_lrs = [g["lr"] for g in params]
    opt = torch.optim.AdamW(params, lr=args.lr)
    total_steps = args.queries // args.batch
    ckpt_path = os.path.join(args.out, "last.pt")
    state = {"query": 0, "history": [], "best": None}
    if not args.validate and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        trainlib.set_rng_state(ck["rng"])
        log("resumed at query", state["query"])
    else:
        if args.proj_init == "pca":
            pca_init()
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump({"args": vars(args), "weights": weights, "manifest": manifest,
                       "teacher_sha256": minilm.sha256_file(args.teacher) if args.teacher and
                       zs_teacher is None else None,
                       "strong_teacher_sha256": minilm.sha256_file(os.path.join(args.data, "strong_teacher.jsonl"), 16)
                       if strong is not None else None,
                       "data_fingerprints": json.load(open(os.path.join(args.data, "fingerprints.json")))}, f,
                      indent=2)
        log("start", json.dumps(vars(args)))

    def save(tag="last"):
        trainlib.save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                              "rng": trainlib.rng_state(), "args": vars(args)}, os.path.join(args.out, tag + ".pt"))

    def encode(batch_enc):
        ids, mask = colbert_encoding.pad([e[0] for e in batch_enc], [e[1] for e in batch_enc])
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        return F.normalize(model.proj(hidden(ids, mask)), dim=-1)

    def score_fn(doc_len):
        e2 = colbert_encoding.ColbertEncoding.from_manifest(tok, {**manifest, "document_max_length": doc_len})

        def f(q, texts):
            with torch.no_grad():
                qe = [e2.query(q)]
                qh = F.normalize(model.proj(cached_hidden(qe)), dim=-1)
                out = []
                de_all = [e2.document(t) for t in texts]
                for k in range(0, len(texts), 16):
                    de = de_all[k: k + 16]
                    dh = F.normalize(model.proj(cached_hidden([e[:2] for e in de])), dim=-1)
                    out += trainlib.maxsim_scores(qh, qe, dh, de)[0].tolist()
            return out
        return f

    if zs_teacher is not None:  # what the student starts from and is kept close to
        zs_scores = trainlib.zero_shot_maxsim(lambda ids, mask: zs_teacher(ids, mask, torch.zeros_like(ids)), tok, args.doc_len)

    def val_scores(fn):
        out = {name: trainlib.rerank_val(fn, items)[0] for name, items in val.items()}
        out["mean"] = float(np.mean([out[k] for k in val]))
        return out

    def validate():
        model.eval()
        t0 = time.time()
        out = val_scores(score_fn(args.val_doc_len))
        model.train()
        log("validation at query %d: %s (%.0fs)" % (state["query"], json.dumps({k: round(v, 4) for k, v in
                                                                              out.items()}), time.time() - t0))
        state["history"].append({"query": state["query"], **out})
        if state["best"] is None or out["mean"] > state["best"]["mean"]:
            state["best"] = {"query": state["query"], **out}
            torch.save({"model": model.state_dict(), "query": state["query"], "val": out},
                       os.path.join(args.out, "best.pt"))
            log("new best")

    if args.validate:
        model.load_state_dict(torch.load(args.validate, map_location="cpu")["model"])
        model.eval()
        res = val_scores(score_fn(args.val_doc_len))
        print(json.dumps({"checkpoint": args.validate, **{k: round(v, 4) for k, v in res.items()}}))
        return
    if state["query"] == 0 and not state["history"]:
        if frozen > 0:  # reference: zero-shot MaxSim over the raw backbone (still untrained at query 0)
            model.eval()
            zs = val_scores(trainlib.zero_shot_maxsim(hidden, tok, args.val_doc_len))
            model.train()
            state["zero_shot"] = zs
            log("validation of zero-shot MaxSim (raw backbone, 384 dims): %s" % json.dumps(
                {k: round(v, 4) for k, v in zs.items()}))
        validate()  # starting point (projection as initialized)
        save()
    model.train()
    last_ckpt = time.time()
    t_start, q_start = time.time(), state["query"]
    run_loss, run_n = 0.0, 0
    end = min(args.queries, args.stop_query) if args.stop_query else args.queries
    while state["query"] < end:
        step = state["query"] // args.batch
        f = trainlib.lr_factor(step, args.warmup, total_steps)
        for pg, base in zip(opt.param_groups, base_lrs):
            pg["lr"] = base * f
        q_enc, d_enc, teach, offs, lw = [], [], [], [], []
        for a in range(args.batch):
            gi = state["query"] + a
            if gi >= args.queries:
                break
            g = groups[sched[gi]]
            rng = random.Random(args.seed * 1000003 + gi)
            texts, bi = make_group(g, args.group_size, rng)
            offs.append((len(d_enc), len(texts)))
            lw.append(float(label_weights.get(g["src"], 1.0)))
            q_enc.append(enc.query(g["q"]))
            d_enc += [enc.document(t) for t in texts]
            row = strong[sched[gi]] if strong is not None else None
            if row is not None:
                teach.append(strong_teacher.logits(row, texts) * args.strong_teacher_scale)
            elif zs_teacher is not None:
                teach.append(torch.tensor(zs_scores(g["q"], texts)) + args.teacher_bi_weight * torch.tensor(bi))
            elif teacher is not None:
                pe = [tok.encode_pair(g["q"], t, 192) for t in texts]
                ids, mask, tt = wordpiece.pad_batch([e[0] for e in pe], [e[1] for e in pe])
                with torch.no_grad():
                    teach.append(teacher(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0])
            else:
                teach.append(torch.tensor(bi) * 20.0)
        B = len(q_enc)
        qh = encode(q_enc)
        dh = encode(d_enc)
        s = trainlib.maxsim_scores(qh, q_enc, dh, d_enc) / args.temperature
        target = torch.tensor([o for o, _ in offs])
        if label_weights:
            loss = (F.cross_entropy(s, target, reduction="none") * torch.tensor(lw)).sum() / B
        else:
            loss = F.cross_entropy(s, target)
        if args.distill > 0:
            kl = 0.0
            for i, (o, k) in enumerate(offs):
                t = torch.softmax(teach[i].float(), dim=-1)
                kl = kl + F.kl_div(torch.log_softmax(s[i, o:o + k], dim=-1), t, reduction="sum")
            loss = loss + args.distill * kl / B
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run_loss += float(loss)
        run_n += 1
        state["query"] = min(args.queries, state["query"] + args.batch)
        if state["query"] % 200 == 0:
            rate = (state["query"] - q_start) / max(1e-9, time.time() - t_start)
            log("query %d/%d loss %.4f lr %.2e | %.2f queries/s, eta %.0f min" % (
                state["query"], args.queries, run_loss / max(1, run_n), opt.param_groups[0]["lr"], rate,
                (args.queries - state["query"]) / max(rate, 1e-9) / 60))
            run_loss, run_n = 0.0, 0
        if state["query"] % args.val_every == 0 or state["query"] >= end:
            validate()
            save()
            last_ckpt = time.time()
        elif time.time() - last_ckpt > args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    log("finished; best", json.dumps(state["best"]))
    with open(os.path.join(args.out, "DONE"), "w") as f:
        json.dump(state["best"], f)


if __name__ == "__main__":
    main()
