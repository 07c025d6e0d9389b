"""A supervised fastText model run by PyTorch (CPU or GPU): the same weights, the same probabilities.

fastText's `predict` is a mean of input-matrix rows (an embedding bag) followed by a linear layer and a
softmax. Running that as batched `embedding_bag` + matmul lets a GPU score crawl-size samples. Parity with
fastText needs its exact tokenisation, reproduced here from `src/dictionary.cc` (fastText 0.9.2):

- the line is split on the bytes `' ' \\n \\r \\t \\v \\f \\0` only, and the end-of-line token `</s>` is appended
  (the Python `predict` adds the newline); reading stops at the first `</s>`, even one that is part of the text;
- tokens starting with the label prefix are dropped; an in-vocabulary word contributes its own row;
- with `maxn > 0` every word (in vocabulary or not, except `</s>`) also contributes its character n-grams of
  `<word>` (lengths minn..maxn, counted in UTF-8 characters), each hashed with 32-bit FNV-1a over the bytes
  (bytes are sign-extended, as fastText's `int8_t` cast does) into `nwords + hash % bucket`;
- with `wordNgrams = n > 1` each run of 2..n consecutive word hashes is combined as
  `h = h * 116049371 + next` in 64-bit unsigned arithmetic (hashes sign-extended from int32) →
  `nwords + h % bucket`.

Output layers: `softmax` (the default), `ova`/`ns` (independent sigmoids, which fastText reads from its 512-step
sigmoid table — reproduced here, so a logit within ~1e-7 of a table step can land one step, ≤ 0.008, away) and
`hs` (hierarchical softmax over fastText's Huffman tree of label counts, exact sigmoids) are supported.
Probabilities are reported as fastText reports them, `exp(log(p + 1e-5))`, so both backends can be swapped
without moving a threshold. Quantized `.ftz` models store
product-quantized matrices that are not exposed by the Python API: they run on the native backend only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from filters.classifiers.base import Classifier, resolve_device
from filters.classifiers.fasttext_native import LABEL_PREFIX, detect_positive_label, load_fasttext
from filters.utf8 import series_bytes

EOS = b"</s>"
_SPLIT = re.compile(rb"[ \n\r\t\v\f\x00]+")
_SPLIT_STR = r"[ \n\r\t\x0B\x0C\x00]+"  # the same bytes, for polars' regex
_NGRAM_MULT = np.uint64(116049371)
_LOG_EPS = 1e-5  # fastText's std_log(x) = log(x + 1e-5)
_CACHE_LIMIT = 2_000_000
_MAX_SIGMOID = 8
_SIGMOID_TABLE_SIZE = 512


def sigmoid_table() -> np.ndarray:
    """fastText's `Loss::t_sigmoid_` (float32 grid of 513 points on [-8, 8])."""
    x = np.arange(_SIGMOID_TABLE_SIZE + 1, dtype=np.float32) * np.float32(2 * _MAX_SIGMOID)
    x = x / np.float32(_SIGMOID_TABLE_SIZE) - np.float32(_MAX_SIGMOID)
    return (1.0 / (1.0 + np.exp(-x).astype(np.float64))).astype(np.float32)


def fnv1a(data: bytes) -> int:
    """fastText's `Dictionary::hash`: 32-bit FNV-1a with each byte sign-extended from int8."""
    h = 2166136261
    for b in data:
        h = ((h ^ (b | 0xFFFFFF00 if b >= 0x80 else b)) * 16777619) & 0xFFFFFFFF
    return h


def fnv1a_batch(texts: pl.Series, python_above: int = 256) -> np.ndarray:
    """`fnv1a` of each string's UTF-8 bytes as a signed 32-bit value (int64), vectorised across the strings: one
    NumPy step per byte position. Strings longer than `python_above` bytes (rare) are hashed one by one."""
    data, offsets = series_bytes(texts)
    lengths = np.diff(offsets)
    signed_bytes = data.view(np.int8).astype(np.int32).view(np.uint32)  # fastText XORs int8_t(byte)
    h = np.full(len(lengths), 2166136261, dtype=np.uint32)
    short = np.flatnonzero(lengths <= python_above)
    order = short[np.argsort(-lengths[short], kind="stable")]
    active = np.searchsorted(-lengths[order], -np.arange(1, (lengths[order[0]] if len(order) else 0) + 1),
                             side="right")  # strings longer than j bytes: order[:active[j]]
    for j, n in enumerate(active):
        idx = order[:n]
        h[idx] = (h[idx] ^ signed_bytes[offsets[idx] + j]) * np.uint32(16777619)
    for i in np.flatnonzero(lengths > python_above):
        h[i] = fnv1a(data[offsets[i] : offsets[i + 1]].tobytes())
    return h.view(np.int32).astype(np.int64)


