"""Tokens people would judge good (issue 17, part 4): the tiers' agreement with human labels turns the measured
tier stocks into a judged-good stock whose interval holds both the sampling error and the agreement error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_stocks import _leaves_have_units, make_run

from forecasts.report.answer import judged_good_line, measured_stock_table
from stats.misclassification import share_draws
from stats.stocks import QUALITY_FILE, build_stock_tables

GOOD = {"high": 0.9, "medium": 0.5, "low": 0.1}


def _agreement(documents: int, labels: str = "dev-labels.jsonl") -> dict:
    """An agreement table with the same good-token shares (GOOD) at any number of labelled documents."""
    tiers = {}
    for tier, g in GOOD.items():
        tokens = 200 * documents
        tiers[tier] = {"documents": documents, "good_documents": round(g * documents), "tokens": tokens,
                       "good_tokens": round(g * tokens), "effective_documents": float(documents)}
    return {"labels": labels, "unit": "cl100k_base tokens", "tiers": tiers, "note": "development labels"}


def _quality(run: Path, agreement: dict | None, applies: bool = True, reason: str | None = None) -> None:
    (run / QUALITY_FILE).write_text(json.dumps({"written_by": "quality-classify", "scorer": "test-scorer",
                                                "agreement": agreement, "agreement_applies": applies,
                                                "agreement_reason": reason}))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("judged"))


def _judged(run: Path, agreement: dict | None, bootstrap: int = 300) -> tuple[dict, dict, pl.DataFrame]:
    _quality(run, agreement)
    _, stocks, reps = build_stock_tables(run, bootstrap=bootstrap)
    return stocks["supply"]["judged_good"], stocks, reps


def _width(block: dict) -> float:
    return block["ci90"][1] - block["ci90"][0]


def test_fewer_labels_give_a_wider_interval(run: Path) -> None:
    few, _, _ = _judged(run, _agreement(15))
    many, stocks, _ = _judged(run, _agreement(5000))
    assert few["available"] and many["available"]
    # same sampled stock, same tier shares of good tokens: only the agreement's own error differs
    assert few["estimate"] == pytest.approx(many["estimate"], rel=0.02)
    assert _width(few) > 1.1 * _width(many)
    assert _width(few["share_of_dedup_tokens"]) > 1.1 * _width(many["share_of_dedup_tokens"])
    assert few["labels"]["documents"] == 45 and many["labels"]["documents"] == 15000
    # with near-certain agreement the sampling error of the stock is still there
    assert _width(many) > 0
    for t, g in GOOD.items():
        lo, hi = few["by_tier"][t]["ci90"]
        assert lo < g < hi and many["by_tier"][t]["ci90"][1] - many["by_tier"][t]["ci90"][0] < hi - lo
    assert "development labels" in many["note"] and "optimistic" in many["note"]
    assert many["unit"] == "tokens" and stocks["population"] in many["population"]
    assert _leaves_have_units(stocks) == []
    json.dumps(stocks, allow_nan=False)


def test_point_estimate_is_the_tier_shares_times_the_agreement(run: Path) -> None:
    judged, stocks, reps = _judged(run, _agreement(200))
    shares = stocks["supply"]["groups"]["*"]["tier_share"]
    expected = sum(shares[t]["estimate"] * GOOD[t] for t in GOOD)
    assert judged["share_of_dedup_tokens"]["estimate"] == pytest.approx(expected, rel=1e-3)
    point = reps.filter(pl.col("replicate") == 0, pl.col("quantity") == "judged_good_share")["value"][0]
    assert point == pytest.approx(expected, rel=1e-3)
    # a distinct quantity: the tier shares still sum to one in every replicate (the forecast's tiers stay right)
    sums = (reps.filter(pl.col("quantity").str.starts_with("share:"), pl.col("group") == "*")
            .group_by("replicate").agg(pl.col("value").sum()))
    np.testing.assert_allclose(sums["value"].to_numpy(), 1.0, rtol=1e-9)
    lo, hi = judged["ci90"]
    assert lo <= judged["estimate"] <= hi
    assert judged["estimate"] < stocks["total"]["tokens"]["dedup"]["ci90"][1]


@pytest.mark.parametrize("quality, why", [
    (None, "no quality.json"),
    ({"agreement": None}, "no human labels"),
    ({"agreement": _agreement(50), "applies": False, "reason": "the tiers use thresholds other than"},
     "thresholds other than"),
])
def test_without_labels_it_says_so_and_gives_no_number(tmp_path: Path, quality: dict | None, why: str) -> None:
    run = make_run(tmp_path / "run")
    if quality is not None:
        _quality(run, quality["agreement"], quality.get("applies", True), quality.get("reason"))
    _, stocks, reps = build_stock_tables(run, bootstrap=50)
    judged = stocks["supply"]["judged_good"]
    assert judged["available"] is False and why in judged["reason"]
    assert "estimate" not in judged and "ci90" not in judged
    assert "not available" in judged["sentence"]
    assert reps.filter(pl.col("quantity") == "judged_good_share").height == 0
    line = str(judged_good_line(stocks))
    assert "not available" in line and why.split()[0] in line


def test_no_tiers_is_not_a_judged_stock(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", quality=False)
    _quality(run, _agreement(50))
    _, stocks, _ = build_stock_tables(run, bootstrap=50)
    judged = stocks["supply"]["judged_good"]
    assert judged["available"] is False and "estimate" not in judged
    assert "quality-classify has not run" in judged["reason"]


def test_share_draws_pair_the_point_with_replicate_zero() -> None:
    draws = share_draws(_agreement(30), ["high", "low"], 4001, np.random.default_rng(0))
    assert draws[0].tolist() == [pytest.approx(0.9), pytest.approx(0.1)]
    assert np.all((draws > 0) & (draws < 1))
    # Jeffreys posterior: Beta(0.5 + 27, 0.5 + 3), mean 27.5 / 31
    assert draws[1:, 0].mean() == pytest.approx(27.5 / 31, abs=0.005) and draws[1:, 0].std() > 0.03


def test_report_shows_the_line_beside_the_tier_totals(run: Path) -> None:
    judged, stocks, _ = _judged(run, _agreement(120, labels="my-labels.jsonl"))
    line = str(judged_good_line(stocks))
    assert "Tokens people would judge good" in line and "360 development labels" in line
    assert "my-labels.jsonl" in line and "90%" in line and "optimistic" in line
    measured = str(measured_stock_table(stocks, "one file"))
    assert "judged good by people" in measured and "Variance" in measured and "estimable" in measured


def test_quality_classify_writes_quality_json_and_tally_stocks_alone_uses_it(prefect_harness,
                                                                             tmp_path: Path) -> None:
    from flows.quality_classify import quality_classify
    from flows.tally_stocks import tally_stocks

    run = make_run(tmp_path / "run")
    result = quality_classify(out=str(run), workers=1, runner="threads")
    written = json.loads((run / QUALITY_FILE).read_text())
    assert written["scorer"] == result["scorer"] and written["thresholds"] == result["thresholds"]
    assert written["agreement"] == result["agreement"] and written["agreement_applies"] is True
    assert written["agreement"]["tiers"]["high"]["documents"] > 0
    stocks = tally_stocks(out=str(run), bootstrap=100)["stocks"]  # a separate stage: reads quality.json
    judged = stocks["supply"]["judged_good"]
    assert judged["available"] and judged["scorer"] == written["scorer"]
    assert judged["labels"]["documents"] == sum(r["documents"] for r in written["agreement"]["tiers"].values())
    on_disk = json.loads((run / "stocks.json").read_text())["supply"]["judged_good"]
    assert on_disk["estimate"] == pytest.approx(judged["estimate"])

    # thresholds other than the calibration make other tiers: the agreement table no longer applies
    quality_classify(out=str(run), workers=1, runner="threads", high_percentile=50.0)
    assert json.loads((run / QUALITY_FILE).read_text())["agreement_applies"] is False
    again = tally_stocks(out=str(run), bootstrap=50)["stocks"]["supply"]["judged_good"]
    assert again["available"] is False and "high_percentile" in again["reason"]


def test_report_answer_states_the_web_scale_judged_line(run: Path, tmp_path: Path) -> None:
    from flows.tally_stocks import write_stock_outputs
    from forecasts.model import run_forecast
    from forecasts.report.answer import answer_section
    from forecasts.report.rundata import load_run

    _quality(run, _agreement(120))
    df, stocks, reps = build_stock_tables(run, bootstrap=200)
    out = tmp_path / "out"
    out.mkdir()
    write_stock_outputs(out, df, stocks, reps)
    fc = run_forecast("measured", stocks_path=out / "stocks.json", draws=4000, seed=0, with_sensitivity=False)
    assert "judged_good" in fc["tiers"] and fc["supply"]["judged_good"]["labelled_documents"] == 360
    # the judged-good supply of a draw is at most its all-tiers supply (shares of good tokens are below 1)
    everything = fc["tiers"]["low_or_better"]["supply"]["usable"]["median"]
    assert 0 < fc["tiers"]["judged_good"]["supply"]["usable"]["median"] < everything
    (out / "forecast.json").write_text(json.dumps(fc))
    (out / "manifest.json").write_text((run / "manifest.json").read_text())
    html = str(answer_section(load_run(out), None).body)
    assert "Tokens people would judge good" in html and "At web scale" in html
    assert "judged good by people" in html and "360 development labels" in html
    lead = html.split("</p>", 1)[0]
    assert "judged good" not in lead  # the lead sentence speaks of the tiers
