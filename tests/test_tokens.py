"""Token counts agree with the tokenizer libraries' own counts on real text, for every supported tokenizer."""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import tiktoken
import tiktoken.load
from tokenizers import Tokenizer

from stats import tokens
from stats.tokens import PATTERNS, count_tokens, get_tokenizer, parse_spec, token_column

OPENAI_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


@pytest.fixture(scope="session")
def tok_dir(shared_data: Path) -> Path:
    return shared_data / "tokenizers"


@pytest.fixture(scope="session")
def real_texts(shared_data: Path) -> list[str]:
    """Main-content text of the first 100 real pages (de/en/fr/es/pl/zh), plus awkward edge cases."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    texts = []
    with (shared_data / "warc_derived" / "trafilatura-eval-1033pages.warc.gz").open("rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            body = record.reader.read()
            texts.append(extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True))
            if len(texts) == 100:
                break
    return [*texts, "", "<|endoftext|> in a page", "1234567 tokens\r\n\r\n   \t  end", "日本語のテキストです。"]


@pytest.fixture
def tiktoken_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tok_dir: Path) -> None:
    """Serve tiktoken's own `get_encoding` from its cache, filled with the official files (it checks the hash)."""
    for name in ("cl100k_base", "o200k_base"):
        key = hashlib.sha1(OPENAI_URL.format(name).encode()).hexdigest()
        shutil.copy(tok_dir / f"{name}.tiktoken", tmp_path / key)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))


def _reference(enc: tiktoken.Encoding, texts: list[str]) -> np.ndarray:
    return np.array([len(enc.encode_ordinary(t)) for t in texts], dtype=np.int64)


def test_cl100k_default_matches_tiktoken(real_texts: list[str], tiktoken_cache: None) -> None:
    counts = count_tokens(real_texts)
    assert counts.dtype == np.int64 and len(counts) == len(real_texts)
    np.testing.assert_array_equal(counts, _reference(tiktoken.get_encoding("cl100k_base"), real_texts))
    assert counts[:100].sum() > 100_000 and counts[100] == 0


