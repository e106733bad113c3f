"""Distils the two-model hybrid (cross-encoder logit + W x bi-encoder cosine, models/STATUS.md row 3w) into one
cross-encoder (resumable; rerun the same command to continue).

    nohup nice -n 5 /usr/bin/python3 models/tools/distill_hybrid.py --out models/build/minilm-ce-hd &

Why: on TREC DL 2019 our cross-encoders sit at 0.642-0.649 nDCG@10 whatever the continuation, below BM25 +
all-MiniLM-L6-v2 (0.6455-0.6476), while minilm-ce-v3's logit + 5 x the bi-encoder's cosine reaches 0.6687: the two
models know different things. This asks whether one cross-encoder can learn the sum.

Data: MS MARCO dev600 x BM25 top-20 (/work/shared/train/msmarco_dev600_bm25top20_tomjg14/pairs.tsv), no labels
needed: the teacher scores every candidate. The 40 queries with thesis graded labels are held out as validation, as
in build_training_data.py; the other 560 queries train. TREC DL 2019 and every test split are never read.
Teacher: minilm-ce-v3 (the shipped int8 graph read back to fp32) logit + W x all-MiniLM-L6-v2 (fp32) cosine, W = 5
as chosen for the hybrid on the same validation queries. Student: starts as minilm-ce-v3; per query a random group
of --group-size of its 20 candidates; loss KL(softmax(teacher) || softmax(student)) over the group (listwise
distillation); word embeddings frozen, as in train_cross_encoder.py. Checkpoints: last.pt (resume), best.pt (best
validation nDCG@10, the starting point included) in train_cross_encoder.py's format, so export_release.py reads it.
Stronger teachers (models/STATUS.md row 4b, tried and rejected): --bge-weight / --e5-weight add bge-small-en-v1.5's and
e5-small-v2's cosines (strong_teacher.py's embeddings, cached in teacher_strong.json), --teacher-onnx picks the
teacher's cross-encoder, --logit-weight scales its logit (0: bi-encoders only, row 4c), and --grid prints validation
figures for a grid of teacher weights and exits.
Mined candidates (--mine K, row 4d): with a bi-encoder-only teacher every passage of the pool can be scored for every
query from cached embeddings, so each training query also gets the K passages of other training queries that the
teacher ranks highest for it (bi-encoder-mined hard negatives, or unlabelled positives: the teacher decides), and each
training group takes --mine-per-group of them in place of as many BM25 candidates.
ColBERT student (--student colbert, row 4e): the same teacher, groups and listwise loss, but the student is a
late-interaction encoder scored by MaxSim: the raw all-MiniLM-L6-v2 backbone with an identity 384 -> 384 projection, no
markers, no [MASK] augmentation, punctuation skipped (so before training it is exactly the plugin's zero-shot MaxSim);
all six layers train (word embeddings frozen). MaxSim sums up to 32 query-token cosines, so its differences between
documents live on another scale than the teacher's: --student-scale multiplies it inside the softmax.
SciFact claims (--scifact, row 4f): the SciFact train claims join the MS MARCO training queries (scifact_pool: BM25
top 20 from the SciFact corpus plus 10 teacher-mined documents, the same bi-encoder-only teacher); --label-margin puts
each claim's labelled documents in its groups, ranked by the target above every other member, so the qrels teach too;
--labels-only makes the claim's target its labels alone (softmax cross-entropy against hard negatives), since on 80
held-out train claims the teacher ranks BM25's top 20 worse (0.7269 nDCG@10) than BM25 (0.7407) and than the zero-shot
start (0.7595).
80 held-out claims give a second validation figure (logged; it selects nothing).
"""
import argparse
import csv
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
import ir  # noqa: E402
import minilm  # noqa: E402
import trainlib  # noqa: E402
import wordpiece  # noqa: E402

DATA = "/work/shared/train/msmarco_dev600_bm25top20_tomjg14"


