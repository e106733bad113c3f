"""ColBERT query/document encoding conventions, exactly as documented in models/MANIFEST.md (`colbert`).

query:    [CLS] <query_marker> q-tokens [SEP] then, with query_augmentation, [MASK] up to query_max_length.
          attention_mask is 1 for the real tokens and 0 for the [MASK] padding (ColBERT/PyLate default: the model
          does not attend to expansion tokens), yet every position's output vector takes part in MaxSim.
document: [CLS] <document_marker> d-tokens [SEP], at most document_max_length tokens; with skiplist `punctuation`
          the vectors of tokens whose id is one of the 32 ASCII punctuation characters (Python string.punctuation,
          whole-word pieces only, as ColBERT) are left out of MaxSim.
token_type_ids are 0. Vectors are L2-normalized when `normalize`; score = sum over query vectors of the max dot
product over the kept document vectors.
"""
import string

import numpy as np


class ColbertEncoding:
    def __init__(self, tok, query_marker="[unused0]", document_marker="[unused1]", query_max_length=32,
                 document_max_length=180, query_augmentation=True, skiplist="punctuation"):
        self.tok = tok
        self.qm = tok.vocab[query_marker] if query_marker else None
        self.dm = tok.vocab[document_marker] if document_marker else None
        self.qlen, self.dlen, self.aug = query_max_length, document_max_length, query_augmentation
        self.skip = {tok.vocab[c] for c in string.punctuation if c in tok.vocab} if skiplist == "punctuation" else set()

    @classmethod
    def from_manifest(cls, tok, m):
        return cls(tok, m.get("query_marker", "[unused0]"), m.get("document_marker", "[unused1]"),
                   m.get("query_max_length", 32), m.get("document_max_length", 180),
                   m.get("query_augmentation", True), m.get("skiplist", "punctuation"))

    def _wrap(self, ids, marker, max_len):
        head = [self.tok.cls_id] + ([marker] if marker is not None else [])
        ids = ids[: max(0, max_len - len(head) - 1)]
        return head + ids + [self.tok.sep_id]

    def query(self, text):
        """-> (ids, attention_mask)"""
        ids = self._wrap(self.tok.tokenize_ids(text), self.qm, self.qlen)
        mask = [1] * len(ids)
        if self.aug and len(ids) < self.qlen:
            pad = self.qlen - len(ids)
            ids = ids + [self.tok.mask_id] * pad
            mask = mask + [0] * pad
        return ids, mask

    def document(self, text):
        """-> (ids, attention_mask, keep) where keep marks vectors used in MaxSim"""
        ids = self._wrap(self.tok.tokenize_ids(text), self.dm, self.dlen)
        keep = [i not in self.skip for i in ids]
        return ids, [1] * len(ids), keep


def pad(seqs, masks, pad_id=0):
    n = max(len(s) for s in seqs)
    ids = np.full((len(seqs), n), pad_id, dtype=np.int64)
    m = np.zeros((len(seqs), n), dtype=np.int64)
    for i, (s, k) in enumerate(zip(seqs, masks)):
        ids[i, : len(s)] = s
        m[i, : len(k)] = k
    return ids, m


def maxsim(q, d):
    """q [nq, dim], d [nd, dim] (already normalized and filtered) -> float"""
    return float((q @ d.T).max(axis=1).sum())
