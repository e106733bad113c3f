"""Filtering metrics for one global threshold over pooled (query, candidate) pairs.

Every pair of every held-out query is kept or dropped by one threshold on its score (raw cosine, or the adapter's
probability). Recall = kept relevant pairs / relevant pairs among the candidates (the filter can only keep what
retrieval returned); precision = kept relevant pairs / kept pairs. Sweeping the threshold gives the PR curve.
"""
import numpy as np

RECALLS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9)


def pr_curve(scores, labels):
    """Pooled PR curve: arrays (threshold, precision, recall) at each distinct score, highest threshold first."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    kept = np.arange(1, len(y) + 1)
    # one point per distinct score: ties are kept or dropped together by a threshold
    last = np.r_[s[1:] != s[:-1], True]
    total = max(y.sum(), 1.0)
    return s[last], tp[last] / kept[last], tp[last] / total


def average_precision(scores, labels):
    """PR-AUC as average precision (step-wise, ties grouped): sum over thresholds of precision * recall gained."""
    _, p, r = pr_curve(scores, labels)
    return float(np.sum(np.diff(np.r_[0.0, r]) * p))


def precision_at_recall(scores, labels, recall):
    """Precision and threshold of the highest threshold whose recall reaches `recall` (no interpolation)."""
    t, p, r = pr_curve(scores, labels)
    i = int(np.argmax(r >= recall - 1e-12))
    return float(p[i]), float(t[i])


def best_f1(scores, labels):
    t, p, r = pr_curve(scores, labels)
    f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    i = int(np.argmax(f))
    return float(f[i]), float(t[i])


def ece(prob, labels, bins=10):
    """Expected calibration error over equal-width probability bins, and the reliability table."""
    p = np.asarray(prob, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table, err = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            conf, acc = p[m].mean(), y[m].mean()
            err += m.sum() / len(p) * abs(conf - acc)
            table.append((edges[b], edges[b + 1], int(m.sum()), float(conf), float(acc)))
    return float(err), table


def log_loss(prob, labels):
    p = np.clip(np.asarray(prob, dtype=np.float64).ravel(), 1e-12, 1 - 1e-12)
    y = np.asarray(labels, dtype=np.float64).ravel()
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def per_query_count_error(prob, labels):
    """Per query: expected number of relevant candidates (sum of p) vs the judged number. Mean absolute error and
    mean signed error (positive: over-predicts)."""
    e = np.asarray(prob).sum(1) - np.asarray(labels).sum(1)
    return float(np.mean(np.abs(e))), float(np.mean(e))


def calibration_summary(prob, labels):
    e, table = ece(prob, labels)
    mae, bias = per_query_count_error(prob, labels)
    return {"ece": e, "log_loss": log_loss(prob, labels), "brier": float(np.mean((np.asarray(prob) - labels) ** 2)),
            "count_mae": mae, "count_bias": bias, "mean_p": float(np.mean(prob)), "base_rate": float(np.mean(labels)),
            "reliability": table}


def filter_summary(scores, labels):
    out = {"pr_auc": average_precision(scores, labels)}
    for r in RECALLS:
        p, t = precision_at_recall(scores, labels, r)
        out[f"p@r{r}"] = p
        out[f"thr@r{r}"] = t
    out["best_f1"], out["best_f1_thr"] = best_f1(scores, labels)
    return out


def bootstrap_ap_delta(score_a, score_b, labels, n=1000, seed=0):
    """Paired bootstrap over queries of AP(score_b) - AP(score_a): mean, 2.5% and 97.5% quantiles, P(delta <= 0)."""
    rng = np.random.default_rng(seed)
    q = labels.shape[0]
    deltas = np.empty(n)
    for i in range(n):
        idx = rng.integers(0, q, q)
        deltas[i] = average_precision(score_b[idx], labels[idx]) - average_precision(score_a[idx], labels[idx])
    return {"delta": float(average_precision(score_b, labels) - average_precision(score_a, labels)),
            "ci_low": float(np.quantile(deltas, 0.025)), "ci_high": float(np.quantile(deltas, 0.975)),
            "p_not_better": float(np.mean(deltas <= 0))}
