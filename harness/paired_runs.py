"""Paired comparison of rescored runs against a reference run of the same candidates (e.g. int8 against fp32).

    /usr/bin/python3 harness/paired_runs.py QRELS REF.trec RUN.trec [RUN.trec ...] [--k 10] [--boot 10000]

Per run: nDCG@k, the mean per-query difference to REF with a 95% bootstrap interval over queries, how many queries
change, and Kendall's tau between the run's and REF's orders of each query's candidates (1.0 = same ranking).
With 43 queries (TREC DL 2019) a difference whose interval spans 0 is not a measured loss or gain.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "tools"))
import ir  # noqa: E402


def kendall_tau(a, b):
    """a, b: {doc: score} over the same docs; tau-a from rank positions."""
    docs = sorted(a)
    ra = {d: i for i, d in enumerate(sorted(docs, key=lambda d: -a[d]))}
    rb = {d: i for i, d in enumerate(sorted(docs, key=lambda d: -b[d]))}
    n, s = len(docs), 0
    for i in range(n):
        for j in range(i + 1, n):
            x, y = docs[i], docs[j]
            s += 1 if (ra[x] - ra[y]) * (rb[x] - rb[y]) > 0 else -1
    return s / (n * (n - 1) / 2) if n > 1 else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qrels")
    ap.add_argument("ref")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--boot", type=int, default=10000)
    args = ap.parse_args()
    qrels = ir.load_qrels(args.qrels)
    ref = ir.load_run(args.ref)
    ref_q = ir.ndcg_at(ref, qrels, args.k)[1]
    print("| run | nDCG@%d | mean diff to ref (95%% bootstrap) | queries changed (up/down) | Kendall tau to ref |" % args.k)
    print("|---|---:|---:|---:|---:|")
    print("| %s (ref) | %.4f | | | |" % (os.path.basename(args.ref), sum(ref_q.values()) / len(ref_q)))
    rng = random.Random(7)
    for path in args.runs:
        run = ir.load_run(path)
        per_q = ir.ndcg_at(run, qrels, args.k)[1]
        qs = sorted(set(per_q) & set(ref_q))
        d = [per_q[q] - ref_q[q] for q in qs]
        boots = sorted(sum(rng.choice(d) for _ in d) / len(d) for _ in range(args.boot))
        lo, hi = boots[int(0.025 * args.boot)], boots[int(0.975 * args.boot) - 1]
        taus = [kendall_tau(run[q], ref[q]) for q in qs if set(run[q]) == set(ref[q])]
        print("| %s | %.4f | %+.4f [%+.4f, %+.4f] | %d (%d/%d) | %.3f |" % (
            os.path.basename(path), sum(per_q[q] for q in qs) / len(qs), sum(d) / len(d), lo, hi,
            sum(1 for x in d if abs(x) > 1e-9), sum(1 for x in d if x > 1e-9), sum(1 for x in d if x < -1e-9),
            sum(taus) / max(1, len(taus))))


if __name__ == "__main__":
    main()
