"""filters.signals: parity with datatrove's four filters on real pages, and the pieces that make it up."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import zstandard
from datatrove.data import Document
from datatrove.pipeline.filters.gopher_repetition_filter import (
    find_all_duplicate,
    find_duplicates,
    find_top_duplicate,
    get_n_grams,
)
from datatrove.utils.text import PUNCTUATION_SET

from benchmarks.signals import datatrove_filters
from filters.signals import (
    DEFAULT_THRESHOLDS,
    RULESETS,
    annotate,
    compute_signals,
    decide,
    heuristics,
    repetition,
    tokenize,
)
from filters.signals.compression import MODEL_PATH, ZSTD_LEVEL, ref_bits_per_byte, zstd_ratio
from filters.signals.repetition import Ngrams, dup_ngram_chars, top_ngram_chars
from filters.signals.tokenize import TABLES_PATH, WS, WS_CHARS, tokenize_lines
from tools.build_reference import TARBALL, build
from tools.parity_golden import load_golden, parity_sample, stale_reason, words_digest


@pytest.fixture(scope="session")
def parity(shared_data: Path) -> dict:
    """The sampled real texts, datatrove's outputs for them (tests/golden/, from tools/parity_golden.py) and
    compute_signals' output; fails, saying how to regenerate, when the golden file's inputs changed."""
    golden = load_golden()
    sample = parity_sample(shared_data, golden["docs"], golden["seed"])
    stale = stale_reason(golden, sample)
    if stale:
        pytest.fail(stale)
    rows = golden["rows"]
    return {
        "texts": sample,
        "datatrove": {name: [tuple(row[name]) for row in rows] for name in RULESETS},
        "words_sha256": [row["words_sha256"] for row in rows],
        "c4_chars": [row["c4_chars"] for row in rows],
        "quantities": [row["quantities"] for row in rows],
        "ours": compute_signals(pl.Series(sample, dtype=pl.String)),
    }


def test_parity_sample_is_large_enough(parity: dict) -> None:
    assert len(parity["texts"]) >= 500 and parity["ours"].height == len(parity["texts"])


@pytest.mark.parametrize("ruleset", RULESETS)
def test_decisions_agree_with_datatrove(parity: dict, ruleset: str) -> None:
    ours = parity["ours"]
    theirs = parity["datatrove"][ruleset]
    keep = ours[f"{ruleset}_keep"].to_list()
    reason = ours[f"{ruleset}_reason"].to_list()
    disagree = [(i, theirs[i], (keep[i], reason[i])) for i in range(len(theirs)) if theirs[i] != (keep[i], reason[i])]
    agreement = 1 - len(disagree) / len(theirs)
    assert agreement >= 0.99, f"{ruleset}: {agreement:.4f} agreement; (doc, datatrove, ours): {disagree[:20]}"
    assert any(not k for k, _ in theirs), "the sample should exercise drops"


def test_words_are_datatroves_spacy_words(parity: dict) -> None:
    frame = pl.DataFrame(
        {"doc": range(len(parity["texts"])), "line": parity["texts"]}, schema_overrides={"doc": pl.UInt32}
    ).with_columns(pl.col("doc").alias("lid"))
    # one "line" per document is enough here: word lists ignore line structure
    ours = tokenize_lines(frame).filter(~pl.col("space")).group_by("doc", maintain_order=True).agg("token")
    got = dict(zip(ours["doc"].to_list(), ours["token"].to_list(), strict=True))
    same = sum(words_digest(got.get(i, [])) == w for i, w in enumerate(parity["words_sha256"]))
    assert same / len(parity["words_sha256"]) >= 0.99, f"{same} of {len(parity['words_sha256'])} word lists identical"


def test_signal_values_equal_datatroves_quantities(parity: dict) -> None:
    ours = parity["ours"]
    expected = pl.DataFrame(parity["quantities"])
    for column in expected.columns:
        diff = (ours[column].cast(pl.Float64) - expected[column].cast(pl.Float64)).abs()
        assert diff.max() <= 1e-12, f"{column}: {int((diff > 1e-12).sum())} documents differ"


def test_c4_records_how_much_text_datatrove_removes(parity: dict) -> None:
    ours = parity["ours"]
    kept = [i for i, n in enumerate(parity["c4_chars"]) if n is not None]
    assert kept
    for i in kept:
        text = parity["texts"][i]
        expected = 1 - parity["c4_chars"][i] / len(text)
        assert ours["c4_frac_chars_removed"][i] == pytest.approx(expected, abs=1e-12)


def roc_auc(labels: list[int], scores: pl.Series) -> float:
    """Probability that a random good document outscores a random bad one (ties count half)."""
    ranks = scores.rank("average").to_numpy()
    good = np.asarray(labels) == 1
    n_good, n_bad = good.sum(), (~good).sum()
    return float((ranks[good].sum() - n_good * (n_good + 1) / 2) / (n_good * n_bad))


def test_compression_signals_predict_human_labels(shared_data: Path) -> None:
    rows = [json.loads(line) for line in (shared_data / "quality_labels/dclm-human-agreement_data.jsonl").open()]
    texts = pl.Series([r["text"] for r in rows])
    labels = [r["label"] for r in rows]
    signals = annotate(texts)
    # numbers reported in docs/signals.md
    assert roc_auc(labels, signals["zstd_ratio"]) == pytest.approx(0.869, abs=0.002)
    assert roc_auc(labels, -signals["ref_bits_per_byte"]) == pytest.approx(0.878, abs=0.002)


def test_reference_model_rebuilds_from_the_books(shared_data: Path) -> None:
    built = build(shared_data / TARBALL)
    with np.load(MODEL_PATH) as shipped:
        assert set(shipped.files) == set(built)
        for name in shipped.files:
            assert np.array_equal(shipped[name], built[name]), name
    assert MODEL_PATH.stat().st_size < 1_000_000


# --- no real data needed below ---------------------------------------------------------------------------


def test_tokenizer_tables_match_installed_spacy() -> None:
    pytest.importorskip("spacy")
    from tools.build_tokenizer_tables import spacy_tables

    assert json.loads(TABLES_PATH.read_text()) == json.loads(json.dumps(spacy_tables()))


TRICKY = [
    "$100",
    "(US$5)",
    "5$",
    "hello...",
    "a...b",
    "don't.",
    "U.S.)",
    "A.",
    "ABC.",
    "Fig.",
    "10km",
    "2020-01-01",
    "well-known",
    "foo.Bar",
    "http://x.com/a-b).",
    "e.g.",
    "3.5",
    "a,b",
    "1,000",
    "and/or",
    "10:30",
    "x=y",
    "«Hallo»",
    "„Hallo“",
    "+49",
    "+a",
    "**bold**",
    "----",
    "C++",
    "😀hi",
    "中文，中文。",
    "word[1].",
    ":)",
    "(:",
    "Mr.,",
    "etc.)",
    "it’s",
    "—foo—",
    "I'm",
    "gonna",
    "Cannot",
    "x--y",
    "z.B. und d.h.",
    "[ :)!X (:) Z",
    "Bepflanzt-und-dekoriert-wird-das-Livingten-zu-einem-wohnlichen-Mittelpunkt-im-Garten.jpg",
    "10a.m.",
    "!!!\t\t    !Nach",
    "'s",
    "''Quote''",
    "e-mail@example.com",
    "C'est l'été",
    "१२३।",
]


def test_tokenizer_matches_spacy_on_tricky_strings() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    frame = pl.DataFrame({"lid": range(len(TRICKY)), "line": TRICKY}, schema_overrides={"lid": pl.UInt32})
    ours = tokenize_lines(frame).filter(~pl.col("space")).group_by("lid", maintain_order=True).agg("token")
    got = dict(zip(ours["lid"].to_list(), ours["token"].to_list(), strict=True))
    for i, text in enumerate(TRICKY):
        assert got.get(i, []) == [t.text for t in nlp.tokenizer(text) if t.text.strip()], text


@pytest.mark.parametrize("block_keys", [repetition.BLOCK_KEYS, 64])
def test_ngram_repetition_matches_datatroves_scans(block_keys: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """64-key blocks split the batch's hash-table passes into many blocks of whole documents."""
    monkeypatch.setattr(repetition, "BLOCK_KEYS", block_keys)
    rng = random.Random(0)
    docs = []
    for _ in range(800):
        vocab, length = rng.choice([2, 3, 5, 10, 50]), rng.choice([0, 1, 4, 9, 30, 120])
        words = [f"<{rng.randrange(vocab)}>" for _ in range(length)]
        if words and rng.random() < 0.5:  # repeated blocks, repeats starting inside skipped windows
            block = words[: rng.randint(1, max(1, length // 3))]
            words = (block * rng.randint(1, 6) + words)[: 2 * length]
        docs.append(words)
    tokens = pl.Series([w for d in docs for w in d], dtype=pl.String)
    doc = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    ng = Ngrams(doc, tokens.hash().to_numpy(), tokens.str.len_chars().to_numpy(), len(docs), 10)
    for n in (2, 3, 4):
        expected = [find_top_duplicate(get_n_grams(d, n)) if len(d) >= n else 0 for d in docs]
        assert top_ngram_chars(ng, n).tolist() == expected, n
    for n, chars in dup_ngram_chars(ng, (5, 6, 7, 8, 9, 10)).items():
        assert chars.tolist() == [find_all_duplicate(d, n) for d in docs], n


def test_simple_chunks_split_as_the_affix_rounds_do() -> None:
    """The shortcut for "word," "word." "word)" gives what `_split_affixes` + `_attach` give, on random chunks
    mixing plain words, units, currencies, special cases and marks (and leaves other chunks to them)."""
    rng = random.Random(1)
    words = [*"abcXYZ019éßÄ", "km", "US", "C", "goin", "Dr", "A", "ABC", "gonna", "e.g", "Mr", "z.B", "10km", "5"]
    marks = [*",.;:!?)(\"'’”“…$%+-/*&#]_", "", ".."]
    chunks = {"".join(rng.choice(words) for _ in range(rng.randint(1, 3))) + rng.choice(marks) for _ in range(20000)}
    distinct = pl.Series(sorted(chunks)).to_frame("chunk").with_row_index("cid")
    simple = tokenize._simple_split(distinct)
    full = tokenize._attach(tokenize._split_affixes(distinct.join(simple.select("cid"), on="cid")))
    both = simple.join(full, on="cid", suffix="_rounds")
    assert both.height == simple.height > 3000
    assert both.filter(pl.col("tokens") != pl.col("tokens_rounds")).height == 0


def test_character_sets_behind_the_shortcuts() -> None:
    """Facts the signal code relies on, checked against the installed polars regex engine."""
    every = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000])
    assert "".join(every.filter(every.str.contains(f"^[{WS}]$")).to_list()) == WS_CHARS  # strip_chars(WS_CHARS)
    assert heuristics._SENTENCE_MARKS.str.contains(r"^\p{P}+$").all()  # marks are punctuation tokens
    assert not pl.Series(sorted(PUNCTUATION_SET)).str.contains(r"\p{L}").any()  # a letter is never a symbol


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", " a \n\n\n b\n\n\n\n\nc ", "a\n\n \n\nb", "x\n\ny\n\nx", "\x1c p \n\n\n p\u2028", "a\nb\n\na\nb"],
)
def test_paragraphs_are_datatroves(text: str) -> None:
    paragraphs = re.split(r"\n{2,}", text.strip())
    dup, chars = find_duplicates(paragraphs)
    ours = compute_signals(pl.Series([text]))
    assert ours["gopher_repetition_dup_para_frac"][0] == dup / len(paragraphs)
    assert ours["gopher_repetition_dup_para_char_frac"][0] == (chars / len(text) if text else 0.0)


