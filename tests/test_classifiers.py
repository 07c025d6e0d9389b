"""Quality classifiers without torch: native fastText, training + card, default scorer vs people, tiers, devices."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from filters.classifiers import (
    FastTextClassifier,
    TierThresholds,
    assign_tiers,
    default_scorer,
    detect_positive_label,
    load_scorer,
    read_documents,
    resolve_device,
    tier_expr,
    tier_thresholds,
    tiers_frame,
    train_classifier,
)
from filters.classifiers import base as classifiers_base
from filters.classifiers.fasttext_native import load_fasttext
from filters.classifiers.fasttext_torch import FastTextTokenizer, fnv1a, fnv1a_batch
from filters.classifiers.features import FEATURES
from filters.classifiers.metrics import agreement, length_ambiguous_mask, roc_auc
from tools.evaluate_classifiers import load_human_labels

WIKITEXT = Path("reference_text") / "wikitext-2-raw-test.raw"
SMS = Path("low_quality") / "SMSSpamCollection.tsv"
HUMAN = Path("quality_labels") / "dclm-human-agreement_data.jsonl"
# Measured with the shipped default_quality_model.json (docs/classifiers.md); asserted with a small margin.
# These 281 labels are the development set (they chose the global high threshold), not a held-out measurement.
DEFAULT_AUC = 0.929
DEFAULT_AUC_HARD = 0.888
GENESIS = Path("reference_text") / "nltk-genesis-6langs.tar.gz"


@pytest.fixture(scope="module")
def sms_jsonl(shared_data: Path, tmp_path_factory) -> Path:
    """Every SMS of the SMS Spam Collection as a JSONL.gz document file (the negatives)."""
    lines = (shared_data / SMS).read_text(encoding="utf-8", errors="replace").splitlines()
    path = tmp_path_factory.mktemp("neg") / "sms.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps({"text": line.split("\t", 1)[1]}) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(shared_data: Path, sms_jsonl: Path, tmp_path_factory) -> tuple[Path, dict]:
    """A small fastText model: WikiText-2 paragraphs (plain text, blank-line blocks) vs SMS messages."""
    out = tmp_path_factory.mktemp("model") / "wiki-vs-sms.bin"
    card = train_classifier([shared_data / WIKITEXT], [sms_jsonl], out, epochs=5, dim=16, bucket=20_000, seed=3,
                            valid_fraction=0.2)
    return out, card


def test_training_writes_model_and_card_with_real_metrics(trained, shared_data: Path, sms_jsonl: Path):
    out, card = trained
    assert out.is_file() and out.with_suffix(".json").is_file()
    on_disk = json.loads(out.with_suffix(".json").read_text())
    assert on_disk == card
    assert card["data"]["positive"][0]["documents"] == len(read_documents(shared_data / WIKITEXT))
    negatives = len(read_documents(sms_jsonl))
    assert card["data"]["negative"][0]["documents"] == negatives > 0
    split = card["split"]
    total = sum(split["train"].values()) + sum(split["valid"].values())
    assert total == card["data"]["positive"][0]["documents"] + negatives
    assert card["metrics"]["valid_documents"] == round(0.2 * total)
    assert card["metrics"]["accuracy"] > 0.97
    assert card["metrics"]["roc_auc"] > 0.98
    assert card["hyperparameters"] == {"epoch": 5, "lr": 0.1, "wordNgrams": 2, "dim": 16, "minCount": 2,
                                       "bucket": 20_000, "minn": 0, "maxn": 0, "loss": "softmax", "thread": 1,
                                       "seed": 3}
    assert card["fasttext"].startswith("fasttext")
    assert card["labels"] == {"positive": "__label__hq", "negative": "__label__cc"}


def test_training_is_deterministic(trained, shared_data: Path, sms_jsonl: Path, tmp_path: Path):
    out, card = trained
    again = train_classifier([shared_data / WIKITEXT], [sms_jsonl], tmp_path / "again.bin", epochs=5, dim=16,
                             bucket=20_000, seed=3, valid_fraction=0.2)
    assert (tmp_path / "again.bin").read_bytes() == out.read_bytes()
    assert again["metrics"] == card["metrics"]


def test_native_fasttext_predicts_with_numpy2(trained, shared_data: Path):
    assert int(np.__version__.split(".")[0]) >= 2
    out, _ = trained
    clf = FastTextClassifier(out)
    assert clf.positive_label == "__label__hq" and clf.device == "cpu"
    texts, labels = load_human_labels(shared_data / HUMAN)
    probs = clf.probabilities(texts[:50])
    assert probs.shape == (50, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)  # fastText reports p + 1e-5 per label
    scores = clf.score(texts)
    np.testing.assert_allclose(scores[:50], probs[:, clf.labels.index("__label__hq")])
    prose, chatter = clf.score([
        "The Ise-class battleships were a pair of dreadnought battleships built for the Imperial Japanese Navy "
        "during World War I. Originally intended to be repeats of the preceding class, they were redesigned.",
        "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. Text FA to 87121 to receive entry",
    ])
    assert prose > 0.5 > chatter
    assert clf.score([]).shape == (0,)
    batches = list(clf.score_batches(texts, batch_size=100))
    assert [len(b) for b in batches] == [100, 100, 81]
    np.testing.assert_array_equal(np.concatenate(batches), scores)


def test_detect_positive_label():
    assert detect_positive_label(["__label__cc", "__label__hq"]) == "__label__hq"  # DCLM's labels
    assert detect_positive_label(["__label__cc", "__label__news"]) == "__label__news"
    assert detect_positive_label(["__label__a", "__label__b"], "b") == "__label__b"
    with pytest.raises(ValueError, match="cannot tell"):
        detect_positive_label(["__label__a", "__label__b"])
    with pytest.raises(ValueError, match="not one of"):
        detect_positive_label(["__label__hq", "__label__cc"], "good")


def test_tokenizer_char_ngrams_match_fasttext(shared_data: Path, tmp_path: Path):
    """Subword ids computed in Python equal fastText's own `get_subwords` (FNV-1a, UTF-8, sign extension)."""
    import fasttext  # the pure-Python tokeniser is checked here without torch

    texts, labels = load_human_labels(shared_data / HUMAN)
    train = tmp_path / "train.txt"
    train.write_text("".join(f"__label__{'hq' if y else 'cc'} {' '.join(t.split())}\n" for t, y in zip(texts, labels)))
    model_path = tmp_path / "sub.bin"
    from filters.classifiers.training import train_fasttext_file

    train_fasttext_file(train, model_path, {"minn": 2, "maxn": 5, "bucket": 5000, "dim": 4, "epoch": 1,
                                            "thread": 1, "seed": 0, "verbose": 0, "wordNgrams": 2})
    model = fasttext.load_model(str(model_path))
    words = model.get_words()
    tok = FastTextTokenizer({w.encode(): i for i, w in enumerate(words)}, len(words), 2, 5, 5000, 2)
    for word in ["the", "Qualität", "über", "数据质量", "naïve—", words[5], "zzqx"]:
        _, ids = model.get_subwords(word)
        ours = tok._token(word.encode())[0]
        assert sorted(ours) == sorted(ids.tolist()), word
    assert fnv1a(b"") == 2166136261 and fnv1a(b"a") == 0xE40C292C  # FNV-1a test vectors
    unsigned = ((2166136261 ^ 0xC3) * 16777619) & 0xFFFFFFFF
    signed = ((2166136261 ^ 0xFFFFFFC3) * 16777619) & 0xFFFFFFFF  # fastText XORs int8_t(byte)
    assert fnv1a(b"\xc3") == signed != unsigned


