"""BERT WordPiece tokenizer read from a Hugging Face ``tokenizer.json``.

Reimplements what HF ``tokenizers`` (Rust) does for BertNormalizer + BertPreTokenizer + WordPiece +
TemplateProcessing so that ids match the Java side (DJL wraps the same Rust library) without needing the
``tokenizers`` package. Truncation follows the Rust ``LongestFirst`` algorithm (shorter sequence keeps
floor(budget/2) when both are long; ties give the first sequence the floor).
"""
import json
import unicodedata

_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def _is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def _is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


class WordPieceTokenizer:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        model = spec["model"]
        if model["type"] != "WordPiece":
            raise ValueError("not a WordPiece tokenizer: %s" % model["type"])
        self.vocab = model["vocab"]
        self.inv_vocab = {i: t for t, i in self.vocab.items()}
        self.unk = model.get("unk_token", "[UNK]")
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = model.get("max_input_chars_per_word", 100)
        norm = spec.get("normalizer") or {}
        self.lowercase = norm.get("lowercase", True)
        sa = norm.get("strip_accents")
        self.strip_accents = self.lowercase if sa is None else sa
        self.clean_text = norm.get("clean_text", True)
        self.cjk = norm.get("handle_chinese_chars", True)
        # added tokens are matched on the raw text before normalization (longest first)
        self.added = sorted((t["content"] for t in spec.get("added_tokens", [])), key=len, reverse=True)
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        self.mask_id = self.vocab["[MASK]"]
        self._cache = {}

    # --- normalization -------------------------------------------------------------------------------
    def normalize(self, text):
        out = []
        for c in text:
            cp = ord(c)
            if self.clean_text:
                if cp == 0 or cp == 0xFFFD or _is_control(c):
                    continue
                if _is_whitespace(c):
                    out.append(" ")
                    continue
            if self.cjk and _is_cjk(cp):
                out.append(" " + c + " ")
            else:
                out.append(c)
        s = "".join(out)
        if self.strip_accents:
            s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            s = s.lower()
        return s

    @staticmethod
    def pre_tokenize(text):
        words = []
        for chunk in text.split():
            cur = []
            for c in chunk:
                if _is_punct(c):
                    if cur:
                        words.append("".join(cur))
                        cur = []
                    words.append(c)
                else:
                    cur.append(c)
            if cur:
                words.append("".join(cur))
        return words

    def _wordpiece(self, word):
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if len(word) > self.max_chars:
            ids = [self.vocab[self.unk]]
        else:
            ids = []
            start = 0
            n = len(word)
            while start < n:
                end = n
                cur = None
                while start < end:
                    sub = word[start:end]
                    if start > 0:
                        sub = self.prefix + sub
                    if sub in self.vocab:
                        cur = self.vocab[sub]
                        break
                    end -= 1
                if cur is None:
                    ids = [self.vocab[self.unk]]
                    break
                ids.append(cur)
                start = end
        if len(self._cache) < 500000:
            self._cache[word] = ids
        return ids

    def _split_added(self, text):
        """Yields (is_added_token, piece)."""
        if not self.added:
            yield False, text
            return
        i = 0
        start = 0
        n = len(text)
        while i < n:
            m = None
            if text[i] == "[":  # all BERT specials start with '[' - cheap pre-check
                for tok in self.added:
                    if text.startswith(tok, i):
                        m = tok
                        break
            if m is None:
                i += 1
                continue
            if i > start:
                yield False, text[start:i]
            yield True, m
            i += len(m)
            start = i
        if start < n:
            yield False, text[start:]

    def tokenize_ids(self, text):
        """Ids of one text without special tokens."""
        ids = []
        for is_added, piece in self._split_added(text):
            if is_added:
                ids.append(self.vocab[piece])
                continue
            for w in self.pre_tokenize(self.normalize(piece)):
                ids.extend(self._wordpiece(w))
        return ids

    # --- encoding ------------------------------------------------------------------------------------
    @staticmethod
    def truncate_pair(a, b, budget):
        """Rust tokenizers LongestFirst truncation (the 'legacy, verbatim' algorithm)."""
        if len(a) + len(b) <= budget:
            return a, b
        n1, n2 = len(a), len(b)
        swap = n1 > n2
        if swap:
            n1, n2 = n2, n1
        if n1 > budget:
            n2 = n1
        else:
            n2 = max(n1, budget - n1)
        if n1 + n2 > budget:
            n1 = budget // 2
            n2 = n1 + budget % 2
        if swap:
            n1, n2 = n2, n1
        return a[:n1], b[:n2]

    def encode(self, text, max_length=512):
        a = self.tokenize_ids(text)[: max(0, max_length - 2)]
        ids = [self.cls_id] + a + [self.sep_id]
        return ids, [0] * len(ids)

    def encode_pair(self, text_a, text_b, max_length=512):
        a = self.tokenize_ids(text_a)
        b = self.tokenize_ids(text_b)
        a, b = self.truncate_pair(a, b, max_length - 3)
        ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
        types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        return ids, types

    def tokens(self, ids):
        return [self.inv_vocab.get(i, "?") for i in ids]


def pad_batch(seqs, types=None, pad_id=0):
    """Right-pads lists of ids to the longest; returns int64 numpy arrays (ids, mask, types)."""
    import numpy as np
    n = max(len(s) for s in seqs)
    ids = np.full((len(seqs), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.int64)
    tt = np.zeros((len(seqs), n), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
        if types is not None:
            tt[i, : len(s)] = types[i]
    return ids, mask, tt