def test_o200k_from_a_user_path_matches_tiktoken(
    real_texts: list[str], tiktoken_cache: None, tok_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _reference(tiktoken.get_encoding("o200k_base"), real_texts)
    spec = f"o200k_base={tok_dir / 'o200k_base.tiktoken'}"
    np.testing.assert_array_equal(count_tokens(real_texts, spec), reference)
    assert not np.array_equal(reference, count_tokens(real_texts))  # a different tokenizer, really
    # The short forms name the same encoding and file.
    monkeypatch.setenv(tokens.TOKENIZER_DIR_ENV, str(tok_dir))
    for short in (str(tok_dir / "o200k_base.tiktoken"), "o200k_base"):
        assert parse_spec(short) == parse_spec(spec)
        assert token_column(short) == "tokens_o200k_base"


def test_nothing_is_downloaded(tok_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(path: str) -> bytes:
        raise AssertionError(f"tried to fetch {path}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    get_tokenizer.cache_clear()
    enc = get_tokenizer(f"o200k_base={tok_dir / 'o200k_base.tiktoken'}")
    assert enc.n_vocab == 200019 and enc.special_tokens_set == {"<|endoftext|>", "<|endofprompt|>"}


@pytest.mark.parametrize("name", ["gpt-neo-tokenizer.json", "llama-tokenizer.json"])
def test_hf_tokenizer_json_matches_the_tokenizers_library(real_texts: list[str], tok_dir: Path, name: str,
                                                          tmp_path: Path) -> None:
    texts = real_texts[50:]  # 50 pages and the edge cases keep the unbatched reference quick
    reference_tok = Tokenizer.from_file(str(tok_dir / name))
    reference = np.array([len(reference_tok.encode(t, add_special_tokens=False)) for t in texts])
    np.testing.assert_array_equal(count_tokens(texts, str(tok_dir / name)), reference)
    # A tokenizer.json saved with truncation on still counts whole texts.
    reference_tok.enable_truncation(max_length=64)
    folder = tmp_path / "my-model"
    folder.mkdir()
    reference_tok.save(str(folder / "tokenizer.json"))
    spec = str(folder / "tokenizer.json")
    assert token_column(spec) == "tokens_my_model"
    np.testing.assert_array_equal(count_tokens(texts, spec), reference)
    assert reference.max() > 64


def test_neox_tiktoken_file_agrees_with_its_hf_tokenizer(real_texts: list[str], tok_dir: Path) -> None:
    """Same vocabulary in two libraries. The HF file also normalises to NFC and has added tokens for runs of
    spaces and for <|endoftext|>, so on real pages the two agree exactly once text is NFC with single spaces,
    and closely otherwise."""
    tiktoken_spec = f"gpt2={tok_dir / 'gpt-neox-20b.tiktoken'}"
    hf_spec = str(tok_dir / "gpt-neo-tokenizer.json")
    assert token_column(tiktoken_spec) == "tokens_gpt_neox_20b"
    plain = [unicodedata.normalize("NFC", re.sub(r"\s+", " ", t)) for t in real_texts[:100]]
    np.testing.assert_array_equal(count_tokens(plain, tiktoken_spec), count_tokens(plain, hf_spec))
    raw_tik, raw_hf = count_tokens(real_texts, tiktoken_spec).sum(), count_tokens(real_texts, hf_spec).sum()
    assert abs(raw_tik - raw_hf) / raw_hf < 0.02


@pytest.mark.parametrize(
    ("pattern", "name", "digits"),
    [("llama3", "meta-llama-3-8B.tiktoken", 3), ("llama3", "llama3-128k.tiktoken", 3),
     ("qwen2", "qwen3-151k.tiktoken", 7), ("gpt2", "gpt-neox-20b.tiktoken", None)],
)
def test_tiktoken_files_match_tiktokens_loader(real_texts: list[str], tok_dir: Path, pattern: str, name: str,
                                               digits: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our ranks parser and pattern choice equal tiktoken's own loader with the authors' split pattern."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # no cached copies of local files
    spec = f"{pattern}={tok_dir / name}"
    reference = tiktoken.Encoding(name, pat_str=PATTERNS[pattern], special_tokens={},
                                  mergeable_ranks=tiktoken.load.load_tiktoken_bpe(str(tok_dir / name)))
    np.testing.assert_array_equal(count_tokens(real_texts, spec), _reference(reference, real_texts))
    enc = get_tokenizer(spec)
    assert all(enc.decode(enc.encode_ordinary(t)) == t for t in real_texts[:40])  # lossless on real text
    if digits is not None:  # Llama 3 groups digits by three, Qwen splits them one by one
        assert count_tokens(["1234567"], spec)[0] == digits


def test_specs_name_their_columns_and_bad_specs_say_how(tok_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert token_column("cl100k_base") == "tokens_cl100k_base"
    assert parse_spec(f"qwen2={tok_dir / 'qwen3-151k.tiktoken'}").name == "qwen3_151k"
    assert parse_spec(f"cl100k_base={tok_dir / 'cl100k_base.tiktoken'}").kind == "openai"
    monkeypatch.delenv(tokens.TOKENIZER_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match="needs its ranks file"):
        parse_spec("o200k_base")
    with pytest.raises(ValueError, match="unknown tokenizer"):
        parse_spec("gpt-4")
    with pytest.raises(ValueError, match="no split pattern"):
        parse_spec(str(tok_dir / "qwen3-151k.tiktoken"))
    with pytest.raises(ValueError, match="not the official ranks file"):
        count_tokens(["x"], f"cl100k_base={tok_dir / 'o200k_base.tiktoken'}")
    # An '=' inside a path is part of the path, not a pattern prefix.
    path = Path("/data/run=3/my-tok.json")
    assert parse_spec(str(path)) == tokens.TokenizerSpec("my_tok", "hf", path)


def test_batches_keep_order_and_handle_empty_input(real_texts: list[str]) -> None:
    texts = ([t[:400] for t in real_texts] * 8)[: tokens._CHUNK * 2 + 17]
    one_by_one = np.array([count_tokens([t])[0] for t in texts])
    np.testing.assert_array_equal(count_tokens(texts, threads=2), one_by_one)
    empty = count_tokens([])
    assert empty.dtype == np.int64 and empty.shape == (0,)
