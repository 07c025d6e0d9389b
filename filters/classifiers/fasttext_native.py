"""Any supervised fastText model (`.bin` or quantized `.ftz`) as a quality scorer, run by fastText's C++ code.

The score is the probability fastText reports for the *positive* label (e.g. DCLM's `__label__hq`). fastText
reads one line per document, so newlines are replaced by spaces (as DCLM does before scoring).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from filters.classifiers.base import Classifier

LABEL_PREFIX = "__label__"
# Label names (without prefix) read as "good" / "bad" when the user does not name the positive label.
POSITIVE_NAMES = ("hq", "high", "high_quality", "good", "positive", "pos", "keep", "1", "true", "yes", "wiki",
                  "reference")
NEGATIVE_NAMES = ("cc", "lq", "low", "low_quality", "bad", "negative", "neg", "drop", "0", "false", "no", "rw",
                  "crawl", "spam")
_NEWLINES = str.maketrans({"\n": " "})


def fasttext_lines(texts: Sequence[str]) -> list[str]:
    """One line per text, as fastText's `predict` requires (it appends the end-of-line token itself)."""
    return [t.translate(_NEWLINES) for t in texts]


def detect_positive_label(labels: Sequence[str], positive_label: str | None = None) -> str:
    """The label whose probability is the quality score.

    An explicit `positive_label` (with or without `__label__`) must exist in the model. Otherwise a label named
    like `hq`/`high`/`good`/`1` wins; failing that, in a two-label model the label that is not named like
    `cc`/`low`/`bad`/`0`. Anything else is ambiguous and raises, since guessing would silently invert the score.
    """
    if positive_label is not None:
        wanted = positive_label if positive_label.startswith(LABEL_PREFIX) else LABEL_PREFIX + positive_label
        if wanted not in labels:
            raise ValueError(f"positive label {wanted!r} is not one of the model's labels {list(labels)}")
        return wanted
    names = {lab: lab.removeprefix(LABEL_PREFIX).lower() for lab in labels}
    positives = [lab for lab, n in names.items() if n in POSITIVE_NAMES]
    if len(positives) == 1:
        return positives[0]
    if len(labels) == 2:
        others = [lab for lab, n in names.items() if n not in NEGATIVE_NAMES]
        if len(others) == 1:
            return others[0]
    raise ValueError(f"cannot tell which of the labels {list(labels)} means good quality: name it "
                     "(positive_label / --positive-label)")


@lru_cache(maxsize=8)
def load_fasttext(path: str):
    """Load a fastText model once per process (without the C++ library's load-time warning)."""
    import fasttext

    fasttext.FastText.eprint = lambda *_: None
    return fasttext.load_model(path)


class FastTextClassifier(Classifier):
    """Scores with fastText's own batched `predict` (CPU only, multi-threaded inside fastText)."""

    device = "cpu"

    def __init__(self, path: str | Path, positive_label: str | None = None, batch_size: int = 4096):
        self.path = Path(path)
        self.model = load_fasttext(str(self.path))
        self.labels: list[str] = list(self.model.get_labels())
        self.positive_label = detect_positive_label(self.labels, positive_label)
        self.batch_size = batch_size
        self.name = f"fasttext:{self.path.name}[{self.positive_label.removeprefix(LABEL_PREFIX)}]"

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """All label probabilities as fastText reports them, (n_texts, n_labels) in `self.labels` order."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        if not texts:
            return out
        column = {lab: j for j, lab in enumerate(self.labels)}
        labels, probs = self.model.predict(fasttext_lines(texts), k=-1)
        for i, (labs, ps) in enumerate(zip(labels, probs)):
            out[i, [column[lab] for lab in labs]] = ps
        return out

    def score(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float64)
        labels, probs = self.model.predict(fasttext_lines(texts), k=-1)
        pos = self.positive_label
        return np.array([p[list(lab).index(pos)] if pos in lab else 0.0 for lab, p in zip(labels, probs)],
                        dtype=np.float64)