BATCH_EDGE = ["", " \t\x0b ", "__label__hq only a label", "x", "tabs\tand\rcarriage\x00nul", "naïve café — ünïcödé",
              "a literal </s> ends fastText's line: never read", "</s>", "</s> </s> a", "a\n\nb\x0c\x0c c ", "w1 w2",
              "__label__x </s> y", "  lead and trail  ", "non\u00a0breaking\u2003spaces", "數據"]


@pytest.mark.parametrize("minn,maxn,bucket,word_ngrams", [(0, 0, 0, 1), (0, 0, 20_000, 2), (3, 6, 20_000, 3),
                                                         (2, 4, 5_000, 2), (0, 0, 0, 2), (3, 6, 0, 1)])
@pytest.mark.parametrize("label_prefix", [b"__label__", b"</"])  # "</" also drops the end-of-line token
def test_batch_encoding_equals_per_document_encoding(shared_data: Path, minn, maxn, bucket, word_ngrams,
                                                     label_prefix):
    """The vectorised `encode_batch` (polars split, each distinct token hashed once, n-grams within documents)
    gives every document's ids in `encode`'s order, which is fastText's: the oracle is the per-document path."""
    texts, _ = load_human_labels(shared_data / HUMAN)
    words = sorted({w for t in texts[:50] for w in t.split()})[:3000] + ["</s>", "a", "w1"]
    tok = FastTextTokenizer({w.encode(): i for i, w in enumerate(words)}, len(words), minn, maxn, bucket,
                            word_ngrams, label_prefix)
    docs = BATCH_EDGE + list(texts) + BATCH_EDGE
    for batch in (docs, docs[:1], [], ["lone \ud800 surrogate x", "ok"]):  # a surrogate takes the per-doc path
        flat, offsets = tok.encode_batch(batch)
        expected = [tok.encode(t) for t in batch]
        assert offsets.tolist() == np.cumsum([0] + [len(e) for e in expected])[:-1].tolist()
        assert flat.tolist() == [i for e in expected for i in e.tolist()]


