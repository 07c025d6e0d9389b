"""Word n-gram repetition (GopherRepetitionFilter) over all documents of a batch at once, with NumPy.

Why: datatrove counts n-grams with a Python Counter and a Python while-loop per document. Here an n-gram is a
64-bit polynomial hash of its token hashes, and only *repeated* n-grams are ever materialised: an n-gram can
only repeat where its (n-1)-gram prefix repeats, so each size is found among the previous size's repeats,
a set that shrinks fast on real text. A collision needs two different n-grams of one document to agree on 64
bits. datatrove's `find_all_duplicate` keys n-grams by their concatenation without spaces; here they are
keyed by their token sequence, which differs only if two token sequences concatenate to the same string.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

_P = np.uint64(0x100000001B3)  # odd multiplier of the polynomial n-gram hash
DOC_MIX = 0x9E3779B97F4A7C15  # golden-ratio multiplier: makes equal items of different documents hash apart
_NONE = np.iinfo(np.int64).max
VECTOR_ROUNDS = 2  # vectorised rounds of dup_ngram_chars before the remaining documents are scanned in Python
BLOCK_KEYS = 1 << 16  # keys per hash-table pass of `_blockwise`: a table this size stays in the CPU's cache


def _u64(key: np.ndarray) -> pl.Series:
    return pl.Series(key, dtype=pl.UInt64)


def _blockwise(op: Callable[[pl.Series], pl.Series], key: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """`op` (is_duplicated, is_first_distinct, unique_counts) over blocks of whole documents (`doc` is
    non-decreasing), concatenated. Keys of different documents never match, so this equals one pass over all
    keys; but a block's hash table stays in cache, which makes it 3x faster on a batch's million words."""
    keys = _u64(key)
    if len(key) <= BLOCK_KEYS:
        return op(keys).to_numpy()
    bounds = np.r_[np.unique(np.searchsorted(doc, doc[::BLOCK_KEYS], side="left")), len(key)]
    return np.concatenate([op(keys.slice(a, b - a)).to_numpy() for a, b in zip(bounds[:-1], bounds[1:])])


def _first_seen(key: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each key (a hash table: faster than a stable argsort)."""
    return _blockwise(pl.Series.is_first_distinct, key, doc)


