"""trec_eval-compatible ranking metrics.

Conventions (as trec_eval / pytrec_eval and the BEIR and TREC DL papers):
- nDCG@k: gain = graded relevance as-is (linear gain), discount log2(rank + 1); the ideal ranking is built from ALL
  judgments of the query (also of documents the run cannot contain), so reranking collections keep full qrels.
- Recall@k and MRR@k are binary: a document is relevant when its grade >= min_rel (TREC DL: 2, BEIR: 1).
- A run given as scores is ranked by decreasing score, ties by decreasing doc id (trec_eval's order).
- Averages are over the queries of the qrels that have at least one relevant document (grade > 0 for nDCG,
  grade >= min_rel for recall and MRR); a query missing from the run scores 0.
"""
import math


def ranked(scores):
    """doc id -> score to a ranked list, in trec_eval order (score desc, then doc id desc)."""
    return [d for d, _ in sorted(scores.items(), key=lambda x: (x[1], x[0]), reverse=True)]


def ndcg_at(ranking, judgments, k=10):
    ideal = sorted((g for g in judgments.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return None
    dcg = 0.0
    for i, d in enumerate(ranking[:k]):
        g = judgments.get(d, 0)
        if g > 0:
            dcg += g / math.log2(i + 2)
    return dcg / idcg


def recall_at(ranking, judgments, k=100, min_rel=1):
    rel = {d for d, g in judgments.items() if g >= min_rel}
    if not rel:
        return None
    return len(rel.intersection(ranking[:k])) / len(rel)


def rr_at(ranking, judgments, k=10, min_rel=1):
    if not any(g >= min_rel for g in judgments.values()):
        return None
    for i, d in enumerate(ranking[:k]):
        if judgments.get(d, 0) >= min_rel:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(rankings, qrels, min_rel=1, queries=None):
    """Mean nDCG@10, Recall@100, MRR@10 and per-query nDCG@10.

    rankings: query id -> ranked doc ids. queries: restrict to these query ids (default: all judged queries).
    """
    qids = [q for q in qrels if queries is None or q in queries]
    per = {"ndcg@10": {}, "recall@100": {}, "mrr@10": {}}
    for q in qids:
        r = rankings.get(q, [])
        for name, value in (
            ("ndcg@10", ndcg_at(r, qrels[q], 10)),
            ("recall@100", recall_at(r, qrels[q], 100, min_rel)),
            ("mrr@10", rr_at(r, qrels[q], 10, min_rel)),
        ):
            if value is not None:
                per[name][q] = value
    means = {name: (sum(v.values()) / len(v) if v else float("nan")) for name, v in per.items()}
    means["queries"] = len(per["ndcg@10"])
    return means, per


def self_test():
    """Checks the metric code against values computed by hand; raises AssertionError on a mismatch."""
    qrels = {"q1": {"a": 3, "b": 2, "c": 0, "x": 1}, "q2": {"d": 1}, "q3": {"e": 0}}
    # q1 ranking: c(0) a(3) b(2) z(unjudged) -> DCG = 3/log2(3) + 2/log2(4); IDCG = 3 + 2/log2(3) + 1/2
    run = {"q1": {"c": 9.0, "a": 8.0, "b": 7.0, "z": 7.0}, "q2": {"y": 2.0, "d": 2.0}}
    rankings = {q: ranked(s) for q, s in run.items()}
    assert rankings["q1"] == ["c", "a", "b", "z"] or rankings["q1"] == ["c", "a", "z", "b"]
    assert rankings["q1"] == ["c", "a", "z", "b"], rankings["q1"]  # tie 7.0: doc id descending puts z first
    assert rankings["q2"] == ["y", "d"], rankings["q2"]
    dcg1 = 3 / math.log2(3) + 2 / math.log2(5)
    idcg1 = 3 + 2 / math.log2(3) + 1 / 2
    dcg2 = 1 / math.log2(3)
    m, per = evaluate(rankings, qrels, min_rel=2)
    assert abs(per["ndcg@10"]["q1"] - dcg1 / idcg1) < 1e-12
    assert abs(per["ndcg@10"]["q2"] - dcg2) < 1e-12
    assert "q3" not in per["ndcg@10"] and m["queries"] == 2
    assert abs(m["ndcg@10"] - (dcg1 / idcg1 + dcg2) / 2) < 1e-12
    # min_rel 2: q1 relevant = {a, b}, both retrieved; q2 has none at grade >= 2 -> not averaged
    assert per["recall@100"] == {"q1": 1.0}, per["recall@100"]
    assert per["mrr@10"] == {"q1": 0.5}, per["mrr@10"]
    m1, per1 = evaluate(rankings, qrels, min_rel=1)
    assert abs(per1["recall@100"]["q1"] - 2 / 3) < 1e-12 and per1["mrr@10"]["q2"] == 0.5
    return True