SAMPLES = [
    "",
    "   \n\t ",
    "Lorem ipsum dolor sit amet, consectetur. Second sentence here. And a third one.\n" * 3,
    "function f() { return 1; } is what the code says.\nAnother line that is long enough.",
    ("The cat sat on the mat and looked at the dog. " * 12 + "\n") * 2,
    "# Title\n- item one\n- item two\n- item three\n",
    "One short line is here. Two short lines are here.",
]


def test_schema_and_row_per_text() -> None:
    out = compute_signals(pl.Series(SAMPLES + [None], dtype=pl.String))
    assert out.height == len(SAMPLES) + 1
    for name in RULESETS:
        assert out.schema[f"{name}_keep"] == pl.Boolean and out.schema[f"{name}_reason"] == pl.String
        assert (out[f"{name}_keep"] == out[f"{name}_reason"].is_null()).all()
    numeric = [c for c, t in out.schema.items() if t.is_numeric()]
    assert {"zstd_ratio", "ref_bits_per_byte", "n_words", "c4_frac_lines_removed"} <= set(numeric)
    assert out.row(len(SAMPLES)) == out.row(0)  # null reads as empty
    assert compute_signals(pl.Series([], dtype=pl.String)).columns == out.columns


def test_decide_reproduces_defaults_and_applies_thresholds() -> None:
    signals = annotate(pl.Series(SAMPLES))
    default = decide(signals)
    assert default.equals(compute_signals(pl.Series(SAMPLES)).select(default.columns))
    for name, f in datatrove_filters().items():
        results = [f.filter(Document(text=t, id=str(i))) for i, t in enumerate(SAMPLES)]
        assert default[f"{name}_reason"].to_list() == [r[1] if isinstance(r, tuple) else None for r in results]
    assert default["c4_reason"].to_list()[2:4] == ["lorem_ipsum", "curly_bracket"]
    assert default["c4_reason"][6] == "too_few_sentences"
    loose = decide(
        signals, {"gopher_quality": {"min_doc_words": None, "min_stop_words": 0}, "c4": {"min_num_sentences": 2}}
    )
    assert loose["gopher_quality_reason"][0] != "gopher_short_doc"
    assert loose["c4_keep"][6] and loose["c4_reason"][2] == "lorem_ipsum"
    with pytest.raises(ValueError, match="unknown gopher_quality thresholds"):
        decide(signals, {"gopher_quality": {"min_words": 3}})
    with pytest.raises(ValueError, match="not computed"):
        decide(signals, {"gopher_repetition": {"top_n_grams": ((11, 0.1),)}})
    assert set(DEFAULT_THRESHOLDS) == set(RULESETS)