def load_pool(data_dir):
    """query id -> {"q": text, "cands": [(pid, text)] in BM25 order, "binary": {pid: 1} for the official MS MARCO
    positives}; graded validation qrels {qid: {pid: gain}}."""
    pool = {}
    with open(os.path.join(data_dir, "pairs.tsv"), encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            e = pool.setdefault(row["query_id"], {"q": row["query"], "cands": [], "binary": {}})
            e["cands"].append((row["passage_id"], row["passage"], int(row["bm25_rank"])))
            if int(row["msmarco_label"]) > 0:
                e["binary"][row["passage_id"]] = 1
    for e in pool.values():
        e["cands"] = [(p, t) for p, t, _ in sorted(e["cands"], key=lambda c: c[2])]
    graded = {}
    with open(os.path.join(data_dir, "thesis_dataset_graded_relevance.tsv"), encoding="utf-8") as f:
        for line in f:
            q, p, g = line.split()[:3]
            graded.setdefault(q, {})[p] = int(g) - 1  # thesis grades 1-5 -> gain 0-4, as build_training_data.py
    return pool, graded


TEACHER_QLEN = {"minilm": 256, "bge": 64, "e5": 64}  # query lengths of the teacher's cached embeddings


def teacher_cosines(weights, queries, texts, doc_len):
    """{name: cosine matrix [queries x texts]} for each bi-encoder of the teacher with a non-zero weight
    (weights = (all-MiniLM-L6-v2, bge-small, e5-small)); embeddings from strong_teacher.embed's disk cache."""
    import strong_teacher
    out = {}
    for name, w in zip(("minilm", "bge", "e5"), weights):
        if not w:
            continue
        bert, stok = strong_teacher.load_teacher(name)
        prefixes = strong_teacher.TEACHERS[name]
        with torch.no_grad():
            qe = strong_teacher.embed(name, bert, stok, queries, prefixes["qp"], TEACHER_QLEN[name])
            de = strong_teacher.embed(name, bert, stok, texts, prefixes["dp"], doc_len)
        del bert
        out[name] = qe @ de.T
    return out


def teacher_total(weights, queries, texts, doc_len):
    """The teacher's score matrix [queries x texts]: teacher_cosines weighted by weights and summed."""
    w = dict(zip(("minilm", "bge", "e5"), weights))
    total = np.zeros((len(queries), len(texts)), dtype=np.float32)
    for name, cos in teacher_cosines(weights, queries, texts, doc_len).items():
        total += w[name] * cos
    return total


def flat_candidates(pool):
    """The MS MARCO pool's candidates flattened in query order: (queries, texts, owning query, passage ids). mine()
    and wikiqa_pool embed exactly this text list, so they share strong_teacher.embed's cache entry."""
    qs = sorted(pool)
    return (qs, [t for q in qs for _, t in pool[q]["cands"]], [q for q in qs for _ in pool[q]["cands"]],
            [p for q in qs for p, _ in pool[q]["cands"]])


def top_unseen(row, ids, texts, seen, k):
    """The k highest-scoring entries of row (stopping at -inf) whose id is not in seen (updated):
    {"texts", "scores", "ids"}."""
    out = {"texts": [], "scores": [], "ids": []}
    for j in np.argsort(-row):
        if len(out["ids"]) == k or not np.isfinite(row[j]):
            break
        if ids[j] in seen:
            continue
        seen.add(ids[j])
        out["texts"].append(texts[j])
        out["scores"].append(float(row[j]))
        out["ids"].append(ids[j])
    return out


def mine(args, pool, train_q, teacher, log):
    """For each training query, the args.mine passages of other training queries' candidates with the highest
    bi-encoder-only teacher score: {q: top_unseen's {"texts", "scores", "ids"}}. Embeddings come from
    teacher_cosines (the same texts, prefixes and lengths as the teacher's own cosines, which are checked against
    them)."""
    qs, texts, owner, pids = flat_candidates(pool)
    weights = {"minilm": args.bi_weight, "bge": args.bge_weight, "e5": args.e5_weight}
    total = np.zeros((len(qs), len(texts)), dtype=np.float32)
    for name, cos in teacher_cosines(tuple(weights.values()), [pool[q]["q"] for q in qs], texts, 256).items():
        key = "cos" if name == "minilm" else name
        k, worst = 0, 0.0
        for i, q in enumerate(qs):  # the teacher's own candidates must get the cosines it was given
            n = len(pool[q]["cands"])
            worst = max(worst, float(np.abs(cos[i, k: k + n] - np.asarray(teacher[q][key])).max()))
            k += n
        if worst > 2e-3:
            raise SystemExit("mining: %s cosines differ from the teacher's by %.2g" % (name, worst))
        total += weights[name] * cos
        log("mining: %s cosines for %d x %d pairs (max diff to the teacher's %.1g)" % (name, len(qs), len(texts),
                                                                                       worst))
    train = set(train_q)
    allowed = np.array([o in train for o in owner])
    mined = {}
    for i, q in enumerate(qs):
        if q not in train:
            continue
        mined[q] = top_unseen(np.where(allowed, total[i], -np.inf), pids, texts, {p for p, _ in pool[q]["cands"]},
                              args.mine)
    log("mining: %d passages for each of %d training queries" % (args.mine, len(mined)))
    return mined


SCIFACT_HOLDOUT = 80  # held-out SciFact train claims: a second validation figure, never trained on
SCIFACT_INPUTS = {  # name (as fingerprinted in config.json) -> path
    "scifact_train/queries.jsonl": os.path.join(ir.TRAIN, "scifact_train", "queries.jsonl"),
    "scifact_train/qrels_train.tsv": os.path.join(ir.TRAIN, "scifact_train", "qrels_train.tsv"),
    "scifact/corpus.jsonl": os.path.join(ir.DATA, "scifact", "corpus.jsonl"),
}


def scifact_pool(weights, k_bm25, k_mine, doc_len, log):
    """SciFact *train* claims (/work/shared/train/scifact_train) as extra training queries (--scifact, row 4f).

    Candidates come from the SciFact corpus (the test collection's documents; its test qrels are never read, its
    test claims only to drop the train claims with the same text): each claim's BM25 top k_bm25 in BM25 order,
    plus the k_mine documents the bi-encoder-only teacher ranks highest over the whole corpus that BM25 missed
    (the "mined" passages of the MS MARCO groups). The teacher is the same weighted sum of all-MiniLM-L6-v2,
    bge-small and e5-small cosines (strong_teacher.embed, cached), with documents cut to doc_len tokens: the
    student's training length, so teacher and student read the same text (the three 5,183-document embeddings
    took 16 min at 128 tokens; a 256-token MiniLM pass, stopped after about 4 min, had not finished, where the
    whole 128-token MiniLM pass took 3.5 min).
    SCIFACT_HOLDOUT claims (a fixed shuffle, seed 13) are held out for validation. Returns (pool entries keyed
    "sf-<id>" in load_pool's format with "rels" added, {key: teacher scores of cands}, {key: mined (top_unseen)},
    training keys, held-out keys); each entry's "pos" lists its labelled documents as (id, text, teacher score)."""
    corpus = {d: ir.doc_text(*v) for d, v in ir.load_corpus(SCIFACT_INPUTS["scifact/corpus.jsonl"]).items()}
    q_all = ir.load_queries(SCIFACT_INPUTS["scifact_train/queries.jsonl"])
    qrels = ir.load_qrels(SCIFACT_INPUTS["scifact_train/qrels_train.tsv"])
    test_q = ir.load_queries(os.path.join(ir.DATA, "scifact", "queries.jsonl"))
    if set(test_q) & set(qrels):
        raise SystemExit("scifact: a test claim id is among the train claims")
    # two train claims repeat a test claim's text word for word (871, 1291): they are dropped
    test_texts = set(test_q.values())
    qids = sorted((q for q in qrels if q_all[q] not in test_texts), key=int)
    shuffled = list(qids)
    random.Random(13).shuffle(shuffled)
    held = set(shuffled[:SCIFACT_HOLDOUT])
    docs = sorted(corpus)
    texts = [corpus[d] for d in docs]
    total = teacher_total(weights, [q_all[q] for q in qids], texts, doc_len)
    bm25 = ir.BM25(corpus)
    didx = {d: j for j, d in enumerate(docs)}
    pool, targets, mined = {}, {}, {}
    for i, q in enumerate(qids):
        key = "sf-" + q
        bm = list(bm25.search(q_all[q], k_bm25))
        pool[key] = {"q": q_all[q], "cands": [(d, corpus[d]) for d in bm], "binary": {}, "rels": dict(qrels[q]),
                     "pos": [(d, corpus[d], float(total[i, didx[d]])) for d in sorted(qrels[q]) if d in corpus]}
        targets[key] = [float(total[i, didx[d]]) for d in bm]
        mined[key] = top_unseen(total[i], docs, texts, set(bm), k_mine)
    train = ["sf-" + q for q in qids if q not in held]
    val = ["sf-" + q for q in qids if q in held]
    log("scifact: %d train claims, %d held out, %d dropped as test claims; %d BM25 + %d mined candidates each" % (
        len(train), len(val), len(qrels) - len(qids), k_bm25, k_mine))
    return pool, targets, mined, train, val


WIKIQA_TRAIN = os.path.join(ir.TRAIN, "wikiqa", "train_pairs.tsv")


def wikiqa_pool(weights, pool, k_mine, log, min_cands=4):
    """WikiQA *train* questions (Bing query-log questions, lowercased and tokenized) as extra web-style training
    queries for the bi-encoder-only teacher (--wikiqa, row 4h). Each question keeps its own candidate sentences
    (from the Wikipedia article WikiQA pairs it with; questions with fewer than min_cands are skipped) and gets the
    k_mine MS MARCO dev600 pool passages the teacher ranks highest (the pool embeddings are mine()'s cached ones).
    The WikiQA labels are not used: like the MS MARCO groups, these learn the teacher's scores. Returns (pool
    entries keyed "wq-<id>", {key: teacher scores of cands}, {key: mined (top_unseen)}, training keys)."""
    rows = {}
    with open(WIKIQA_TRAIN, encoding="utf-8") as f:
        for line in f:
            qid, q, sent, lab = line.rstrip("\n").split("\t")
            e = rows.setdefault(qid, {"q": q, "cands": [], "labels": {}})
            pid = "wq-%s-%d" % (qid, len(e["cands"]))
            e["cands"].append((pid, sent))
            e["labels"][pid] = int(lab)
    qids = sorted((q for q in rows if len(rows[q]["cands"]) >= min_cands), key=int)
    texts = [t for q in qids for _, t in rows[q]["cands"]]
    questions = [rows[q]["q"] for q in qids]
    total = teacher_total(weights, questions, texts, 128)
    _, m_texts, _, m_ids = flat_candidates(pool)
    m_total = teacher_total(weights, questions, m_texts, 256)
    out, targets, mined, k = {}, {}, {}, 0
    for i, q in enumerate(qids):
        key = "wq-" + q
        n = len(rows[q]["cands"])
        out[key] = {"q": rows[q]["q"], "cands": rows[q]["cands"], "binary": {}, "rels": rows[q]["labels"]}
        targets[key] = [float(x) for x in total[i, k: k + n]]
        mined[key] = top_unseen(m_total[i], m_ids, m_texts, set(), k_mine)
        k += n
    run = {key: {p: sc for (p, _), sc in zip(out[key]["cands"], targets[key])} for key in out}
    rels = {key: {p: g for p, g in out[key]["rels"].items() if g} for key in out}
    rels = {key: r for key, r in rels.items() if r}
    log("wikiqa: %d train questions with >= %d sentences (%d sentences); teacher MRR@10 on their labels %.4f "
        "(%d questions with an answer), %d mined pool passages each" % (
            len(qids), min_cands, len(texts), ir.mrr_at({q: run[q] for q in rels}, rels, 10), len(rels), k_mine))
    return out, targets, mined, ["wq-" + q for q in qids]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "build", "minilm-ce-hd"))
    ap.add_argument("--init-onnx", default=os.path.join(minilm.MODELS_DIR, "release", "minilm-ce-v3", "model.onnx"))
    ap.add_argument("--init-pt", help="start the student from this checkpoint (train_cross_encoder.py format, e.g. "
                    "an earlier run's best.pt) instead of --init-onnx; the teacher still uses --init-onnx")
    ap.add_argument("--qat", action="store_true",
                    help="quantization-aware training: every forward pass (training and validation) runs with "
                    "quantize_int8.py's arithmetic simulated (qat.py), so the int8 export is what was trained")
    ap.add_argument("--teacher-dir", help="folder holding (or receiving) teacher.json / teacher_strong.json "
                    "(default --out): a run with the same --init-onnx / --teacher-onnx reuses another's teacher scores")
    ap.add_argument("--teacher-onnx", help="the teacher's cross-encoder (default: --init-onnx); float16-storage and "
                    "int8 graphs are read back to float32")
    ap.add_argument("--bi-weight", type=float, default=5.0, help="W in teacher = logit + W x cosine")
    ap.add_argument("--logit-weight", type=float, default=1.0,
                    help="weight of the teacher cross-encoder's logit (0: a bi-encoder-only teacher)")
    ap.add_argument("--bge-weight", type=float, default=0.0,
                    help="adds this x bge-small-en-v1.5's cosine to the teacher (strong_teacher.py's embedding)")
    ap.add_argument("--e5-weight", type=float, default=0.0, help="adds this x e5-small-v2's cosine to the teacher")
    ap.add_argument("--grid", action="store_true",
                    help="print the validation figures of teacher weight combinations (bi x bge x e5) and exit; "
                    "the 40 graded queries and the dev600 queries' official binary labels (MRR@10) are both used")
    ap.add_argument("--mine", type=int, default=0,
                    help="K passages of other training queries, ranked by the teacher, added to each training "
                    "query's candidates (needs --logit-weight 0: the teacher must score any pair)")
    ap.add_argument("--mine-per-group", type=int, default=3, help="mined passages in each training group")
    ap.add_argument("--temperature", type=float, default=1.0, help="softmax temperature of teacher and student")
    ap.add_argument("--student", choices=("ce", "colbert"), default="ce",
                    help="colbert: a late-interaction student starting as zero-shot MaxSim (--init-onnx then only "
                    "names the teacher's cross-encoder; --init-pt, if given, is a ColBERT checkpoint of this script)")
    ap.add_argument("--student-scale", type=float, default=1.0,
                    help="ColBERT student: MaxSim x this is the student's logit in the listwise loss")
    ap.add_argument("--doc-len", type=int, default=128, help="ColBERT student: document tokens in training")
    ap.add_argument("--scifact", action="store_true",
                    help="add the SciFact train claims as training queries (scifact_pool; needs --logit-weight 0)")
    ap.add_argument("--wikiqa", action="store_true",
                    help="add the WikiQA train questions (own sentences + teacher-mined MS MARCO pool passages, "
                    "teacher targets only; needs --logit-weight 0 and --mine)")
    ap.add_argument("--label-margin", type=float, default=None,
                    help="SciFact groups: their labelled documents are always in the group, each with target "
                    "max(its teacher score, the best other member's + this margin)")
    ap.add_argument("--labels-only", action="store_true",
                    help="SciFact groups: their labelled documents are always in the group and the target puts all "
                    "probability on them (softmax cross-entropy against the BM25 and teacher-mined negatives); the "
                    "teacher only mines")
    ap.add_argument("--seed", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--group-size", type=int, default=10)
    ap.add_argument("--accum", type=int, default=4, help="queries per optimizer step")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--head-lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=15, help="optimizer steps")
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--val-max-len", type=int, default=256)
    ap.add_argument("--val-every", type=int, default=560, help="queries")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="training queries (smoke tests)")
    args = ap.parse_args()
    if args.mine and args.logit_weight != 0:
        ap.error("--mine needs --logit-weight 0 (a cross-encoder teacher would have to score every mined pair)")
    if (args.label_margin is not None or args.labels_only) and not args.scifact:
        ap.error("--label-margin and --labels-only apply to --scifact groups")
    if args.label_margin is not None and args.labels_only:
        ap.error("--label-margin and --labels-only exclude each other")
    if args.scifact and args.logit_weight != 0:
        ap.error("--scifact needs --logit-weight 0 (the cross-encoder teacher scores only the MS MARCO pool)")
    if args.wikiqa and (args.logit_weight != 0 or not args.mine):
        ap.error("--wikiqa needs --logit-weight 0 and --mine")
    if args.student == "colbert" and args.qat:
        ap.error("--qat is for cross-encoder students")
    if args.mine and args.mine_per_group >= args.group_size:
        ap.error("--mine-per-group must be below --group-size")
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = trainlib.Logger(os.path.join(args.out, "train.log"))

    pool, graded = load_pool(DATA)
    val_q = sorted(q for q in pool if q in graded)
    train_q = sorted(q for q in pool if q not in graded)
    if args.limit:
        train_q = train_q[: args.limit]
    onnx_path, tok_path = minilm.extract_backbone()
    tok = wordpiece.WordPieceTokenizer(tok_path)

    def ce_scores(model, q, texts, max_len):
        enc = [tok.encode_pair(q, t, max_len) for t in texts]
        return [float(r[0]) for r in minilm.run_batched(lambda i, m, t: model(i, m, t)[:, 0], enc)]

    # ColBERT student: the plugin's zero-shot encoding (models/MANIFEST.md `colbert`)
    colbert_manifest = {"query_marker": None, "document_marker": None, "query_max_length": 32,
                        "document_max_length": args.val_max_len, "query_augmentation": False,
                        "skiplist": "punctuation", "normalize": True, "dimension": 384}
    cb_enc = {n: colbert_encoding.ColbertEncoding.from_manifest(tok, {**colbert_manifest, "document_max_length": n})
              for n in (args.doc_len, args.val_max_len)}

    def colbert_vectors(model, encs):
        ids, mask = colbert_encoding.pad([e[0] for e in encs], [e[1] for e in encs])
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        return F.normalize(model(ids, mask, torch.zeros_like(ids)), dim=-1)

    def colbert_logits(model, q, texts, doc_len):
        """MaxSim of q against each text, differentiable: [len(texts)]."""
        enc = cb_enc[doc_len]
        qe, de = [enc.query(q)], [enc.document(t) for t in texts]
        return trainlib.maxsim_scores(colbert_vectors(model, qe), qe, colbert_vectors(model, [d[:2] for d in de]),
                                      de)[0]

    def student_scores(model, q, texts, max_len):
        if args.student == "ce":
            return ce_scores(model, q, texts, max_len)
        with torch.no_grad():
            return colbert_logits(model, q, texts, max_len).tolist()

    # --- teacher scores (cached) ---
    teacher_dir = args.teacher_dir or args.out
    teacher_path = os.path.join(teacher_dir, "teacher.json")
    if not os.path.exists(teacher_path):
        t0 = time.time()
        bert = minilm.load_minilm(onnx_path, dropout=0.0).eval()
        qs = sorted(pool)
        q_emb = minilm.embed_texts(bert, tok, [pool[q]["q"] for q in qs], 256)
        texts = [t for q in qs for _, t in pool[q]["cands"]]
        p_emb = minilm.embed_texts(bert, tok, texts, 256)
        log("bi-encoder embeddings: %d queries, %d passages (%.0f s)" % (len(qs), len(texts), time.time() - t0))
        ce = minilm.CrossEncoder(minilm.load_minilm(onnx_path, dropout=0.0), num_labels=1)
        ce.load_state_dict(minilm.cross_encoder_state_from_onnx(args.teacher_onnx or args.init_onnx,
                                                                ce.bert.embeddings.word_embeddings.weight))
        ce.eval()
        rows, k = {}, 0
        for i, q in enumerate(qs):
            n = len(pool[q]["cands"])
            cos = (p_emb[k: k + n] @ q_emb[i]).tolist()
            k += n
            # validation queries are scored at the validation length, training queries at the training length
            logit = ce_scores(ce, pool[q]["q"], [t for _, t in pool[q]["cands"]],
                              args.val_max_len if q in graded else args.max_len)
            rows[q] = {"cos": cos, "logit": logit}
            if (i + 1) % 100 == 0:
                log("teacher: %d/%d queries (%.0f s)" % (i + 1, len(qs), time.time() - t0))
        with open(teacher_path + ".tmp", "w") as f:
            json.dump(rows, f)
        os.replace(teacher_path + ".tmp", teacher_path)
        del ce, bert
    teacher = json.load(open(teacher_path))
    if args.bge_weight or args.e5_weight or args.grid:
        strong_path = os.path.join(teacher_dir, "teacher_strong.json")
        if not os.path.exists(strong_path):
            import strong_teacher
            qs = sorted(pool)
            texts = [t for q in qs for _, t in pool[q]["cands"]]
            rows = {q: {} for q in qs}
            for name in ("bge", "e5"):
                bert, stok = strong_teacher.load_teacher(name)
                with torch.no_grad():
                    qe = strong_teacher.embed(name, bert, stok, [pool[q]["q"] for q in qs],
                                              strong_teacher.TEACHERS[name]["qp"], 64)
                    pe = strong_teacher.embed(name, bert, stok, texts, strong_teacher.TEACHERS[name]["dp"], 256)
                k = 0
                for i, q in enumerate(qs):
                    n = len(pool[q]["cands"])
                    rows[q][name] = (pe[k: k + n] @ qe[i]).tolist()
                    k += n
                del bert
                log("%s embeddings done" % name)
            with open(strong_path + ".tmp", "w") as f:
                json.dump(rows, f)
            os.replace(strong_path + ".tmp", strong_path)
        for q, r in json.load(open(strong_path)).items():
            teacher[q].update(r)

    def teacher_scores(q, bi, bge, e5):
        t = np.add(np.multiply(args.logit_weight, teacher[q]["logit"]), np.multiply(bi, teacher[q]["cos"]))
        if bge:
            t = t + np.multiply(bge, teacher[q]["bge"])
        if e5:
            t = t + np.multiply(e5, teacher[q]["e5"])
        return t.tolist()

    def as_run(scores, qs):
        return {q: {p: float(s) for (p, _), s in zip(pool[q]["cands"], scores[q])} for q in qs}

    def val_ndcg(scores):
        return ir.ndcg_at(as_run(scores, val_q), {q: graded[q] for q in val_q}, 10)[0]

    def sf_ndcg(scores):  # the held-out SciFact train claims (--scifact)
        return ir.ndcg_at(as_run(scores, sf_val), {q: pool[q]["rels"] for q in sf_val}, 10)[0]

    targets = {q: teacher_scores(q, args.bi_weight, args.bge_weight, args.e5_weight) for q in pool}

    refs = {
        "bm25": val_ndcg({q: [-j for j in range(len(pool[q]["cands"]))] for q in val_q}),
        "bi": val_ndcg({q: teacher[q]["cos"] for q in val_q}),
        "init_logit": val_ndcg({q: teacher[q]["logit"] for q in val_q}),
        "teacher": val_ndcg(targets),
    }
    log("validation references (nDCG@10, %d graded MS MARCO queries): %s" % (
        len(val_q), json.dumps({k: round(v, 4) for k, v in refs.items()})))

    if args.grid:
        binary = {q: e["binary"] for q, e in pool.items() if e["binary"]}
        log("grid: bi bge e5 | graded nDCG@10 (%d) | binary MRR@10 (%d queries)" % (len(val_q), len(binary)))
        # with --logit-weight 0 only the ratios of the cosine weights rank: skip the all-zero teacher
        for bi in (0, 2.5, 5, 10):
            for bge in (0, 5, 10, 20):
                for e5 in (0, 10, 20, 40):
                    if args.logit_weight == 0 and bi == bge == e5 == 0:
                        continue
                    sc = {q: teacher_scores(q, bi, bge, e5) for q in pool}
                    mrr = ir.mrr_at(as_run(sc, binary), binary, 10)
                    log("grid %5.1f %5.1f %5.1f | %.4f | %.4f" % (bi, bge, e5, val_ndcg(sc), mrr))
        return

    mined = mine(args, pool, train_q, teacher, log) if args.mine else {}
    sf_val = []
    if args.scifact:
        sf_pool, sf_targets, sf_mined, sf_train, sf_val = scifact_pool(
            (args.bi_weight, args.bge_weight, args.e5_weight), 20, args.mine or 10, args.doc_len, log)
        pool.update(sf_pool)
        targets.update(sf_targets)
        mined.update(sf_mined)
        train_q = train_q + sf_train[: args.limit] if args.limit else train_q + sf_train
        sf_bm25 = sf_ndcg({q: [-j for j in range(len(pool[q]["cands"]))] for q in sf_val})
        sf_teacher = sf_ndcg(targets)
        refs.update({"scifact_bm25": sf_bm25, "scifact_teacher": sf_teacher})
        log("scifact held-out references (nDCG@10 over BM25 top 20, %d claims): BM25 %.4f teacher %.4f" % (
            len(sf_val), sf_bm25, sf_teacher))

    if args.wikiqa:
        wq_pool, wq_targets, wq_mined, wq_train = wikiqa_pool((args.bi_weight, args.bge_weight, args.e5_weight), pool,
                                                              args.mine, log)
        pool.update(wq_pool)
        targets.update(wq_targets)
        mined.update(wq_mined)
        train_q = train_q + (wq_train[: args.limit] if args.limit else wq_train)

    # --- student ---
    torch.manual_seed(args.seed)
    if args.student == "colbert":
        model = minilm.ColBERT(minilm.load_minilm(onnx_path, dropout=0.1), dim=384, seed=args.seed)
        with torch.no_grad():
            model.proj.weight.copy_(torch.eye(384))
        if args.init_pt:
            model.load_state_dict(torch.load(args.init_pt, map_location="cpu")["model"])
    else:
        model = minilm.CrossEncoder(minilm.load_minilm(onnx_path, dropout=0.1), num_labels=1, seed=args.seed)
        if args.init_pt:
            model.load_state_dict(torch.load(args.init_pt, map_location="cpu")["model"])
        else:
            model.load_state_dict(minilm.cross_encoder_state_from_onnx(args.init_onnx,
                                                                       model.bert.embeddings.word_embeddings.weight))
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if args.qat:
        import qat
        qat.prepare(model)
    params = trainlib.cross_encoder_param_groups(model, args.lr, args.head_lr)
    base_lrs = [g["lr"] for g in params]
    opt = torch.optim.AdamW(params, lr=args.lr)
    order = []
    for e in range(args.epochs):
        o = list(train_q)
        random.Random(args.seed * 7919 + e).shuffle(o)
        order += o
    total_steps = (len(order) + args.accum - 1) // args.accum
    ckpt_path = os.path.join(args.out, "last.pt")
    state = {"done": 0, "history": [], "best": None, "refs": refs}

    def save(tag="last"):
        trainlib.save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                              "rng": trainlib.rng_state(), "args": vars(args)}, os.path.join(args.out, tag + ".pt"))

    def validate():
        model.eval()
        t0 = time.time()
        sc = {q: student_scores(model, pool[q]["q"], [t for _, t in pool[q]["cands"]], args.val_max_len)
              for q in val_q}
        nd = val_ndcg(sc)
        if sf_val:
            sf = {q: student_scores(model, pool[q]["q"], [t for _, t in pool[q]["cands"]], args.val_max_len)
                  for q in sf_val}
            sf_nd = sf_ndcg(sf)
            log("validation after %d queries: SciFact held-out nDCG@10 %.4f" % (state["done"], sf_nd))
            state.setdefault("scifact_history", []).append({"done": state["done"], "ndcg10": sf_nd})
        model.train()
        # within-query spread of the student's logits (x --student-scale) next to the teacher's: the listwise loss
        # compares their softmaxes, so they should be of one scale
        spread = (float(np.mean([np.std(np.multiply(sc[q], args.student_scale if args.student == "colbert" else 1.0))
                                 for q in val_q])), float(np.mean([np.std(targets[q]) for q in val_q])))
        log("validation after %d queries: nDCG@10 %.4f (%.0f s; spread student %.3f teacher %.3f)" % (
            state["done"], nd, time.time() - t0, *spread))
        state["history"].append({"done": state["done"], "ndcg10": nd})
        if state["best"] is None or nd > state["best"]["ndcg10"]:
            state["best"] = {"done": state["done"], "ndcg10": nd}
            torch.save({"model": model.state_dict(), "group": state["done"], "val": {"msmarco-graded": nd}},
                       os.path.join(args.out, "best.pt"))
            log("new best")

    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        trainlib.set_rng_state(ck["rng"])
        log("resumed after %d queries" % state["done"])
    else:
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump({"args": {**vars(args), **({"dim": 384} if args.student == "colbert" else {})},
                       **({"manifest": colbert_manifest} if args.student == "colbert" else {}),
                       "train_queries": len(train_q), "val_queries": len(val_q),
                       "inputs": {"pairs.tsv": minilm.sha256_file(os.path.join(DATA, "pairs.tsv")),
                                  "init_onnx": minilm.sha256_file(args.init_onnx),
                                  **({"teacher_onnx": minilm.sha256_file(args.teacher_onnx)} if args.teacher_onnx
                                     else {}),
                                  **({"init_pt": minilm.sha256_file(args.init_pt)} if args.init_pt else {}),
                                  **({n: minilm.sha256_file(path) for n, path in SCIFACT_INPUTS.items()}
                                     if args.scifact else {}),
                                  **({"wikiqa/train_pairs.tsv": minilm.sha256_file(WIKIQA_TRAIN)}
                                     if args.wikiqa else {})}},
                      f, indent=2)
        log("start", json.dumps(vars(args)), "train queries", len(train_q))
        validate()  # the starting point (minilm-ce-v3 read back, --init-pt, or zero-shot MaxSim) competes for best.pt
        save()
    model.train()
    last_ckpt, t_start, d_start = time.time(), time.time(), state["done"]
    run_loss, run_n = 0.0, 0
    while state["done"] < len(order):
        step = state["done"] // args.accum
        f = trainlib.lr_factor(step, args.warmup, total_steps)
        for pg, base in zip(opt.param_groups, base_lrs):
            pg["lr"] = base * f
        opt.zero_grad()
        batch = order[state["done"]: state["done"] + args.accum]
        for j, q in enumerate(batch):
            rng = random.Random(args.seed * 1000003 + state["done"] + j)
            mq = mined.get(q, {"texts": [], "scores": []})
            m = min(args.mine_per_group, len(mq["texts"]))
            idx = sorted(rng.sample(range(len(pool[q]["cands"])), min(args.group_size - m, len(pool[q]["cands"]))))
            extra = sorted(rng.sample(range(len(mq["texts"])), m))
            texts = [pool[q]["cands"][i][1] for i in idx] + [mq["texts"][i] for i in extra]
            t = [targets[q][i] for i in idx] + [mq["scores"][i] for i in extra]
            target = None
            if pool[q].get("pos") and (args.label_margin is not None or args.labels_only):  # SciFact: labels teach
                pos = {p[1]: p[2] for p in pool[q]["pos"]}
                keep = [j for j, x in enumerate(texts) if x not in pos]
                texts, t = [texts[j] for j in keep] + list(pos), [t[j] for j in keep]
                if args.labels_only:
                    target = torch.tensor([0.0] * len(t) + [1.0 / len(pos)] * len(pos))
                else:
                    t += [max(v, max(t) + args.label_margin) for v in pos.values()]
            t = torch.tensor(t)
            if target is None:
                target = torch.softmax(t / args.temperature, dim=0)
            if args.student == "colbert":
                s = colbert_logits(model, pool[q]["q"], texts, args.doc_len) * args.student_scale
            else:
                enc = [tok.encode_pair(pool[q]["q"], x, args.max_len) for x in texts]
                ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
                s = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0]
            loss = F.kl_div(torch.log_softmax(s / args.temperature, dim=0), target, reduction="sum")
            (loss / len(batch)).backward()
            run_loss += float(loss)
            run_n += 1
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        prev = state["done"]
        state["done"] += len(batch)
        if state["done"] // 40 != prev // 40:
            rate = (state["done"] - d_start) / max(1e-9, time.time() - t_start)
            log("queries %d/%d KL %.4f lr %.2e | %.2f queries/s, eta %.0f min" % (
                state["done"], len(order), run_loss / max(1, run_n), opt.param_groups[0]["lr"], rate,
                (len(order) - state["done"]) / max(rate, 1e-9) / 60))
            run_loss, run_n = 0.0, 0
        if state["done"] // args.val_every != prev // args.val_every or state["done"] >= len(order):
            validate()
            save()
            last_ckpt = time.time()
        elif time.time() - last_ckpt > args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    log("finished; best", json.dumps(state["best"]), "refs", json.dumps(refs))
    with open(os.path.join(args.out, "DONE"), "w") as f:
        json.dump({"best": state["best"], "refs": refs, "history": state["history"],
                   **({"scifact_history": state["scifact_history"]} if "scifact_history" in state else {})}, f)


if __name__ == "__main__":
    main()
