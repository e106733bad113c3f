"""Request bodies: the BM25 first pass, the fixed-run first pass of reranking collections, and rescore clauses."""


def bm25_query(text):
    """BM25 over title + text (the `contents` copy field), like Pyserini's BEIR flat runs."""
    return {"match": {"contents": {"query": text}}}


def run_query(ranked_docs, scores=None):
    """First pass that returns exactly the given docs in exactly the given order.

    Each doc is a constant_score clause on its _id, so a doc's first-pass score is its clause's boost: by default
    len - position (strictly decreasing, so the order is the run's order, ties included), or the run's own scores
    when `scores` is given (then ties are broken by OpenSearch's doc order). With score_mode replace the first-pass
    score only decides which hits fall inside the window; the combining modes (total, multiply...) see the boost.
    """
    n = len(ranked_docs)
    should = []
    for i, d in enumerate(ranked_docs):
        boost = float(scores[d]) if scores is not None else float(n - i)
        should.append({"constant_score": {"filter": {"ids": {"values": [d]}}, "boost": boost}})
    return {"bool": {"should": should}}


# keys of a scorer config that describe the harness run, not the clause
HARNESS_KEYS = frozenset(("name", "clause", "note", "windows", "collections", "model_dir", "latency_only"))


def rescore_clause(scorer, query_text, window):
    """A rescore clause from a scorer config: {"clause": "text_embedding"|"cross_encoder", "model": ..., plus any
    clause options (fields, max_length, score_mode, query_weight, rescore_weight, normalize, min_score)}.
    A scorer {"chain": [scorer, ...]} gives a list of clauses, applied in order by OpenSearch (each rescores the
    previous one's top `window`); its steps inherit the chain's `fields`."""
    if "chain" in scorer:
        inherited = {"fields": scorer["fields"]} if "fields" in scorer else {}
        return [rescore_clause({**inherited, **step}, query_text, window) for step in scorer["chain"]]
    body = {k: v for k, v in scorer.items() if k not in HARNESS_KEYS}
    body.setdefault("fields", ["title", "text"])
    body.setdefault("score_mode", "replace")
    body["query_text"] = query_text
    return {"window_size": window, scorer["clause"]: body}


def search_body(query, size, rescore=None, source=False):
    body = {"query": query, "size": size, "_source": source, "track_total_hits": False}
    if rescore is not None:
        body["rescore"] = rescore
    return body
