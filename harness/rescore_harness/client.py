"""Minimal OpenSearch REST client over http.client: one keep-alive connection per thread, JSON in and out."""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse


class OpenSearchError(Exception):
    def __init__(self, status, body, method, path):
        self.status = status
        self.body = body
        super().__init__("%s %s -> HTTP %s: %s" % (method, path, status, body[:2000]))


class Client:
    def __init__(self, url, timeout=600):
        u = urlparse(url if "://" in url else "http://" + url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 9200
        self.url = "http://%s:%d" % (self.host, self.port)
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = c
        return c

    def request(self, method, path, body=None, ok=(200, 201), ndjson=False):
        if body is None:
            data = None
        elif isinstance(body, (bytes, str)):
            data = body.encode("utf-8") if isinstance(body, str) else body
        else:
            data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/x-ndjson" if ndjson else "application/json"}
        for attempt in range(2):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 1:
                    raise
        text = raw.decode("utf-8")
        if resp.status not in ok:
            raise OpenSearchError(resp.status, text, method, path)
        return json.loads(text) if text else None

    def timed(self, method, path, body=None):
        """(response, wall seconds) of one request."""
        t0 = time.perf_counter()
        r = self.request(method, path, body)
        return r, time.perf_counter() - t0

    def exists(self, index):
        try:
            self.request("HEAD", "/" + index)
            return True
        except OpenSearchError as e:
            if e.status == 404:
                return False
            raise

    def wait_for_node(self, seconds=60):
        deadline = time.time() + seconds
        while True:
            try:
                return self.request("GET", "/_cluster/health?wait_for_status=yellow&timeout=5s")
            except (OSError, http.client.HTTPException, OpenSearchError):
                if time.time() > deadline:
                    raise SystemExit("error: no OpenSearch node answers at %s" % self.url)
                time.sleep(1)

    def stats(self):
        """The plugin's node counters (GET _plugins/neural_rescore/stats)."""
        return self.request("GET", "/_plugins/neural_rescore/stats")["stats"]

    def models(self):
        return self.request("GET", "/_plugins/neural_rescore/models")["models"]


def index_settings(shards=1, k1=0.9, b=0.4):
    """One-shard index (a rescore window is per shard, so one shard makes window = global top-k), BM25 with
    Pyserini's k1/b, English analysis (Porter stemming and stopwords, as Anserini), title + text copied to one
    searchable `contents` field (Pyserini's BEIR 'flat' indexes), title and text kept as text for rescoring."""
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": 0,
            "refresh_interval": "-1",
            "similarity": {"default": {"type": "BM25", "k1": k1, "b": b}},
        },
        "mappings": {
            "properties": {
                "title": {"type": "text", "analyzer": "english", "copy_to": "contents"},
                "text": {"type": "text", "analyzer": "english", "copy_to": "contents"},
                "contents": {"type": "text", "analyzer": "english"},
            }
        },
    }


def fill_index(client, index, corpus, body, batch, report):
    """Creates `index` with `body`, bulk-indexes {id: source} in batches of `batch` (report(done, total, elapsed) after
    each), then refreshes and force-merges to one segment. Returns the seconds it took."""
    client.request("PUT", "/" + index, body)
    ids = list(corpus)
    t0 = time.time()
    for start in range(0, len(ids), batch):
        lines = []
        for d in ids[start:start + batch]:
            lines.append(json.dumps({"index": {"_index": index, "_id": d}}))
            lines.append(json.dumps(corpus[d], ensure_ascii=False))
        r = client.request("POST", "/_bulk", "\n".join(lines) + "\n", ndjson=True)
        if r.get("errors"):
            bad = [i for i in r["items"] if i["index"].get("error")][:3]
            raise SystemExit("error: bulk indexing into [%s] failed: %s" % (index, bad))
        report(min(start + batch, len(ids)), len(ids), time.time() - t0)
    client.request("PUT", "/%s/_settings" % index, {"index": {"refresh_interval": "1s"}})
    client.request("POST", "/%s/_refresh" % index)
    client.request("POST", "/%s/_forcemerge?max_num_segments=1" % index)
    client.request("POST", "/%s/_refresh" % index)
    return time.time() - t0


def index_corpus(client, index, corpus, batch=500, recreate=False, shards=1, progress=True, label=None):
    """Indexes {id: {title, text}} with _bulk, showing progress; skips the work when the index already holds
    exactly the corpus's document count (pass recreate=True to force)."""
    label = label or index
    if client.exists(index):
        count = client.request("GET", "/%s/_count" % index)["count"]
        if count == len(corpus) and not recreate:
            if progress:
                print("  index [%s] already holds %d docs; reusing it" % (index, count), file=sys.stderr)
            return False
        client.request("DELETE", "/" + index)

    def report(done, total, elapsed):
        if progress:
            print("\r  indexing %s: %d/%d docs (%.0f docs/s)" % (label, done, total, done / max(elapsed, 1e-9)),
                  end="\n" if done == total else "", file=sys.stderr, flush=True)
    fill_index(client, index, corpus, index_settings(shards=shards), batch, report)
    return True
