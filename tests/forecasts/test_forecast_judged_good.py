"""The forecast's "judged good by people" line: web × dedup survival × judged-good share, drawn with the same
replicate index as every other measured factor (stats/supply.py writes `judged_good_share`)."""

import json

import polars as pl
import pytest

from forecasts.model import run_forecast
from tests.forecasts.test_forecast_measured import write_run


def _with_judged(path, available=True):
    """Add a judged-good share equal, replicate by replicate, to the high tier's share (a known answer)."""
    run = path.parent
    reps = pl.read_parquet(run / "stock_replicates.parquet")
    if available:
        high = reps.filter(pl.col("group") == "*", pl.col("quantity") == "share:high")
        reps = pl.concat([reps, high.with_columns(quantity=pl.lit("judged_good_share"))])
        reps.write_parquet(run / "stock_replicates.parquet")
    stocks = json.loads(path.read_text())
    stocks["supply"]["judged_good"] = (
        {"available": True, "estimate": 1.0, "ci90": [0.9, 1.1], "unit": "tokens",
         "labels": {"source": "dev.jsonl", "documents": 281, "unit": "human-labelled documents"},
         "note": "agreement measured on development labels, so optimistic"}
        if available else {"available": False, "reason": "no human labels: test"})
    path.write_text(json.dumps(stocks))
    return path


def test_judged_good_line_uses_the_same_replicate_draws(tmp_path):
    path = _with_judged(write_run(tmp_path / "r", files=8))
    out = run_forecast("measured", stocks_path=path, draws=20_000, seed=0, with_sensitivity=False)
    tiers = out["tiers"]
    assert "judged_good" in tiers and "judged_good" not in (out.get("languages") or {}).get("en", {}).get("tiers", {})
    judged, high = tiers["judged_good"]["supply"], tiers["high"]["supply"]
    # its share equals the high share in every replicate: with joint draws the two supplies are identical
    assert judged["usable"]["median"] == pytest.approx(high["usable"]["median"], rel=1e-6)
    assert judged["usable"]["ci90"] == pytest.approx(high["usable"]["ci90"], rel=1e-6)
    assert tiers["judged_good"]["exhaustion_year"]["p50"] == pytest.approx(tiers["high"]["exhaustion_year"]["p50"])
    info = out["supply"]["judged_good"]
    assert info["available"] and info["labelled_documents"] == 281


def test_without_labels_there_is_no_judged_line(tmp_path):
    path = _with_judged(write_run(tmp_path / "r", files=8), available=False)
    out = run_forecast("measured", stocks_path=path, draws=5_000, seed=0, with_sensitivity=False)
    assert "judged_good" not in out["tiers"]
    assert out["supply"]["judged_good"] == {"available": False, "reason": "no human labels: test"}
