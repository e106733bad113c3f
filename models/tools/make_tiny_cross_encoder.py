"""Writes the tiny random test models used by the Java unit tests and integration tests.

    /usr/bin/python3 models/tools/make_tiny_cross_encoder.py [--out models/test] [--only tiny-ce,...]

Variants (one shared builder):
  tiny-ce          cross_encoder, logits [batch, 1]
  tiny-ce-2class   cross_encoder, logits [batch, 2], manifest logit_index 1
  tiny-ce-notype   cross_encoder without a token_type_ids graph input (manifest inputs.token_type_ids null)
  tiny-bi          bi_encoder, last_hidden_state [batch, seq, 16], mean pooling, normalized, dimension 16
  tiny-colbert     colbert, last_hidden_state [batch, seq, 8] (projection 16 -> 8 inside the graph), markers,
                   [MASK] query augmentation to 32, document_max_length 64, punctuation skiplist

Each is a seeded random BERT (hidden 16, 2 layers, 2 heads, MiniLM's 30522 vocab) scaled so that outputs vary
strongly with every token, so reordering, batching or padding bugs change the scores. expected.tsv holds the
torch outputs for fixed texts together with the token ids used (to tell tokenizer mismatches from model bugs).
"""
import argparse
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colbert_encoding  # noqa: E402
import minilm  # noqa: E402
import wordpiece  # noqa: E402
from onnx_numpy import OnnxNumpy  # noqa: E402

SEED = 20240611
MAX_LENGTH = 128

LONG_DOC = ("Dense retrieval models encode queries and passages independently, while cross-encoders read the "
            "query and the passage together and therefore capture fine-grained term interactions. " * 6).strip()

PAIRS = [
    ("what is a cross encoder", "A cross-encoder scores a query and a document jointly with full attention."),
    ("what is a cross encoder", "Bananas are rich in potassium."),
    ("how do vaccines work", "Vaccines train the immune system to recognise a pathogen without causing disease."),
    ("how do vaccines work", "The 2019 season ended with a record number of home runs."),
    ("capital of france", "Paris"),
    ("capital of france", "Paris is the capital and most populous city of France."),
    ("Capital of FRANCE?", "paris is the capital and most populous city of france."),
    ("naïve café résumé", "Accents are stripped: naive cafe resume."),
    ("東京 population", "Tokyo (東京) is the capital of Japan, population about 14 million."),
    ("COVID-19 symptoms", "Common symptoms include fever, dry cough and fatigue; some lose taste/smell."),
    ("x", "y"),
    ("why is the sky blue", "Rayleigh scattering: shorter wavelengths scatter more strongly (∝ 1/λ⁴)."),
    ("unaffable hyperparameterization", "Subword units: un ##aff ##able and hyper ##parameter ##ization."),
    ("definition of long document truncation", LONG_DOC),
    (LONG_DOC, "query and passage swapped so that the first sequence is the long one"),
    (LONG_DOC, LONG_DOC),
    ("email me at someone@example.com", "Contact: someone@example.com, +1 (555) 010-9999, https://example.com/a?b=c"),
    ("tabs and  multiple   spaces", "line one  line two   with   gaps"),
    ("$100 price < 200 & > 50", "Prices range from $50 to $200 ~ roughly; see §3 [note]."),
    ("a" * 120 + " overly long word", "words longer than 100 characters become [UNK] tokens"),
    ("what is [MASK] here", "special tokens written in text like [SEP] and [CLS] map to their ids"),
]

SINGLE_TEXTS = [p[1] for p in PAIRS[:12]] + [LONG_DOC, "", "x"]


def tiny_config():
    return minilm.BertConfig(vocab_size=30522, hidden=16, layers=2, heads=2, intermediate=32, max_position=512,
                             dropout=0.0)


def tiny_bert(seed):
    """Identity LayerNorm affines and ~1.5/sqrt(fan_in) weights: token vectors stay content dependent."""
    bert = minilm.Bert(tiny_config())
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in bert.named_parameters():
            if "norm" in name.lower():
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif "embeddings" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g) * (1.5 / np.sqrt(p.shape[1])))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return bert


