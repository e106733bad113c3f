"""Markdown reports and PR-curve plots for Cosine Adapter runs (train_adapter.py) and the release (reproduce.py)."""
import json
import os

import numpy as np

import adapter_metrics as metrics

FAMILIES = ("linear_sigmoid", "power")
SET_TITLES = {
    "scifact-test": "SciFact test (300 queries, cosine top-100 over 5,183 docs)",
    "trec-dl-2019": "TREC DL 2019 (43 queries, rel>=2, cosine top-100 over the 4,297-passage pool)",
    "trec-dl-2019-bm25": "TREC DL 2019, BM25 top-100 candidates (43 queries, rel>=2)",
}


def _f(x, d=3):
    return f"{x:.{d}f}"


def plot_pr(out_png, run_dir, eval_names, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    z = np.load(os.path.join(run_dir, "probs.npz"))
    fig, axes = plt.subplots(1, len(eval_names), figsize=(5.2 * len(eval_names), 4.4), squeeze=False)
    for ax, name in zip(axes[0], eval_names):
        y = z[f"labels|{name}"]
        curves = [("global cosine threshold", z[f"cos|{name}"], "k")]
        for fam, col in (("linear_sigmoid", "tab:blue"), ("power", "tab:orange")):
            if f"{fam}|{name}" in z:
                curves.append((f"adapter {fam}", z[f"{fam}|{name}"], col))
        for label, s, col in curves:
            _, p, r = metrics.pr_curve(s, y)
            ax.plot(r, p, color=col, lw=1.4,
                    label=f"{label} (PR-AUC {metrics.average_precision(s, y):.3f})")
        ax.set_xlabel("recall (of relevant candidates)")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title(SET_TITLES.get(name, name), fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def filter_table(ev_by_family, recalls=metrics.RECALLS):
    """Rows: cosine, then each family's adapter; one global threshold each, pooled over the held-out queries."""
    head = "| scorer (one global threshold) | PR-AUC | " + " | ".join(f"P@R={r}" for r in recalls) + " | best F1 |"
    lines = [head, "|" + "---|" * (3 + len(recalls))]
    first = next(iter(ev_by_family.values()))
    rows = [("raw cosine", first["cosine"], None)]
    rows += [(f"adapter `{fam}`", ev["adapter"], ev["ap_delta"]) for fam, ev in ev_by_family.items()]
    for label, m, d in rows:
        auc = _f(m["pr_auc"]) + (f" ({d['delta']:+.3f}, CI {d['ci_low']:+.3f}..{d['ci_high']:+.3f})" if d else "")
        lines.append(f"| {label} | {auc} | " + " | ".join(_f(m[f'p@r{r}']) for r in recalls) + f" | {_f(m['best_f1'])} |")
    return "\n".join(lines)


def calibration_table(ev_by_family):
    lines = ["| mapping | ECE | log loss | Brier | per-query mean abs error of expected #relevant | mean signed error | mean p / base rate |",
             "|---|---|---|---|---|---|---|"]
    for fam, ev in ev_by_family.items():
        for label, c in ((f"adapter `{fam}`", ev["adapter_calibration"]),
                         (f"global `{fam}` (query-independent fit)", ev["global_calibration"])):
            lines.append(f"| {label} | {_f(c['ece'], 4)} | {_f(c['log_loss'], 4)} | {_f(c['brier'], 4)} | "
                         f"{_f(c['count_mae'], 2)} | {c['count_bias']:+.2f} | {_f(c['mean_p'], 4)} / {_f(c['base_rate'], 4)} |")
    return "\n".join(lines)


def reliability_table(cal):
    lines = ["| p bin | pairs | mean p | observed relevant fraction |", "|---|---|---|---|"]
    for lo, hi, n, conf, acc in cal["reliability"]:
        lines.append(f"| {lo:.1f}-{hi:.1f} | {n} | {conf:.3f} | {acc:.3f} |")
    return "\n".join(lines)


def threshold_table(ev):
    lines = ["| recall target | cosine threshold | adapter p threshold |", "|---|---|---|"]
    for r in metrics.RECALLS:
        lines.append(f"| {r} | {ev['cosine'][f'thr@r{r}']:.3f} | {ev['adapter'][f'thr@r{r}']:.3f} |")
    return "\n".join(lines)


def set_summary(ev):
    return (f"{ev['queries']} queries, {ev['pairs']} candidate pairs, {ev['relevant_pairs']} relevant "
            f"({ev['queries_with_relevant_candidate']} queries with at least one relevant candidate)")


def write_run_report(run_dir, results):
    """REPORT.md + pr.png for one train_adapter.py run."""
    evals = results["eval"]
    plot_pr(os.path.join(run_dir, "pr.png"), run_dir, evals, f"Cosine Adapter trained on {' + '.join(results['train'])}")
    fams = results["families"]
    any_fam = next(iter(fams.values()))
    out = [f"# Cosine Adapter run: trained on {' + '.join(results['train'])}", "",
           f"Embeddings: all-minilm-l6-v2 as the plugin computes them (embed.sh). Candidates: top-{results['k']} by cosine "
           f"per query, labelled by the qrels (unjudged = non-relevant). Seed {results['seed']}.", "",
           "Fit / validation queries: " + ", ".join(f"{k} {v}" for k, v in any_fam["fit_queries"].items()) + " / "
           + ", ".join(f"{k} {v}" for k, v in any_fam["val_queries"].items()) + ".", "",
           "| family | selected hidden | weight decay | learning rate | stop step | val PR-AUC (cosine -> adapter) |", "|---|---|---|---|---|---|"]
    for fam, r in fams.items():
        s = r["selected"]
        out.append(f"| {fam} | {s['hidden'] or 'none (linear)'} | {s['wd']} | {s['lr']} | {s['step']} | "
                   f"{_f(r['val_cosine_ap'])} -> {_f(s['val_ap'])} |")
    for name in evals:
        ev_by = {fam: r["eval"][name] for fam, r in fams.items()}
        out += ["", f"## {SET_TITLES.get(name, name)}", "", set_summary(next(iter(ev_by.values()))), "",
                filter_table(ev_by), "", calibration_table(ev_by)]
    out += ["", "![PR curves](pr.png)", ""]
    with open(os.path.join(run_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(out))


LICENSES = """| data | role | license / terms (from SOURCE.txt) |
|---|---|---|
| SciFact train claims + qrels (`train/scifact_train`), SciFact corpus | training, validation (the shipped weights are fitted on this only) | SciFact data CC BY-NC 2.0 (allenai/scifact) as stated in scifact_train/SOURCE.txt; claims/annotations CC BY 4.0, abstracts ODC-By 1.0 per data/scifact/SOURCE.txt. Cite Wadden et al., EMNLP 2020, and BEIR. **Non-commercial.** |
| MS MARCO dev 600 x BM25 top-20 (`train/msmarco_dev600_bm25top20_tomjg14`, thesis labels from github.com/Tomjg14) | training of other setups; validation queries used to choose the shipped one | MS MARCO terms (non-commercial research); the thesis repo has no license file. **Non-commercial research.** |
| NFCorpus train/dev (`train/nfcorpus`) | training of one other setup; dev queries used to choose the shipped one | "free for use for academic purposes"; other uses: NutritionFacts.org terms. **Academic use.** |
| SciFact test (`data/scifact`) | evaluation only | as SciFact above |
| TREC DL 2019 (`data/trec-dl-2019`) | evaluation only | MS MARCO terms (non-commercial research); NIST qrels/topics public research data |

The adapter weights are released under Apache-2.0 like the plugin, but they were fitted on (and chosen with) the data
above: its research / non-commercial terms carry over. Check them before commercial use."""


def _delta(ev):
    d = ev["ap_delta"]
    sig = "significant" if d["ci_low"] > 0 or d["ci_high"] < 0 else "not significant"
    return (f"PR-AUC {ev['cosine']['pr_auc']:.3f} -> {ev['adapter']['pr_auc']:.3f} ({d['delta']:+.3f}, 95% CI "
            f"{d['ci_low']:+.3f}..{d['ci_high']:+.3f}, {sig})")


def _pr(ev, recalls=(0.1, 0.3, 0.5, 0.7, 0.9)):
    return ", ".join(f"R={x}: {ev['cosine'][f'p@r{x}']:.3f} -> {ev['adapter'][f'p@r{x}']:.3f}" for x in recalls)


def summary_lines(r, fam, res, experiments):
    """Numbers-first summary of the shipped setup and of what did not work."""
    fr = r["families"][fam]
    out = []
    for name in r["eval"]:
        ev = fr["eval"][name]
        out.append(f"- **{name}**: {_delta(ev)}; precision at equal recall (cosine -> adapter) {_pr(ev)}.")
    ms = res.get("msmarco")
    if ms:
        ev = ms["families"]["linear_sigmoid"]["eval"]["trec-dl-2019"]
        out.append(f"- Trained on MS MARCO (600 dev queries, sparse labels), the adapter stays at the global fit: validation "
                   f"loss stops improving after {ms['families']['linear_sigmoid']['selected']['step']} steps, and on TREC DL "
                   f"2019 {_delta(ev)}. None of the setups improves TREC DL 2019 (table at the end).")
    allk = [k for k, v in experiments.items() if "nfcorpus-train" in v]
    if allk:
        ev = res[allk[0]]["families"]["linear_sigmoid"]["eval"]
        out.append(f"- Adding NFCorpus (a different notion of relevance, ~40 relevant documents per query) hurts elsewhere: "
                   f"SciFact test {_delta(ev['scifact-test'])}; TREC DL 2019 {_delta(ev['trec-dl-2019'])}.")
    out.append("- So: the adapter pays off in the domain and label semantics it was trained on (on SciFact mostly at low "
               "and high recall), and does not transfer to MS MARCO-style passage search. For other data, train one on a "
               "few hundred judged queries of that data (`models/adapter/train_adapter.py`) or keep a global threshold.")
    return out


def write_release_report(release, runs, experiments, chosen, selection, fingerprints):
    exp, fam = chosen["experiment"], chosen["family"]
    res = {name: json.load(open(os.path.join(runs, name, "results.json"))) for name in experiments}
    r = res[exp]
    fr = r["families"][fam]
    evals = r["eval"]
    plot_pr(os.path.join(release, "pr.png"), os.path.join(runs, exp),
            [e for e in evals if e != "trec-dl-2019-bm25"] + ["trec-dl-2019-bm25"],
            f"Shipped run ({exp}): held-out test queries, one global threshold")
    sel = fr["selected"]
    size = os.path.getsize(os.path.join(release, "adapter.json"))
    spec = json.load(open(os.path.join(release, "adapter.json")))
    n_params = sum(len(l["bias"]) * (1 + len(l["weight"][0])) for l in spec["layers"])
    out = ["# minilm-cosine-adapter-v1", "",
           "Cosine Adapter (Rossi et al., \"Relevance Filtering for Embedding-based Retrieval\", CIKM 2024) for the "
           "default bi-encoder `all-minilm-l6-v2` (int8 ONNX, as bundled). It maps each query embedding to a monotonic "
           "function from cosine to a relevance probability, so one global threshold on the probability filters "
           "results of every query. Format: `models/MANIFEST.md`, section `cosine_adapter`.", "",
           f"- family: **`{fam}`**, network: {('one hidden ReLU layer of ' + str(sel['hidden'])) if sel['hidden'] else 'linear'} "
           f"(384 -> {str(sel['hidden']) + ' -> ' if sel['hidden'] else ''}{2 if fam == 'linear_sigmoid' else 1}), "
           f"{n_params} parameters, adapter.json {size / 1024:.0f} KiB",
           f"- trained on: {' + '.join(experiments[exp])} (fit queries: "
           + ", ".join(f"{k} {v}" for k, v in fr["fit_queries"].items()) + "; held-out validation queries: "
           + ", ".join(f"{k} {v}" for k, v in fr["val_queries"].items()) + ")",
           "- candidates: the bi-encoder's top-100 by cosine for each query, labelled by the qrels (unjudged = non-relevant); "
           "loss: binary cross-entropy of the mapped probability; AdamW, full batch, early stopping on validation loss",
           f"- selected among {len(selection)} candidates ({len(experiments)} training setups x 2 families; inside each, a grid "
           f"of {len(r['grid'])} (hidden, weight decay, learning rate) settings chosen by in-domain validation PR-AUC, "
           "preferring the smallest network within 0.01) by the mean PR-AUC gain over the raw "
           "cosine on the **validation** queries of all three training domains (SciFact train hold-out, MS MARCO hold-out, "
           "NFCorpus dev). Test sets were never used for training or selection.",
           "- embeddings: computed by the plugin's own code (`io.neuralrescore.tools.EmbedDump`, `models/adapter/embed.sh`)",
           "", "## Summary", ""] + summary_lines(r, fam, res, experiments) + [
           "", "## Use", "",
           "Copy this folder into the node's models path (`plugins.rescore.models_path`) as `minilm-cosine-adapter-v1`, "
           "index document embeddings of `all-minilm-l6-v2` (same text the plugin embeds, e.g. `fields: [title, text]`), "
           "then filter with one threshold on the calibrated probability, e.g. in the query phase:", "",
           "```json",
           '{ "query": { "relevance_filter": { "query": { "match": { "text": "..." } }, "model": "all-minilm-l6-v2",',
           '    "adapter": "minilm-cosine-adapter-v1", "query_text": "...", "field": "embedding", "threshold": 0.3 } } }',
           "```", "",
           "or as a `cosine_filter` rescorer (same keys plus `action`). Which threshold: see the recall/threshold table "
           "below; the probabilities are calibrated for SciFact-like labels, so on other data pick the threshold on a few "
           "judged queries, or train an adapter on your own judgments with `models/adapter/train_adapter.py`.",
           "", "## Held-out test results (the shipped file)", "",
           "Every (query, candidate) pair of the test queries is kept or dropped by **one global threshold**; recall = kept "
           "relevant / relevant among the candidates, precision = kept relevant / kept. P@R=x: precision at the highest "
           "threshold reaching recall x. PR-AUC: average precision of the pooled ranking. In parentheses: adapter minus "
           "cosine PR-AUC with a 95% paired bootstrap interval over queries (1,000 resamples). Both families of the "
           "shipped setup are shown; the shipped one is "
           f"`{fam}`.", ""]
    for name in evals:
        ev_by = {f2: r["families"][f2]["eval"][name] for f2 in FAMILIES}
        out += [f"### {SET_TITLES.get(name, name)}", "", set_summary(ev_by[fam]), "", filter_table(ev_by), ""]
    out += ["![PR curves on the test sets](pr.png)", "",
            "## Calibration sanity (held-out test queries)", "",
            "ECE: 10 equal-width bins over p. Per-query: |sum of p over the query's 100 candidates - number judged "
            "relevant|, averaged over queries. The global rows are the same family fitted without the query "
            "(one (a, b) or one g for all queries: Platt scaling of the cosine), the calibrated form of a global cosine "
            "threshold.", ""]
    for name in evals:
        ev_by = {f2: r["families"][f2]["eval"][name] for f2 in FAMILIES}
        out += [f"### {SET_TITLES.get(name, name)}", "", calibration_table(ev_by), ""]
    out += ["Reliability of the shipped adapter:", ""]
    for name in [e for e in evals if e != "trec-dl-2019-bm25"]:
        out += [f"{SET_TITLES.get(name, name)}:", "", reliability_table(fr["eval"][name]["adapter_calibration"]), ""]
    out += ["Calibration is only meaningful for the label semantics the adapter was trained on. SciFact labels about 1% "
            "of the top-100 candidates relevant; TREC DL 2019 (graded, deeply judged, rel >= 2) about 19%, so "
            "probabilities do not carry over there (see its reliability table); the ranking of pairs across queries, "
            "which is what one global threshold acts on, is what the PR numbers measure.", "",
            "### Thresholds that reached each recall on the test queries", ""]
    for name in [e for e in evals if e != "trec-dl-2019-bm25"]:
        out += [f"{SET_TITLES.get(name, name)}:", "", threshold_table(fr["eval"][name]), ""]
    out += ["### Query dependence of the mapping on the test queries", "",
            "| set | parameter | mean | std | min | max |", "|---|---|---|---|---|---|"]
    pnames = ["a", "b"] if fam == "linear_sigmoid" else ["g"]
    for name in evals:
        ps = fr["eval"][name]["param_spread"]
        for i, pn in enumerate(pnames):
            out.append(f"| {name} | {pn} | {ps['mean'][i]:.3f} | {ps['std'][i]:.3f} | {ps['min'][i]:.3f} | {ps['max'][i]:.3f} |")
    out += ["", "## All setups (test sets: reported, never used to choose)", "",
            "PR-AUC raw cosine -> adapter (delta); P@R=0.5 cosine -> adapter; selection score = mean validation PR-AUC gain "
            "over SciFact-train hold-out, MS MARCO hold-out and NFCorpus dev.", "",
            "| trained on | family | hidden | mean val gain | " + " | ".join(
                f"{e} PR-AUC | {e} P@R0.5" for e in evals) + " |",
            "|---|---|---|---|" + "---|---|" * len(evals)]
    for s in selection:
        rr = res[s["experiment"]]["families"][s["family"]]
        cells = []
        for e in evals:
            ev = rr["eval"][e]
            cells += [f"{_f(ev['cosine']['pr_auc'])} -> {_f(ev['adapter']['pr_auc'])} ({ev['ap_delta']['delta']:+.3f})",
                      f"{_f(ev['cosine']['p@r0.5'])} -> {_f(ev['adapter']['p@r0.5'])}"]
        mark = " **(shipped)**" if (s["experiment"], s["family"]) == (exp, fam) else ""
        out.append(f"| {' + '.join(experiments[s['experiment']])}{mark} | {s['family']} | {rr['selected']['hidden'] or 'linear'} | "
                   f"{s['mean_val_gain']:+.4f} | " + " | ".join(cells) + " |")
    out += ["", "Validation gains per domain (PR-AUC adapter - cosine):", "",
            "| trained on | family | " + " | ".join(selection[0]["val_gain"]) + " |",
            "|---|---|" + "---|" * len(selection[0]["val_gain"])]
    for s in selection:
        out.append(f"| {' + '.join(experiments[s['experiment']])} | {s['family']} | "
                   + " | ".join(f"{v:+.4f}" for v in s["val_gain"].values()) + " |")
    out += ["", "## Data and licenses", "", LICENSES, "",
            "## Reproduce", "", "```", "cd /work/main",
            "nohup nice -n 15 /usr/bin/python3 models/adapter/reproduce.py > models/build/adapter/reproduce.log 2>&1 &",
            "```", "", "Seed 13, torch 1.13 on CPU with one thread. Data fingerprints (sha256, first 16 hex):", "",
            "| file | sha256/16 |", "|---|---|"]
    out += [f"| {k} | `{v}` |" for k, v in sorted(fingerprints.items())]
    out += ["", "`expected.tsv` (same columns as `models/test/test-adapter*/expected.tsv`, plus two): `query` (384 "
            "space-separated floats, plugin-computed query embeddings of SciFact test and TREC DL 2019 queries), `cosine`, "
            "`probability` (reference forward pass in float64, `models/adapter/adapter_ref.py`), `raw_outputs` (last layer), "
            "`params` (a b, or g).", ""]
    with open(os.path.join(release, "REPORT.md"), "w") as f:
        f.write("\n".join(out))
