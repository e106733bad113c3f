"""Fine-tunes the MiniLM-L6 cross-encoder (resumable; rerun the same command to continue).

    nohup nice -n 15 /usr/bin/python3 models/tools/train_cross_encoder.py --out models/build/minilm-ce-v1 &

Each training item is a group: 1 positive + (G-1) hard negatives (half BM25-mined, half bi-encoder-mined, or the
given candidates for WikiQA/TrecQA). Loss per group: softmax cross-entropy with the positive as target (listwise,
"LCE") + lambda * KL(teacher || student), teacher = softmax(20 * bi-encoder cosine) over the same group; lambda decays
linearly from --distill to --distill-end, so the bi-encoder's ranking knowledge bootstraps the randomly initialised head
and the labels take over later. Word embeddings stay frozen (keeps unseen vocabulary where the backbone put it).
--teacher mixed swaps the teacher of the web sources (MS MARCO, WikiQA, TrecQA) for zero-shot MaxSim over the raw
backbone's token vectors (computed on the fly; the best ranker of our MS MARCO validation queries), keeping the
bi-encoder for SciFact and NFCorpus (tried as a 2,000-group continuation of minilm-ce-v1-r: models/STATUS.md row 3j).

--init-onnx MODEL --start-group N continues a schedule from an exported model instead of a checkpoint (tried with
minilm-ce-v1's int8 graph read back to fp32, from group 6000 of its 8000: models/STATUS.md row 3h): lr, lambda and the
data order are those of group N onward; --rewarmup ramps the lr up again because the AdamW moments start from zero.
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
import minilm  # noqa: E402
import strong_teacher  # noqa: E402
import trainlib  # noqa: E402
import wordpiece  # noqa: E402

DEFAULT_WEIGHTS = {"msmarco": 3.0, "toy": 2.0, "scifact": 2.0, "nfcorpus": 0.6, "wikiqa": 1.0, "trecqa": 3.0}
LONG_SOURCES = {"scifact", "nfcorpus"}
# --teacher mixed: zero-shot MaxSim teaches the short-query web sources (it ranks MS MARCO validation best: 0.882 vs
# the bi-encoder's 0.866), the bi-encoder the rest (MaxSim is worst on SciFact held-out: 0.648 vs 0.708)
WEB_SOURCES = {"msmarco", "toy", "wikiqa", "trecqa"}


def make_zero_shot_teacher(onnx_path, tok, max_len):
    """f(q, texts) -> [float]: zero-shot MaxSim of the raw backbone (trainlib.zero_shot_maxsim)."""
    backbone = minilm.load_minilm(onnx_path, dropout=0.0)
    backbone.eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    return trainlib.zero_shot_maxsim(lambda ids, mask: backbone(ids, mask, torch.zeros_like(ids)), tok, max_len)


def make_group(g, n, rng):
    pos = g["pos"]
    # prefer higher grades (NFCorpus direct links) but keep some variety
    w = [float(p[1]) ** 2 for p in pos]
    p = rng.choices(pos, weights=w)[0]
    negs = g["neg"]
    by = {}
    for x in negs:
        by.setdefault(x[1], []).append(x)
    picked = []
    kinds = sorted(by)
    per = max(1, (n - 1) // max(1, len(kinds)))
    for k in kinds:
        picked += rng.sample(by[k], min(per, len(by[k])))
    rest = [x for x in negs if x not in picked]
    rng.shuffle(rest)
    picked += rest[: max(0, n - 1 - len(picked))]
    picked = picked[: n - 1]
    return [p[0]] + [x[0] for x in picked], [p[2]] + [x[2] for x in picked]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(minilm.MODELS_DIR, "build", "data"))
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "build", "minilm-ce-v1"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--groups", type=int, default=8000, help="total training groups")
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--accum", type=int, default=4, help="groups per optimizer step")
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--head-lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=100, help="optimizer steps")
    ap.add_argument("--distill", type=float, default=1.0)
    ap.add_argument("--distill-end", type=float, default=0.1)
    ap.add_argument("--teacher-scale", type=float, default=20.0)
    ap.add_argument("--teacher", choices=("bi", "mixed", "strong"), default="bi",
                    help="bi: softmax(--teacher-scale * bi-encoder cosine) for every group; mixed: softmax(zero-shot "
                    "MaxSim of the raw backbone * --zs-teacher-scale) for the web sources (MS MARCO, WikiQA, TrecQA), "
                    "the bi-encoder for SciFact and NFCorpus; strong: as mixed, but the MS MARCO and toy groups are "
                    "taught by softmax(--strong-teacher-scale * the calibrated bge-small + e5-small logits of "
                    "build/data/strong_teacher.jsonl, written by strong_teacher.py)")
    ap.add_argument("--strong-teacher-scale", type=float, default=1.0)
    ap.add_argument("--weights", default=None,
                    help="JSON {source: weight} overriding the sampling weights (e.g. '{\"msmarco\": 6.0}')")
    ap.add_argument("--zs-teacher-scale", type=float, default=1.0)
    ap.add_argument("--zs-teacher-bi-weight", type=float, default=0.0,
                    help="with --teacher mixed: the web sources' teacher logits are (zero-shot MaxSim + this * "
                    "bi-encoder cosine) * --zs-teacher-scale (a fusion of the two; 0 = zero-shot MaxSim alone)")
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--max-len-long", type=int, default=192)
    ap.add_argument("--val-every", type=int, default=2000, help="groups")
    ap.add_argument("--val-max-len", type=int, default=256)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-limit", type=int, default=0, help="cap queries per validation set (smoke tests)")
    ap.add_argument("--init-onnx", help="start from this exported cross-encoder (fp32, or int8 dequantized) instead of "
                    "the backbone + a fresh head; word embeddings come from the backbone (they are frozen in training)")
    ap.add_argument("--start-group", type=int, default=0,
                    help="with --init-onnx: the group of the schedule it was taken at (lr, lambda and data continue "
                    "from there)")
    ap.add_argument("--stop-group", type=int, default=0,
                    help="end the run at this group (validated, best.pt kept) although the schedule runs to --groups")
    ap.add_argument("--rewarmup", type=int, default=0,
                    help="optimizer steps of linear warmup after --start-group (the AdamW moments start at zero)")
    ap.add_argument("--no-init-val", action="store_true",
                    help="with --init-onnx: do not validate the starting point (it then cannot win best.pt)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = trainlib.Logger(os.path.join(args.out, "train.log"))
    ckpt_path = os.path.join(args.out, "last.pt")

    groups = trainlib.load_groups(os.path.join(args.data, "train_groups.jsonl"))
    val = trainlib.load_val(args.data)
    if args.val_limit:
        val = {k: v[: args.val_limit] for k, v in val.items()}
    weights = dict(DEFAULT_WEIGHTS, **(json.loads(args.weights) if args.weights else {}))
    sched = trainlib.schedule(groups, weights, args.groups, args.seed)
    strong = None
    if args.teacher == "strong":
        strong = strong_teacher.load_rows(args.data, len(groups))
    onnx_path, tok_path = minilm.extract_backbone()
    tok = wordpiece.WordPieceTokenizer(tok_path)

    torch.manual_seed(args.seed)
    model = minilm.CrossEncoder(minilm.load_minilm(onnx_path, dropout=0.1), num_labels=1, seed=args.seed)
    if args.init_onnx:
        model.load_state_dict(minilm.cross_encoder_state_from_onnx(
            args.init_onnx, model.bert.embeddings.word_embeddings.weight), strict=True)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    zero_shot_maxsim = (make_zero_shot_teacher(onnx_path, tok, args.max_len) if args.teacher in ("mixed", "strong")
                        else None)
    head = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    body = [p for n, p in model.named_parameters() if n.startswith("bert.") and p.requires_grad]
    params = trainlib.cross_encoder_param_groups(model, args.lr, args.head_lr)
    base_lrs = [g["lr"] for g in params]
    opt = torch.optim.AdamW(params, lr=args.lr)
    total_steps = args.groups // args.accum
    state = {"group": args.start_group, "history": [], "best": None}
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        trainlib.set_rng_state(ck["rng"])
        log("resumed at group", state["group"])
    else:
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump({"args": vars(args), "weights": weights,
                       "data_fingerprints": json.load(open(os.path.join(args.data, "fingerprints.json")))}, f,
                      indent=2)
        log("start", json.dumps(vars(args)), "params", sum(p.numel() for p in body + head))

    def save(tag="last"):
        trainlib.save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                              "rng": trainlib.rng_state(), "args": vars(args)}, os.path.join(args.out, tag + ".pt"))

    def score_fn(max_len):
        def f(q, texts):
            enc = [tok.encode_pair(q, t, max_len) for t in texts]
            res = minilm.run_batched(lambda i, m, t: model(i, m, t)[:, 0], enc)
            return [float(r[0]) for r in res]
        return f

    def validate():
        model.eval()
        t0 = time.time()
        out = {}
        for name, items in val.items():
            out[name] = trainlib.rerank_val(score_fn(args.val_max_len), items)[0]
        model.train()
        out["mean"] = float(np.mean([out[k] for k in val]))
        log("validation at group %d: %s (%.0fs)" % (state["group"], json.dumps({k: round(v, 4) for k, v in
                                                                              out.items()}), time.time() - t0))
        state["history"].append({"group": state["group"], **out})
        if state["best"] is None or out["mean"] > state["best"]["mean"]:
            state["best"] = {"group": state["group"], **out}
            torch.save({"model": model.state_dict(), "group": state["group"], "val": out},
                       os.path.join(args.out, "best.pt"))
            log("new best")

    if not state["history"]:
        refs = {name: trainlib.rerank_val(lambda q, texts: [0.0] * len(texts), items)[1:] for name, items in
                val.items()}
        log("validation references (nDCG@10 bi-encoder, BM25 order):", json.dumps(refs))
        state["history"].append({"group": state["group"], "refs": refs})
        if args.init_onnx and not args.no_init_val:
            validate()  # the starting point competes for best.pt too
        save()
    model.train()
    last_ckpt = time.time()
    t_start, g_start = time.time(), state["group"]
    run_loss, run_n = 0.0, 0
    end = min(args.groups, args.stop_group or args.groups)
    while state["group"] < end:
        step = state["group"] // args.accum
        f = trainlib.lr_factor(step, args.warmup, total_steps)
        if args.rewarmup:
            f *= min(1.0, (step - args.start_group // args.accum + 1) / args.rewarmup)
        for pg, base in zip(opt.param_groups, base_lrs):
            pg["lr"] = base * f
        lam = args.distill + (args.distill_end - args.distill) * state["group"] / args.groups
        opt.zero_grad()
        for a in range(args.accum):
            gi = state["group"] + a
            if gi >= args.groups:
                break
            g = groups[sched[gi]]
            rng = random.Random(args.seed * 1000003 + gi)
            texts, teacher = make_group(g, args.group_size, rng)
            max_len = args.max_len_long if g["src"] in LONG_SOURCES else args.max_len
            enc = [tok.encode_pair(g["q"], t, max_len) for t in texts]
            ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
            logits = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0]
            target = torch.zeros(1, dtype=torch.long)
            loss = F.cross_entropy(logits[None, :], target)
            if lam > 0:
                row = strong[sched[gi]] if strong is not None else None
                if row is not None:
                    t = torch.softmax(strong_teacher.logits(row, texts) * args.strong_teacher_scale, dim=0)
                elif zero_shot_maxsim is not None and g["src"] in WEB_SOURCES:
                    zs = torch.tensor(zero_shot_maxsim(g["q"], texts))
                    zs = zs + args.zs_teacher_bi_weight * torch.tensor(teacher)
                    t = torch.softmax(zs * args.zs_teacher_scale, dim=0)
                else:
                    t = torch.softmax(torch.tensor(teacher) * args.teacher_scale, dim=0)
                loss = loss + lam * F.kl_div(torch.log_softmax(logits, dim=0), t, reduction="sum")
            (loss / args.accum).backward()
            run_loss += float(loss)
            run_n += 1
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["group"] = min(args.groups, state["group"] + args.accum)
        if state["group"] % 200 == 0:
            rate = (state["group"] - g_start) / max(1e-9, time.time() - t_start)
            log("group %d/%d loss %.4f lr %.2e lambda %.2f | %.2f groups/s, eta %.0f min" % (
                state["group"], args.groups, run_loss / max(1, run_n), opt.param_groups[0]["lr"], lam, rate,
                (args.groups - state["group"]) / max(rate, 1e-9) / 60))
            run_loss, run_n = 0.0, 0
        if state["group"] % args.val_every == 0 or state["group"] >= end:
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
