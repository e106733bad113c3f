"""Small statistics helpers."""
import math


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list; with few values p99 is the maximum."""
    if not values:
        return float("nan")
    s = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return s[rank - 1]


def mean(values):
    return sum(values) / len(values) if values else float("nan")