def build(variant, seed):
    bert = tiny_bert(seed)
    if variant == "tiny-bi":
        return bert.eval()
    if variant == "tiny-colbert":
        return minilm.ColBERT(bert, dim=8, seed=seed + 3).eval()
    ce = minilm.CrossEncoder(bert, num_labels=2 if variant == "tiny-ce-2class" else 1, seed=seed + 1)
    # The [CLS] vector of a random BERT varies little between inputs; standardize it (statistics over random
    # token sequences) inside the pooler so tanh sees ~N(0, 1) features and logits spread by about +-2.
    g = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        ids = torch.randint(1000, 30000, (256, 24), generator=g)
        ids[:, 0] = 101
        lens = torch.randint(4, 25, (256,), generator=g)
        mask = (torch.arange(24)[None, :] < lens[:, None]).long()
        cls = bert(ids, mask, torch.zeros_like(ids))[:, 0]
        mu, sd = cls.mean(0), cls.std(0) + 1e-6
        w = torch.randn(ce.pooler.weight.shape, generator=g) / np.sqrt(bert.config.hidden)
        ce.pooler.weight.copy_(w / sd[None, :])
        ce.pooler.bias.copy_(-(w / sd[None, :]) @ mu)
        ce.classifier.weight.copy_(torch.randn(ce.classifier.weight.shape, generator=g) * (2.0 / 4.0))
        ce.classifier.bias.copy_(torch.randn(ce.classifier.bias.shape, generator=g) * 0.1)
    ce = ce.eval()
    return minilm.NoTypeWrapper(ce).eval() if variant == "tiny-ce-notype" else ce


MANIFESTS = {
    "tiny-ce": {"type": "cross_encoder", "max_length": MAX_LENGTH, "output": "logits",
                "description": "Tiny random BERT cross-encoder for tests (scores are meaningless).",
                "license": "Apache-2.0 (random weights); tokenizer.json from all-MiniLM-L6-v2 (Apache-2.0)"},
    "tiny-ce-2class": {"type": "cross_encoder", "max_length": MAX_LENGTH, "output": "logits", "logit_index": 1,
                       "description": "Tiny random 2-class cross-encoder for tests (score = logits[:, 1]).",
                       "license": "Apache-2.0 (random weights); tokenizer.json from all-MiniLM-L6-v2 (Apache-2.0)"},
    "tiny-ce-notype": {"type": "cross_encoder", "max_length": MAX_LENGTH, "output": "logits",
                       "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                                  "token_type_ids": None},
                       "description": "Tiny random cross-encoder whose graph has no token_type_ids input.",
                       "license": "Apache-2.0 (random weights); tokenizer.json from all-MiniLM-L6-v2 (Apache-2.0)"},
    "tiny-colbert": {"type": "colbert", "max_length": 64, "output": "last_hidden_state", "dimension": 8,
                     "query_marker": "[unused0]", "document_marker": "[unused1]", "query_max_length": 32,
                     "document_max_length": 64, "query_augmentation": True, "skiplist": "punctuation",
                     "normalize": True,
                     "description": "Tiny random ColBERT-style encoder for tests (projection inside the graph).",
                     "license": "Apache-2.0 (random weights); tokenizer.json from all-MiniLM-L6-v2 (Apache-2.0)"},
    "tiny-bi": {"type": "bi_encoder", "max_length": MAX_LENGTH, "output": "last_hidden_state", "pooling": "mean",
                "normalize": True, "dimension": 16,
                "description": "Tiny random BERT bi-encoder for tests (embeddings are meaningless).",
                "license": "Apache-2.0 (random weights); tokenizer.json from all-MiniLM-L6-v2 (Apache-2.0)"},
}


def _fmt(xs):
    return " ".join("%.7g" % float(x) for x in xs)


def _ints(xs):
    return " ".join(str(int(x)) for x in xs)


def _run(module, ids, types, with_types):
    ids_t = torch.tensor([ids], dtype=torch.long)
    mask_t = torch.ones_like(ids_t)
    with torch.no_grad():
        if with_types:
            return module(ids_t, mask_t, torch.tensor([types], dtype=torch.long))[0]
        return module(ids_t, mask_t)[0]