def test_vectorised_fnv1a_equals_fasttext_hash():
    """`fnv1a_batch` (one NumPy step per byte position; long strings one by one) = `fnv1a`, signed as fastText's
    int32, on random strings of multi-byte characters, NUL bytes, the empty string and strings past the cut-off."""
    rng = np.random.default_rng(0)
    alphabet = [*"ab€é日\x00 ", "😀"]
    strings = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 120)))) for _ in range(2000)] + ["", "a" * 300]
    expected = [h - (1 << 32) if h >= 1 << 31 else h for h in (fnv1a(s.encode()) for s in strings)]
    assert fnv1a_batch(pl.Series(strings), python_above=100).tolist() == expected


def test_read_documents_formats(tmp_path: Path):
    (tmp_path / "blocks.txt").write_text("first doc\nstill first\n\nsecond doc\n  \n\nthird\n")
    (tmp_path / "lines.txt").write_text("one\ntwo\n\n")
    assert read_documents(tmp_path / "blocks.txt") == ["first doc\nstill first", "second doc", "third"]
    assert read_documents(tmp_path / "lines.txt", split="line") == ["one", "two"]
    assert read_documents(tmp_path / "blocks.txt", split="file") == [
        "first doc\nstill first\n\nsecond doc\n  \n\nthird"]
    with gzip.open(tmp_path / "d.jsonl.gz", "wt") as fh:
        fh.write('{"text": "a b"}\n{"text": ""}\n{"body": "x"}\n{"text": "c"}\n')
    assert read_documents(tmp_path / "d.jsonl.gz") == ["a b", "c"]
    pl.DataFrame({"text": ["p1", None, "p2"], "id": [1, 2, 3]}).write_parquet(tmp_path / "d.parquet")
    assert read_documents(tmp_path / "d.parquet") == ["p1", "p2"]
    sub = tmp_path / "dir"
    sub.mkdir()
    (sub / "x.md").write_text("m1\n\nm2")
    (sub / "ignored.csv").write_text("a,b")
    assert read_documents(sub) == ["m1", "m2"]
    with pytest.raises(ValueError, match="split"):
        read_documents(tmp_path / "lines.txt", split="sentence")


def test_default_scorer_agrees_with_people(shared_data: Path):
    scorer = default_scorer()
    assert scorer.name == "peakdata-default-v2" and scorer.device == "cpu"
    texts, labels = load_human_labels(shared_data / HUMAN)
    scores = scorer.score(texts)
    assert scores.dtype == np.float64 and ((scores > 0) & (scores < 1)).all()
    result = agreement(scores, labels, length_ambiguous_mask(texts, labels))
    assert result["hard_documents"] == 82
    assert result["roc_auc"] >= DEFAULT_AUC - 0.002
    assert result["roc_auc_hard"] >= DEFAULT_AUC_HARD - 0.002
    assert result["roc_auc_hard"] > agreement(np.array([len(t) for t in texts], float), labels,
                                               length_ambiguous_mask(texts, labels))["roc_auc_hard"] + 0.2
    assert load_scorer(None) is load_scorer("default")
    np.testing.assert_allclose(load_scorer("default").score(texts[:5]), scores[:5], rtol=1e-12)


def test_default_scorer_is_not_english_only(shared_data: Path):
    """Parallel prose (Genesis) in English, German and French scores alike (paragraphs of ~600 characters, one
    per line, as extracted web text has them; the corpus files are hard-wrapped)."""
    import re
    import tarfile

    medians = {}
    with tarfile.open(shared_data / GENESIS) as tar:
        for name in ("english-web", "german", "french"):
            text = " ".join(tar.extractfile(f"corpora/genesis/{name}.txt").read().decode("latin-1").split())
            sentences = re.split(r"(?<=[.!?])\s+", text)
            paragraphs = [" ".join(sentences[i:i + 6]) for i in range(0, 600, 6)]
            chunks = ["\n".join(paragraphs[i:i + 6]) for i in range(0, 96, 6)]
            medians[name] = float(np.median(default_scorer().score(chunks)))
    assert min(medians.values()) > 0.75
    assert max(medians.values()) - min(medians.values()) < 0.2


def test_default_scorer_edge_cases():
    scores = default_scorer().score(["", "   \n\n ", "word", "x" * 50_000])
    assert np.isfinite(scores).all() and scores.shape == (4,)


