"""Late-interaction indexes for the quality and speed harnesses (harness/late_interaction_eval.py and
harness/late_interaction_bench.py): a corpus indexed through the plugin's `late_interaction` ingest processor with
the default model (all-MiniLM-L6-v2, zero-shot token vectors of title + text) or another token encoder (e.g. our
`minilm-colbert-v1`), into one `multi_vector` field per encoding. The model runs once per document; ingest-common's `copy` processor fans its output out to the other fields.
"""
import sys

from .client import fill_index, index_settings

MODEL = "all-minilm-l6-v2"
DIMS = 384
ENCODINGS = ("float", "float16", "int8", "bit")


def field(encoding):
    return "tok_" + encoding


def pipeline_body(source_fields=("title", "text"), batch_size=16, encodings=ENCODINGS, model=MODEL, fmt="base64"):
    # format base64: the vectors travel to the mapper as one string per document (1.6x the docs/s of JSON numbers,
    # results/late-interaction/ingest-2026-12-02); "array" where a script reads them from _source.
    # ignore_missing: a document with no text (Cranfield has two) is indexed without vectors, so rescoring keeps its
    # first-pass score, instead of failing the bulk request
    procs = [{"late_interaction": {"model": model, "fields": list(source_fields), "target_field": field(encodings[0]),
                                   "batch_size": batch_size, "ignore_missing": True, "format": fmt}}]
    for e in encodings[1:]:
        procs.append({"copy": {"source_field": field(encodings[0]), "target_field": field(e), "ignore_missing": True}})
    return {"description": "token vectors of %s by %s, one field per encoding" % ("+".join(source_fields), model),
            "processors": procs}


def index_body(pipeline, keep_in_source=(), encodings=ENCODINGS, model=MODEL, dims=DIMS):
    """BM25 settings and text fields as the quality harness (client.index_settings: 1 shard, k1 0.9, b 0.4, English
    analysis, title + text copied to `contents`), plus the multi_vector fields. Vectors are left out of _source
    except the fields named in keep_in_source (the painless baseline reads those from _source)."""
    body = index_settings(shards=1)
    body["settings"]["default_pipeline"] = pipeline
    props = body["mappings"]["properties"]
    for e in encodings:
        props[field(e)] = {"type": "multi_vector", "dims": dims, "encoding": e, "model": model}
    excludes = [field(e) for e in encodings if field(e) not in keep_in_source]
    if excludes:
        body["mappings"]["_source"] = {"excludes": excludes}
    return body


def ensure_index(client, index, corpus, pipeline="li-encodings", keep_in_source=(), encodings=ENCODINGS, batch=16,
                 label=None, log=None, model=MODEL, dims=DIMS):
    """Creates and fills `index` (token vectors by `model`, `dims` per vector) unless it already holds exactly the
    corpus's documents. Returns seconds spent indexing (0 when reused)."""
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    label = label or index
    fmt = "array" if keep_in_source else "base64"
    client.request("PUT", "/_ingest/pipeline/" + pipeline, pipeline_body(encodings=encodings, model=model, fmt=fmt))
    if client.exists(index):
        count = client.request("GET", "/%s/_count" % index)["count"]
        if count == len(corpus):
            log("  index [%s] already holds %d docs; reusing it" % (index, count))
            return 0.0
        client.request("DELETE", "/" + index)

    def report(done, total, elapsed):
        if done == total or (done // batch - 1) % 10 == 0:
            log("  indexing %s: %d/%d docs (%.1f docs/s, %.0f s)" % (label, done, total, done / max(elapsed, 1e-9), elapsed))
    return fill_index(client, index, corpus, index_body(pipeline, keep_in_source, encodings, model, dims), batch, report)