@dataclass
class FastTextTokenizer:
    """Text → input-matrix row ids, exactly as fastText's `Dictionary::getLine` does for a supervised model."""

    word_ids: dict[bytes, int]
    nwords: int
    minn: int
    maxn: int
    bucket: int
    word_ngrams: int
    label_prefix: bytes = LABEL_PREFIX.encode()

    def __post_init__(self) -> None:
        self._cache: dict[bytes, tuple[tuple[int, ...], int]] = {}
        self._vocab: pl.DataFrame | None = None

    def char_ngrams(self, word: bytes) -> list[int]:
        """Row ids of the character n-grams of `<word>` (fastText's `computeSubwords`)."""
        if self.maxn <= 0 or self.bucket <= 0:
            return []
        w = b"<" + word + b">"
        n = len(w)
        out = []
        for i in range(n):
            if w[i] & 0xC0 == 0x80:  # not the first byte of a UTF-8 character
                continue
            h, j, length = 2166136261, i, 1  # FNV-1a state carried along as the n-gram grows
            while j < n and length <= self.maxn:
                b = w[j]
                h = ((h ^ (b | 0xFFFFFF00 if b >= 0x80 else b)) * 16777619) & 0xFFFFFFFF
                j += 1
                while j < n and w[j] & 0xC0 == 0x80:
                    b = w[j]
                    h = ((h ^ (b | 0xFFFFFF00)) * 16777619) & 0xFFFFFFFF
                    j += 1
                if length >= self.minn and not (length == 1 and (i == 0 or j == n)):
                    out.append(self.nwords + h % self.bucket)
                length += 1
        return out

    def _token(self, token: bytes) -> tuple[tuple[int, ...], int]:
        """(row ids, signed 32-bit hash) of one token, cached because crawl text repeats its words."""
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        wid = self.word_ids.get(token, -1)
        ids = [] if wid < 0 else [wid]
        if token != EOS:
            ids += self.char_ngrams(token)
        h = fnv1a(token)
        entry = (tuple(ids), h - (1 << 32) if h >= 1 << 31 else h)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = entry
        return entry

    def encode(self, text: str) -> np.ndarray:
        """Input-matrix row ids of one document (newlines count as spaces, one `</s>` at the end)."""
        ids: list[int] = []
        hashes: list[int] = []
        for token in [*_SPLIT.split(text.encode("utf-8", "replace")), EOS]:
            if not token or token.startswith(self.label_prefix):
                continue
            rows, h = self._token(token)
            ids.extend(rows)
            hashes.append(h)
            if token == EOS:  # fastText stops the line at the first `</s>`, even one written in the text
                break
        word_ids = np.asarray(ids, dtype=np.int64)
        if self.word_ngrams <= 1 or self.bucket <= 0 or len(hashes) < 2:
            return word_ids
        base = np.asarray(hashes, dtype=np.int64).view(np.uint64)  # sign extension, as in fastText
        h = base
        parts = [word_ids]
        for step in range(1, self.word_ngrams):
            if len(h) <= 1:
                break
            h = h[:-1] * _NGRAM_MULT + base[step:]
            parts.append((h % np.uint64(self.bucket)).astype(np.int64) + self.nwords)
        return np.concatenate(parts)

    def encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids and per-document offsets, the input of `embedding_bag`: each document's ids as `encode` gives
        them, computed for the whole batch at once (polars splits, Python sees each distinct token once)."""
        try:
            series = pl.Series("t", list(texts), dtype=pl.String)
        except (UnicodeError, pl.exceptions.ComputeError):  # a lone surrogate: per document, with "replace"
            return self._encode_each(texts)
        eos = EOS.decode()
        tokens = (pl.DataFrame([series]).with_row_index("doc")
                  .select("doc", (pl.col("t").str.replace_all(_SPLIT_STR, " ") + " " + eos).str.split(" "))
                  .explode("t")
                  .filter((pl.col("t") != "") & ~pl.col("t").str.starts_with(self.label_prefix.decode())))
        doc = tokens["doc"].to_numpy().astype(np.int64)
        is_eos = (tokens["t"] == eos).to_numpy()
        eos_before = np.cumsum(is_eos) - is_eos  # EOS tokens before each row, counted over the whole batch
        keep = eos_before == eos_before[np.searchsorted(doc, doc)]  # none before it in its own document
        doc, tokens = doc[keep], tokens.filter(pl.Series(keep))
        distinct = tokens["t"].unique(maintain_order=True)
        index = tokens.join(pl.DataFrame({"t": distinct, "i": np.arange(len(distinct))}), on="t", how="left",
                            maintain_order="left")["i"].to_numpy()
        row_counts, row_ids, token_hashes = self._distinct_rows(distinct)
        hashes = token_hashes[index].view(np.uint64)  # sign extension, as in fastText
        lengths = row_counts[index]
        starts = (np.cumsum(row_counts) - row_counts)[index]
        word_rows = row_ids[np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())]
        parts = [(np.repeat(doc, lengths), word_rows)]
        if self.word_ngrams > 1 and self.bucket > 0:
            h = hashes
            for step in range(1, self.word_ngrams):  # n-grams of step + 1 words that stay within one document
                same_doc = doc[step:] == doc[:-step]
                h = h[:-1] * _NGRAM_MULT + hashes[step:]
                parts.append((doc[:-step][same_doc],
                              (h[same_doc] % np.uint64(self.bucket)).astype(np.int64) + self.nwords))
        return _by_document(parts, len(series))

    def _distinct_rows(self, distinct: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per distinct token: how many rows it adds, all those rows (flat, token after token) and its hash.
        Without subwords a token adds its word row when it has one: a join and `fnv1a_batch`, no Python loop."""
        if self.maxn > 0 and self.bucket > 0:  # subword n-grams: per distinct token in Python (cached)
            entries = [self._token(t.encode()) for t in distinct]
            row_counts = np.fromiter((len(rows) for rows, _ in entries), dtype=np.int64, count=len(entries))
            row_ids = np.fromiter((r for rows, _ in entries for r in rows), dtype=np.int64,
                                  count=int(row_counts.sum()))
            return row_counts, row_ids, np.fromiter((h for _, h in entries), dtype=np.int64, count=len(entries))
        word_id = (pl.DataFrame({"t": distinct}).join(self._vocabulary(), on="t", how="left", maintain_order="left")
                   ["id"].fill_null(-1).to_numpy())
        known = word_id >= 0
        return known.astype(np.int64), word_id[known], fnv1a_batch(distinct)

    def _vocabulary(self) -> pl.DataFrame:
        """The word ids as a frame to join on (words that are not valid UTF-8 can match no token)."""
        if self._vocab is None:
            words, ids = [], []
            for word, i in self.word_ids.items():
                try:
                    words.append(word.decode("utf-8"))
                except UnicodeDecodeError:
                    continue
                ids.append(i)
            self._vocab = pl.DataFrame({"t": words, "id": ids}, schema={"t": pl.String, "id": pl.Int64})
        return self._vocab

    def _encode_each(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encoded = [self.encode(t) for t in texts]
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        flat = np.concatenate(encoded) if encoded else np.zeros(0, dtype=np.int64)
        return flat, offsets


def _by_document(parts: list[tuple[np.ndarray, np.ndarray]], n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Interleave parts (each: document of every id, ids grouped by document in order) into one flat array with
    each document's ids part after part, and the offset where each document starts."""
    counts = np.stack([np.bincount(d, minlength=n_docs) for d, _ in parts])  # (part, document)
    per_doc = counts.sum(axis=0)
    offsets = np.cumsum(per_doc) - per_doc
    flat = np.empty(int(per_doc.sum()), dtype=np.int64)
    before = offsets.copy()  # where the next part of each document starts
    for (d, ids), count in zip(parts, counts):
        first = np.cumsum(count) - count  # where each document's ids start within this part
        flat[before[d] + np.arange(len(d)) - first[d]] = ids
        before += count
    return flat, offsets


def huffman_paths(counts: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """fastText's hierarchical-softmax tree (`HierarchicalSoftmaxLoss::buildTree`) as padded paths.

    Returns (nodes, codes, mask), each (n_labels, depth): the output-matrix row of every inner node on a label's
    path, whether the path goes right (sigmoid) or left (1 - sigmoid) there, and which entries are real.
    """
    osz = len(counts)
    size = 2 * osz - 1
    count = np.full(size, 1e15)
    count[:osz] = counts
    parent = np.full(size, -1)
    binary = np.zeros(size, dtype=bool)
    leaf, node = osz - 1, osz
    for i in range(osz, size):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j] = leaf
                leaf -= 1
            else:
                mini[j] = node
                node += 1
        count[i] = count[mini[0]] + count[mini[1]]
        parent[mini[0]] = parent[mini[1]] = i
        binary[mini[1]] = True
    paths: list[list[tuple[int, bool]]] = []
    for i in range(osz):
        path, j = [], i
        while parent[j] != -1:
            path.append((int(parent[j]) - osz, bool(binary[j])))
            j = parent[j]
        paths.append(path)
    depth = max((len(p) for p in paths), default=0)
    nodes = np.zeros((osz, depth), dtype=np.int64)
    codes = np.zeros((osz, depth), dtype=bool)
    mask = np.zeros((osz, depth), dtype=bool)
    for i, path in enumerate(paths):
        for d, (n, c) in enumerate(path):
            nodes[i, d], codes[i, d], mask[i, d] = n, c, True
    return nodes, codes, mask


class TorchFastTextClassifier(Classifier):
    """fastText inference as `embedding_bag(mean)` + linear + softmax/sigmoid/HS in PyTorch, on CPU or GPU."""

    def __init__(self, path: str | Path, positive_label: str | None = None, device: str = "auto",
                 batch_size: int = 4096):
        import torch

        self.path = Path(path)
        model = load_fasttext(str(self.path))
        if model.is_quantized():
            raise ValueError(f"{self.path} is a quantized fastText model: use the native fastText backend")
        args = model.f.getArgs()
        if args.model.name != "supervised":
            raise ValueError(f"{self.path} is not a supervised fastText model")
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.labels: list[str] = list(model.get_labels())
        self.positive_label = detect_positive_label(self.labels, positive_label)
        self.positive_index = self.labels.index(self.positive_label)
        self.loss = args.loss.name
        if self.loss not in ("softmax", "hs", "ova", "ns"):
            raise ValueError(f"unsupported fastText loss {self.loss!r}")
        words = model.get_words(on_unicode_error="replace")
        self.tokenizer = FastTextTokenizer(
            word_ids={w.encode("utf-8"): i for i, w in enumerate(words)}, nwords=len(words), minn=args.minn,
            maxn=args.maxn, bucket=args.bucket, word_ngrams=args.wordNgrams, label_prefix=args.label.encode())
        self.input_matrix = torch.from_numpy(model.get_input_matrix()).to(self.device)
        self.output_matrix = torch.from_numpy(model.get_output_matrix()).to(self.device)
        self.sigmoid_table = torch.from_numpy(sigmoid_table()).to(self.device)
        if self.loss == "hs":
            _, counts = model.get_labels(include_freq=True)
            self.hs_paths = tuple(torch.from_numpy(a).to(self.device) for a in huffman_paths(counts))
        self.name = f"fasttext-torch:{self.path.name}[{self.positive_label.removeprefix(LABEL_PREFIX)}]"

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """All label probabilities as fastText reports them, (n_texts, n_labels) in `self.labels` order."""
        import torch
        import torch.nn.functional as F

        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        flat, offsets = self.tokenizer.encode_batch(texts)
        empty = torch.from_numpy(np.diff(np.append(offsets, len(flat))) == 0).to(self.device)
        with torch.inference_mode():
            ids = torch.from_numpy(flat).to(self.device)
            hidden = F.embedding_bag(ids, self.input_matrix, torch.from_numpy(offsets).to(self.device), mode="mean")
            logits = hidden @ self.output_matrix.T
            if self.loss == "softmax":
                probs = torch.softmax(logits, dim=1) + _LOG_EPS
            elif self.loss in ("ova", "ns"):
                probs = self._table_sigmoid(logits) + _LOG_EPS
            else:  # the product of the sigmoids on the label's path, each step through std_log as in fastText
                nodes, codes, mask = self.hs_paths
                f = torch.sigmoid(logits[:, nodes])  # (batch, labels, depth)
                step = torch.log(torch.where(codes, f, 1.0 - f) + _LOG_EPS)
                probs = torch.exp(torch.where(mask, step, torch.zeros_like(step)).sum(dim=2))
            probs[empty] = 0.0  # fastText predicts nothing for a line without any known row
        return probs.double().cpu().numpy()

    def _table_sigmoid(self, x):
        """fastText's `Loss::sigmoid`: 0 below -8, 1 above 8, else the table entry at floor((x + 8) * 32)."""
        import torch

        idx = ((x + _MAX_SIGMOID) * _SIGMOID_TABLE_SIZE / _MAX_SIGMOID / 2).long().clamp(0, _SIGMOID_TABLE_SIZE)
        out = self.sigmoid_table[idx]
        return torch.where(x < -_MAX_SIGMOID, 0.0, torch.where(x > _MAX_SIGMOID, 1.0, out))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float64)
        return self.probabilities(texts)[:, self.positive_index]