def write_variant(variant, out_root, tok_path):
    folder = os.path.join(out_root, variant)
    os.makedirs(folder, exist_ok=True)
    tok = wordpiece.WordPieceTokenizer(tok_path)
    module = build(variant, SEED)
    with_types = variant != "tiny-ce-notype"
    out_name = "last_hidden_state" if variant in ("tiny-bi", "tiny-colbert") else "logits"
    onnx_path = minilm.export_onnx(module, os.path.join(folder, "model.onnx"), out_name, with_token_types=with_types)
    shutil.copyfile(tok_path, os.path.join(folder, "tokenizer.json"))
    minilm.write_manifest(folder, MANIFESTS[variant])

    rows, batch = [], []
    if variant == "tiny-colbert":
        enc = colbert_encoding.ColbertEncoding.from_manifest(tok, MANIFESTS[variant])
        header = "id\tquery\tdocument\tquery_ids\tquery_attention_mask\tdocument_ids\tdocument_kept\tmaxsim"
        for i, (q, d) in enumerate(PAIRS):
            qi, qm = enc.query(q)
            di, dm, keep = enc.document(d)
            with torch.no_grad():
                qv = module(torch.tensor([qi]), torch.tensor([qm]), torch.zeros(1, len(qi), dtype=torch.long))[0]
                dv = module(torch.tensor([di]), torch.tensor([dm]), torch.zeros(1, len(di), dtype=torch.long))[0]
            qv = torch.nn.functional.normalize(qv, dim=-1).numpy()
            dv = torch.nn.functional.normalize(dv, dim=-1).numpy()[np.array(keep)]
            score = colbert_encoding.maxsim(qv, dv)
            rows.append("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.7g" % (i, q, d, _ints(qi), _ints(qm), _ints(di),
                                                               _ints(keep), score))
            batch.append(((qi, qm), (di, dm, keep), score))
    elif variant == "tiny-bi":
        header = "id\ttext\tinput_ids\tembedding"
        for i, text in enumerate(SINGLE_TEXTS):
            ids, types = tok.encode(text, MAX_LENGTH)
            h = _run(module, ids, types, True)
            emb = torch.nn.functional.normalize(h.mean(0), dim=0).numpy()
            rows.append("%d\t%s\t%s\t%s" % (i, text, _ints(ids), _fmt(emb)))
            batch.append((ids, types, emb))
    else:
        header = "id\tquery\tdocument\tinput_ids\ttoken_type_ids\t" + (
            "logit" if variant != "tiny-ce-2class" else "logit_0\tlogit_1") + "\tscore"
        idx = MANIFESTS[variant].get("logit_index", 0)
        for i, (q, d) in enumerate(PAIRS):
            ids, types = tok.encode_pair(q, d, MAX_LENGTH)
            logits = _run(module, ids, types, with_types).numpy()
            cols = "\t".join("%.7g" % v for v in logits)
            rows.append("%d\t%s\t%s\t%s\t%s\t%s\t%.7g" % (i, q, d, _ints(ids), _ints(types), cols, logits[idx]))
            batch.append((ids, types, logits))
    with open(os.path.join(folder, "expected.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\n")
        f.write("\n".join(rows) + "\n")
    check(onnx_path, batch, variant, with_types)
    return folder


def check_colbert(onnx_path, batch):
    """Queries and documents each as one padded batch (reversed) through the exported graph vs. torch scores."""
    g = OnnxNumpy(onnx_path)
    qs = [b[0] for b in batch][::-1]
    ds = [b[1] for b in batch][::-1]
    qi, qm = colbert_encoding.pad([q[0] for q in qs], [q[1] for q in qs])
    di, dm = colbert_encoding.pad([d[0] for d in ds], [d[1] for d in ds])
    qo = g.run({"input_ids": qi, "attention_mask": qm, "token_type_ids": np.zeros_like(qi)})[0]
    do = g.run({"input_ids": di, "attention_mask": dm, "token_type_ids": np.zeros_like(di)})[0]
    got = []
    for j in range(len(batch)):
        qv = qo[j, : len(qs[j][0])]
        dv = do[j, : len(ds[j][0])][np.array(ds[j][2])]
        qv = qv / np.linalg.norm(qv, axis=1, keepdims=True)
        dv = dv / np.linalg.norm(dv, axis=1, keepdims=True)
        got.append(colbert_encoding.maxsim(qv, dv))
    got = np.array(got[::-1])
    expected = np.array([b[2] for b in batch])
    err = np.abs(got - expected).max()
    print("%-15s onnx(batched, padded, reversed) vs torch max|diff| %.2e; maxsim std across items %.3f; size %d B"
          % ("tiny-colbert", err, expected.std(), os.path.getsize(onnx_path)))
    assert err < 1e-4 and expected.std() > 0.5


def check(onnx_path, batch, variant, with_types):
    """Runs the exported graph (numpy reference) on one padded batch in reversed order vs. per-item torch."""
    if variant == "tiny-colbert":
        return check_colbert(onnx_path, batch)
    ids, mask, tt = wordpiece.pad_batch([b[0] for b in batch][::-1], [b[1] for b in batch][::-1])
    feeds = {"input_ids": ids, "attention_mask": mask}
    if with_types:
        feeds["token_type_ids"] = tt
    out = OnnxNumpy(onnx_path).run(feeds)[0][::-1]
    expected = np.stack([b[2] for b in batch])
    if variant == "tiny-bi":
        m = mask[::-1, :, None].astype(np.float32)
        pooled = (out * m).sum(1) / m.sum(1)
        out = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    err = np.abs(out - expected).max()
    spread = expected.std(0).mean()
    print("%-15s onnx(batched, padded, reversed) vs torch max|diff| %.2e; output std across items %.3f; size %d B"
          % (variant, err, spread, os.path.getsize(onnx_path)))
    assert err < 1e-4, err
    assert spread > (0.05 if variant == "tiny-bi" else 0.5), "outputs barely vary; would not catch ordering bugs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "test"))
    ap.add_argument("--only", default=",".join(MANIFESTS))
    args = ap.parse_args()
    _, tok_path = minilm.extract_backbone()
    for v in args.only.split(","):
        write_variant(v, args.out, tok_path)


if __name__ == "__main__":
    main()
