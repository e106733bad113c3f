"""BEIR-layout collections (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and TREC run files."""
import json
import os
from collections import defaultdict


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def load_corpus(folder):
    """doc id -> {"title": str, "text": str}, in file order."""
    corpus = {}
    for d in read_jsonl(os.path.join(folder, "corpus.jsonl")):
        corpus[str(d["_id"])] = {"title": d.get("title") or "", "text": d.get("text") or ""}
    return corpus


def load_queries(folder):
    """query id -> text, in file order."""
    return {str(q["_id"]): q["text"] for q in read_jsonl(os.path.join(folder, "queries.jsonl"))}


def load_qrels(folder, split="test"):
    """query id -> {doc id: grade}. Keeps every judgment, also of documents absent from the corpus."""
    qrels = defaultdict(dict)
    path = os.path.join(folder, "qrels", split + ".tsv")
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            if len(parts) < 3:
                continue
            qrels[parts[0]][parts[1]] = int(parts[2])
    return dict(qrels)


def load_run(path):
    """TREC run file -> query id -> {doc id: score}."""
    run = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6:
                run[parts[0]][parts[2]] = float(parts[4])
    return dict(run)


def write_run(run_lists, path, tag):
    """Writes ranked lists (query id -> [doc ids]) as a TREC run with descending rank-derived scores."""
    with open(path, "w", encoding="utf-8") as f:
        for qid, docs in run_lists.items():
            for rank, doc in enumerate(docs, 1):
                f.write("%s Q0 %s %d %d %s\n" % (qid, doc, rank, len(docs) - rank + 1, tag))


def doc_text(doc, fields=("title", "text")):
    """The text the plugin scores: non-blank field values joined by one space, in field order (as SourceTexts)."""
    return " ".join(doc[f] for f in fields if doc.get(f) and str(doc[f]).strip())
