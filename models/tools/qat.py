"""Quantization-aware training for minilm.CrossEncoder: simulates quantize_int8.py's int8 graph in the forward pass.

    import qat; qat.prepare(model)     # in place; the state dict keeps its keys, so export_release.py reads it

What is simulated (the default export: 7-bit symmetric weights per output column, activations per batch):
- each of the 36 encoder Linears (query, key, value, attention output, FFN in and out): its input goes through
  DynamicQuantizeLinear (uint8, one range over the whole batch, widened to include 0) and its weight through the
  per-column 7-bit grid, then the float matmul of the two dequantized operands plus the fp32 bias. Up to float
  summation order this is MatMulInteger + Cast + Mul;
- the three embedding tables through quantize_int8.py's per-tensor uint8 grid.
Rounding passes gradients straight through (straight-through estimator), so the fp32 weights keep training while the
loss sees the int8 model's outputs. Everything else (LayerNorm, softmax, GELU, the classifier head) is fp32, as in
the graph.
"""
import types

import torch
import torch.nn.functional as F

KINDS = ("query", "key", "value", "attn_out", "inter", "out")


def _ste(x, q):
    return x + (q - x).detach()


def fake_act(x):
    """DynamicQuantizeLinear then DequantizeLinear (round half to even as ONNX; torch.round does the same)."""
    with torch.no_grad():
        lo = torch.clamp(x.min(), max=0.0)
        hi = torch.clamp(x.max(), min=0.0)
        scale = (hi - lo) / 255.0
        if float(scale) == 0.0:
            return x
        zp = torch.clamp(torch.round(-lo / scale), 0, 255)
        q = (torch.clamp(torch.round(x / scale) + zp, 0, 255) - zp) * scale
    return _ste(x, q)


def fake_weight(w, qmax=64):
    """w: [out, in] (torch layout); quantize_int8._weight_per_column on the graph's [in, out] = per row here."""
    with torch.no_grad():
        absmax = w.abs().amax(dim=1, keepdim=True)
        scale = torch.where(absmax > 0, absmax / qmax, torch.ones_like(absmax))
        q = torch.clamp(torch.round(w / scale), -qmax, qmax) * scale
    return _ste(w, q)


def fake_table(w):
    """quantize_int8._table_u8: per tensor, zero point 128, scale = absmax / 127.5."""
    with torch.no_grad():
        absmax = w.abs().max()
        scale = 2.0 * absmax / 255.0 if float(absmax) > 0 else torch.tensor(1.0)
        q = (torch.clamp(torch.round(w / scale) + 128, 0, 255) - 128) * scale
    return _ste(w, q)


def _linear_forward(self, x):
    return F.linear(fake_act(x), fake_weight(self.weight), self.bias)


def _embedding_forward(self, ids):
    if self.weight.requires_grad:
        table = fake_table(self.weight)
    else:  # frozen (the word table): quantize once
        if getattr(self, "_qat_table", None) is None or self._qat_version != self.weight._version:
            self._qat_table, self._qat_version = fake_table(self.weight).detach(), self.weight._version
        table = self._qat_table
    return F.embedding(ids, table, self.padding_idx)


def prepare(model):
    """Patches the forward of every quantized Linear and embedding table of a minilm.CrossEncoder in place."""
    n = 0
    for layer in model.bert.layer:
        for kind in KINDS:
            lin = getattr(layer, kind)
            lin.forward = types.MethodType(_linear_forward, lin)
            n += 1
    emb = model.bert.embeddings
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        e = getattr(emb, name)
        e.forward = types.MethodType(_embedding_forward, e)
    return n