def test_default_model_is_reproducible_metadata():
    spec = default_scorer().spec
    assert spec["training"]["command"] == "python tools/build_default_model.py"
    assert spec["features"] == list(FEATURES)
    assert len(spec["coef"]) == len(spec["features"]) == len(spec["mean"]) == len(FEATURES)
    dev = spec["evaluation"]["development (dclm 281 human labels; used for the high threshold)"]
    assert dev["roc_auc"] == pytest.approx(DEFAULT_AUC, abs=0.001)
    # penalties can only lower the score: their fitted coefficients are not positive
    coef = dict(zip(spec["features"], spec["coef"]))
    assert all(coef[f] <= 0.05 for f in ("letter_deficit", "digit_excess", "symbol_excess", "long_run_frac",
                                         "dup_line_frac", "compression_excess", "poverty"))
    table = spec["agreement"]["tiers"]
    assert sum(t["documents"] for t in table.values()) == 281
    assert table["high"]["good_tokens"] / table["high"]["tokens"] > table["low"]["good_tokens"] / table["low"]["tokens"]


def test_length_sorted_batches_cover_every_index_once():
    """The GPU path's batching logic (pure NumPy, so it is checked here without torch or a GPU)."""
    from filters.classifiers.embedding import length_sorted_batches

    lengths = [5, 100, 7, 100, 0, 42, 3]
    batches = length_sorted_batches(lengths, 3)
    assert [b.tolist() for b in batches] == [[1, 3, 5], [2, 0, 6], [4]]  # longest first, ties in input order
    order = np.concatenate(batches)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    out = np.empty(len(lengths))
    for b in batches:
        out[b] = np.asarray(lengths)[b]  # writing back by index restores input order
    assert out.tolist() == lengths
    assert length_sorted_batches([], 4) == []


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.integers(0, 10, 200).astype(float)  # many ties
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(y, s) == pytest.approx(pairs)
    with pytest.raises(ValueError):
        roc_auc(np.ones(3), np.arange(3))


def test_tiers_thresholds_and_percentiles():
    scores = np.array([0.95, 0.9, 0.89, 0.5, 0.49, 0.1, np.nan])
    assert assign_tiers(scores, 0.9, 0.5).tolist() == ["high", "high", "medium", "medium", "low", "low", None]
    with pytest.raises(ValueError, match="no high threshold"):  # no calibration, no numbers: no silent default
        tier_thresholds(pl.DataFrame({"quality_score": scores}))
    frame = pl.DataFrame({"doc_id": [str(i) for i in range(100)], "quality_score": np.arange(100) / 100})
    top10 = tier_thresholds(frame.lazy(), TierThresholds(high_percentile=90, low_percentile=50))
    assert top10.high == pytest.approx(0.891) and top10.low == pytest.approx(0.495)
    assert top10.as_dict() == {"high": top10.high, "low": top10.low, "high_percentile": 90, "low_percentile": 50,
                               "by_lang": {}, "source": "percentile of this run"}
    tiers = tiers_frame(frame, top10)
    assert tiers.columns == ["doc_id", "quality_score", "tier"]
    assert tiers["tier"].value_counts().sort("tier").rows() == [("high", 10), ("low", 50), ("medium", 40)]
    assert frame.select(tier_expr(0.3, 0.3))["tier"].value_counts().sort("tier").rows() == [("high", 70), ("low", 30)]
    mixed = tier_thresholds(frame, TierThresholds(high=0.99, low_percentile=10))
    assert mixed.high == 0.99 and mixed.low == pytest.approx(0.099)
    with pytest.raises(ValueError, match="either"):
        tier_thresholds(frame, TierThresholds(high=0.8, high_percentile=90))
    with pytest.raises(ValueError, match="above"):
        tier_thresholds(frame, TierThresholds(high=0.2, low=0.4))
    with pytest.raises(ValueError, match="between 0 and 100"):
        TierThresholds(high_percentile=150)


def test_device_selection(monkeypatch, trained):
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("gpu")
    monkeypatch.setattr(classifiers_base, "cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(RuntimeError, match="cuda"):
        resolve_device("cuda")
    out, _ = trained
    load_scorer.cache_clear()
    assert isinstance(load_scorer(str(out), device="auto"), FastTextClassifier)  # no GPU: native fastText
    with pytest.raises(ValueError, match="CPU only"):
        load_scorer(str(out), device="cuda", backend="fasttext")
    with pytest.raises(FileNotFoundError):
        load_scorer("no-such-model.bin")
    monkeypatch.setattr(classifiers_base, "cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    load_scorer.cache_clear()
    load_fasttext.cache_clear()