def _member(key: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """key in pool (a hash table: 4x faster than sorting the pool and binary-searching every key)."""
    if len(pool) == 0:
        return np.zeros(len(key), dtype=bool)
    return _u64(key).is_in(_u64(pool).implode()).to_numpy()


class Ngrams:
    """Repeated word n-grams of a batch whose tokens are contiguous per document, documents in order."""

    def __init__(self, doc: np.ndarray, token_hash: np.ndarray, token_len: np.ndarray, n_docs: int, max_n: int) -> None:
        self.doc = doc.astype(np.int64)
        self.n_docs = n_docs
        self.counts = np.bincount(self.doc, minlength=n_docs)
        self.start = np.concatenate([[0], np.cumsum(self.counts)])[:-1]
        self.cum_len = np.concatenate([[0], np.cumsum(token_len.astype(np.int64))])
        hashes = token_hash.astype(np.uint64)
        key = hashes ^ (self.doc.astype(np.uint64) * np.uint64(DOC_MIX))
        idx = np.arange(len(key))
        self.repeated: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        end = (self.start + self.counts)[self.doc]  # one past the last token of each token's document
        for n in range(2, max_n + 1):  # bigrams straight from all tokens: most single tokens repeat anyway
            ok = idx + n <= end[idx]
            idx, key = idx[ok], key[ok] * _P + hashes[idx[ok] + n - 1]
            rep = _blockwise(pl.Series.is_duplicated, key, self.doc[idx])
            idx, key = idx[rep], key[rep]
            self.repeated[n] = (idx, key)

    def chars(self, idx: np.ndarray, n: int) -> np.ndarray:
        """Characters of the n-grams starting at token indices idx, without separators."""
        return self.cum_len[idx + n] - self.cum_len[idx]


def top_ngram_chars(ng: Ngrams, n: int) -> np.ndarray:
    """Per document: len(" ".join(g)) * count(g) for the most frequent n-gram g (first seen wins ties),
    i.e. datatrove's `find_top_duplicate`; 0 where a document has fewer than n words."""
    out = np.zeros(ng.n_docs, dtype=np.int64)
    has = ng.counts >= n  # every n-gram unique: the first one, once
    out[has] = ng.chars(ng.start[has], n) + n - 1
    idx, key = ng.repeated[n]
    if len(idx):
        doc = ng.doc[idx]
        first = np.flatnonzero(_first_seen(key, doc))  # in order of first sight
        count = _blockwise(pl.Series.unique_counts, key, doc)  # in the same order
        doc = doc[first]
        starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
        top = np.repeat(np.maximum.reduceat(count, starts), np.diff(np.r_[starts, len(doc)]))
        best = np.flatnonzero(count == top)
        best = best[np.r_[True, doc[best][1:] != doc[best][:-1]]]  # the first of a document's most frequent
        out[doc[best]] = count[best] * (ng.chars(idx[first[best]], n) + n - 1)
    return out


def _chain(cand: np.ndarray, span: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Which candidate positions the greedy scan counts if every candidate is a true repeat: the first candidate
    of each document, then repeatedly the first candidate at least `span` (its n) further on, before `end` (one
    past the document's last n-gram start) -- for all documents at once by pointer doubling, no Python loop."""
    if len(cand) == 0:
        return np.zeros(0, dtype=bool)
    sentinel = len(cand)
    nxt = np.searchsorted(cand, cand + span)
    nxt[cand + span >= end] = sentinel  # the next jump target lies in another document
    jump = np.append(nxt, sentinel)
    on = np.zeros(sentinel + 1, dtype=bool)
    on[np.flatnonzero(np.r_[True, end[1:] != end[:-1]])] = True  # first candidate of each document
    while True:
        on[jump[np.flatnonzero(on)]] = True
        if (jump == sentinel).all():
            break
        jump = jump[jump]
    return on[:sentinel]


def dup_ngram_chars(ng: Ngrams, sizes: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Per n in sizes, per document: characters datatrove's `find_all_duplicate(words, n)` counts.

    That scan walks n-gram starts; an n-gram already in its `unique` set is counted and the scan jumps n
    ahead (the n-grams jumped over are never added), otherwise it is added. Only repeated n-grams matter.
    Solved in rounds: assume every n-gram seen earlier (from the round's start) is in the set, pick the jumps
    (`_chain`), then check each counted n-gram had an earlier occurrence the scan visited. A document whose
    first failed check is at v is exact before v; v is really added, and the next round restarts it at v + 1.
    Documents still unresolved after VECTOR_ROUNDS rounds are finished by the scan itself (`_scan`). All sizes
    run together as separate "documents" (size s of document d is d + s * n_docs, its positions shifted by
    s * n_tokens), so the rounds are shared.
    """
    n_tokens = len(ng.doc)
    parts = [(s, n, *ng.repeated[n]) for s, n in enumerate(sizes)]
    pos = np.concatenate([idx + s * n_tokens for s, _, idx, _ in parts])
    key = np.concatenate([key ^ np.uint64(n) for _, n, _, key in parts])  # sizes never share a key
    span = np.concatenate([np.full(len(idx), n) for _, n, idx, _ in parts])
    chars = np.concatenate([ng.chars(idx, n) for _, n, idx, _ in parts])
    doc = np.concatenate([ng.doc[idx] + s * ng.n_docs for s, _, idx, _ in parts])
    # one past each (size, document)'s last n-gram start
    end = np.concatenate([ng.start + ng.counts - n + 1 + s * n_tokens for s, n in enumerate(sizes)])
    total = np.zeros(len(sizes) * ng.n_docs, dtype=np.int64)
    seen = np.zeros(0, dtype=np.uint64)  # keys added before the restart point of each unresolved document
    for _ in range(VECTOR_ROUNDS):
        if len(pos) == 0:
            break
        earlier = np.flatnonzero(~_first_seen(key, doc) | _member(key, seen))
        dups = earlier[_chain(pos[earlier], span[earlier], end[doc[earlier]])]
        # visited: not strictly inside the window a counted n-gram jumps over
        j = np.searchsorted(dups, np.arange(len(pos)), side="left") - 1
        visited = (j < 0) | (pos >= pos[dups[np.maximum(j, 0)]] + span[dups[np.maximum(j, 0)]])
        where = np.flatnonzero(visited)
        first_visit = np.zeros(len(pos), dtype=bool)
        first_visit[where] = _first_seen(key[where], doc[where]) & ~_member(key[where], seen)
        bad = dups[first_visit[dups]]  # counted, but no visited earlier occurrence: really a first sighting
        first_bad = np.full(len(total), _NONE, dtype=np.int64)
        bad_docs, at = np.unique(doc[bad], return_index=True)
        first_bad[bad_docs] = pos[bad[at]]
        good = dups[pos[dups] < first_bad[doc[dups]]]
        total += np.bincount(doc[good], weights=chars[good], minlength=len(total)).astype(np.int64)
        if len(bad_docs) == 0:
            break
        upto = first_bad[doc]
        counted = np.zeros(len(pos), dtype=bool)
        counted[good] = True
        added = visited & ~counted & (pos <= upto) & (upto != _NONE)
        keep = (upto != _NONE) & (pos > upto)
        seen = np.concatenate([seen[_member(seen, key[keep])], key[added]])
        pos, key, span, chars, doc = pos[keep], key[keep], span[keep], chars[keep], doc[keep]
    else:
        _scan(pos, key, span, chars, doc, seen, total)
    return {n: total[s * ng.n_docs : (s + 1) * ng.n_docs] for s, n in enumerate(sizes)}


def _scan(
    pos: np.ndarray,
    key: np.ndarray,
    span: np.ndarray,
    chars: np.ndarray,
    doc: np.ndarray,
    seen: np.ndarray,
    total: np.ndarray,
) -> None:
    """datatrove's scan itself, over the repeated n-grams left after VECTOR_ROUNDS: the few documents whose
    repeats keep starting inside jumped-over windows (each round would only advance them one such repeat).
    Items come sorted by (document, position), so each document's state is two local variables."""
    added = set(seen.tolist())
    current, resume, count = -1, 0, 0  # document, the scan's next position after its last jump, its characters
    for p, k, n, c, d in zip(pos.tolist(), key.tolist(), span.tolist(), chars.tolist(), doc.tolist(), strict=True):
        if d != current:
            if count:
                total[current] += count
            current, resume, count = d, p, 0
        if p < resume:
            continue
        if k in added:
            count += c
            resume = p + n
        else:
            added.add(k)
    if count:
        total[current] += count