def test_zstd_ratio_is_bytes_over_compressed_bytes() -> None:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=False)
    expected = [len(t.encode()) / len(compressor.compress(t.encode())) for t in SAMPLES]
    assert zstd_ratio(pl.Series(SAMPLES)).tolist() == pytest.approx(expected, rel=1e-12)


def _exact_bits_per_byte(text: str) -> float:
    """The reference model's cross-entropy in floating point, one byte at a time (slow, independent); the model
    mixes 1% uniform into every prediction."""
    with np.load(MODEL_PATH) as z:
        unigram = z["unigram"].astype(float)
        grams = {n: dict(zip(z[f"keys{n}"].tolist(), z[f"counts{n}"].tolist(), strict=True)) for n in (2, 3, 4)}
    stats = {}
    for n, counts in grams.items():
        n1, n2 = sum(c == 1 for c in counts.values()), sum(c == 2 for c in counts.values())
        total, types = {}, {}
        for key, c in counts.items():
            total[key >> 8] = total.get(key >> 8, 0) + c
            types[key >> 8] = types.get(key >> 8, 0) + 1
        stats[n] = (n1 / (n1 + 2 * n2), total, types)
    data = text.encode()
    bits = 0.0
    for i, b in enumerate(data):
        p = (unigram[b] + 1) / (unigram.sum() + 256)
        for n in range(2, min(4, i + 1) + 1):
            ctx = int.from_bytes(data[i - n + 1 : i], "big")
            d, total, types = stats[n]
            if ctx in total:
                p = max(grams[n].get(ctx << 8 | b, 0) - d, 0) / total[ctx] + d * types[ctx] / total[ctx] * p
        bits -= math.log2(0.99 * p + 0.01 / 256)
    return bits / len(data) if data else 0.0


def test_reference_bits_per_byte_match_the_model() -> None:
    texts = ["The quick brown fox jumps over the lazy dog.", "Ünïcödé – 中文 😀", "a", "", "zzzz qqqq xxxx"]
    got = ref_bits_per_byte(pl.Series(texts))
    for text, value in zip(texts, got, strict=True):
        assert abs(value - _exact_bits_per_byte(text)) <= 1 / 16 + 1e-6, text  # tables keep 1/8-bit steps
    # documents are scored independently of their neighbours in the batch
    alone = [ref_bits_per_byte(pl.Series([t]))[0] for t in texts]
    assert got.tolist() == alone
