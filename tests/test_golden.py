"""The golden file of the datatrove parity set: readable, keyed by its inputs, and stale when they change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filters.signals import RULESETS
from tools.parity_golden import FORMAT, GOLDEN_PATH, inputs_key, load_golden, stale_reason


def test_golden_file_is_complete() -> None:
    golden = load_golden()
    assert len(golden["rows"]) >= 500 and golden["docs"] in (0, len(golden["rows"]))  # 0: every document
    for row in golden["rows"]:
        assert all(isinstance(row[name][0], bool) for name in RULESETS)
        assert len(row["words_sha256"]) == 64
        assert row["quantities"]["n_words"] >= 0
    assert any(not row["gopher_quality"][0] for row in golden["rows"]), "the sample should exercise drops"


def test_golden_file_holds_no_page_text() -> None:
    assert max(len(line) for line in GOLDEN_PATH.read_text(encoding="utf-8").splitlines()) < 4000


def test_changed_inputs_make_it_stale() -> None:
    texts = ["one page", "another page"]
    golden = {"format": FORMAT, "docs": 2, "seed": 0, "inputs": inputs_key(texts), "rows": [{}, {}]}
    assert stale_reason(golden, texts) is None
    reason = stale_reason(golden, ["one page", "another page, edited"])
    assert reason is not None and "texts_sha256" in reason and "python -m tools.parity_golden" in reason
    older = golden | {"inputs": golden["inputs"] | {"datatrove": "0.0.1"}}
    assert "datatrove: stored '0.0.1'" in stale_reason(older, texts)
    assert "documents: stored 2, now 1" in stale_reason(golden, texts[:1])


def test_unreadable_golden_file_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        load_golden(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="regenerate it with"):
        load_golden(tmp_path / "other.json")
