"""The `measured` scenario: stocks.json tiers, sampling uncertainty, basis choice, Common Crawl growth."""

import json
import math

import pytest

from forecasts.model import run_forecast

LOCAL_DESIGN = {"strata": {"local": {"format": "mixed", "population_files": 3, "sampled_files": 3}},
                "files_sampled": 3, "estimator": "horvitz-thompson; bootstrap over files, B=1000"}
CRAWL_DESIGN = {"strata": {"CC-MAIN-2024-22": {"format": "warc", "population_files": 90000, "sampled_files": 4}},
                "files_sampled": 4, "estimator": "horvitz-thompson; bootstrap over files, B=1000"}


def _tier(raw: float, dedup: float, rel: float, frac_raw: float, frac_dedup: float) -> dict:
    return {"tokens": {"raw": {"estimate": raw, "ci90": [raw * (1 - rel), raw * (1 + rel)], "unit": "tokens"},
                       "dedup": {"estimate": dedup, "ci90": [dedup * (1 - rel), dedup * (1 + rel)], "unit": "tokens"}},
            "fraction_of_tokens": {"raw": frac_raw, "dedup": frac_dedup, "unit": "fraction"},
            "documents": {"raw": {"estimate": 100.0}, "dedup": {"estimate": 90.0}},
            "sample": {"documents": 100, "files": 3}}


def write_stocks(path, design=LOCAL_DESIGN, scale=1.0, high_rel=0.2):
    stocks = {"unit": "tokens", "tokenizer": "cl100k_base", "population": "test sample", "design": design,
              "tiers": {"high": _tier(1.2e6 * scale, 1.0e6 * scale, high_rel, 0.12, 0.125),
                        "medium": _tier(4.0e6 * scale, 3.0e6 * scale, 0.15, 0.40, 0.375),
                        "low": _tier(4.8e6 * scale, 4.0e6 * scale, 0.15, 0.48, 0.50)},
              "total": {"tokens": {"raw": {"estimate": 1e7 * scale, "ci90": [9e6 * scale, 1.1e7 * scale]},
                                   "dedup": {"estimate": 8e6 * scale, "ci90": [7e6 * scale, 9e6 * scale]}}},
              "reference_sizes": {"common_crawl_epoch2024": {"tokens": 1.3e14, "unit": "tokens"}}}
    path.write_text(json.dumps(stocks))
    return path


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    path = write_stocks(tmp_path_factory.mktemp("m") / "stocks.json")
    return run_forecast("measured", stocks_path=path, draws=20_000, seed=0)


def test_small_sample_defaults_to_fraction_of_web(measured):
    assert measured["inputs"]["basis"] == "fraction_of_web"
    assert measured["inputs"]["measured"]["cumulative"] is True
    assert list(measured["tiers"]) == ["high", "medium", "low"]
    eff = measured["tiers"]["high"]["stock"]["effective"]["2024"]["p50"]
    raw = measured["tiers"]["high"]["stock"]["raw"]["2024"]["p50"]
    assert raw == pytest.approx(510e12, rel=0.06)  # epoch2024's indexed web
    # 12.5% of the deduplicated tokens, times the repetition multiplier LN95(2, 5) (median sqrt(10))
    assert eff == pytest.approx(raw * 0.125 * math.sqrt(10), rel=0.1)


def test_one_date_per_tier_and_high_quality_runs_out_first(measured):
    p50 = {t: v["exhaustion_year"]["p50"] for t, v in measured["tiers"].items()}
    assert p50["high"] < p50["medium"] < p50["low"]
    assert 2025 < p50["high"] < 2031
    assert set(measured["exhaustion"]) == {"high", "medium", "low"}


def test_stock_growth_is_fitted_on_common_crawl(measured):
    fit = measured["inputs"]["fits"]["stock.growth.rate"]
    assert fit["kind"] == "crawl_growth" and fit["form"] == "linear"
    assert 0.06 < fit["rate_per_year"] < 0.12
    eff = measured["tiers"]["low"]["stock"]["effective"]
    assert eff["2034"]["p50"] / eff["2024"]["p50"] == pytest.approx(1 + 10 * fit["rate_per_year"], rel=0.03)


def test_sampling_uncertainty_is_carried_into_the_forecast(tmp_path):
    def band(rel):
        r = run_forecast("measured", stocks_path=write_stocks(tmp_path / f"s{rel}.json", high_rel=rel),
                         draws=20_000, with_sensitivity=False)
        q = r["tiers"]["high"]["stock"]["effective"]["2024"]
        return q["p97.5"] / q["p2.5"], r["inputs"]["distributions"]["measured.fraction_of_tokens.high"]

    narrow, d_narrow = band(0.05)
    wide, d_wide = band(0.6)
    assert wide > narrow * 1.3
    assert d_wide["high"] / d_wide["low"] > d_narrow["high"] / d_narrow["low"]


def test_crawl_scale_sample_uses_absolute_totals(tmp_path):
    path = write_stocks(tmp_path / "crawl.json", design=CRAWL_DESIGN, scale=1e7)
    r = run_forecast("measured", stocks_path=path, draws=20_000, with_sensitivity=False)
    assert r["inputs"]["basis"] == "absolute"
    eff = r["tiers"]["medium"]["stock"]["effective"]["2024"]["p50"]
    raw = r["tiers"]["medium"]["stock"]["raw"]["2024"]["p50"]
    assert raw == pytest.approx((1.2e6 + 4.0e6) * 1e7, rel=0.05)  # medium = medium or better
    assert eff == pytest.approx((1.0e6 + 3.0e6) * 1e7 * math.sqrt(10), rel=0.1)


def test_basis_can_be_forced(tmp_path):
    path = write_stocks(tmp_path / "stocks.json")
    yaml_path = tmp_path / "abs.yaml"
    yaml_path.write_text("name: measured_absolute\nextends: measured\nmeasured:\n  basis: absolute\n"
                         "  cumulative: false\n  stock_growth: {form: linear, rate: 0.05}\n")
    r = run_forecast(yaml_path, stocks_path=path, draws=5_000, with_sensitivity=False)
    assert r["inputs"]["basis"] == "absolute" and r["inputs"]["measured"]["cumulative"] is False
    # a million-token sample is far smaller than any recent training set: exhausted before the grid starts
    assert r["tiers"]["high"]["exhaustion_year"]["p50"] < 2024
    assert r["tiers"]["high"]["p_exhausted_by"]["2024"] == 1.0


def test_tornado_covers_measured_fractions(measured):
    rows = {t: {r["input"]: r for r in v} for t, v in measured["sensitivity"]["tiers"].items()}
    # cumulative tiers: the high-tier share enters every tier, the low-tier share only the last
    assert "measured.fraction_of_tokens.high" in rows["low"]
    assert "measured.fraction_of_tokens.low" not in rows["high"]
    r = rows["high"]["measured.fraction_of_tokens.high"]
    assert r["p50_at_low"] < r["p50_at_high"]  # a larger usable share lasts longer


def test_stocks_json_as_tally_stocks_writes_it(tmp_path):
    """Share intervals from stocks.json, null intervals, an unscored tier and an empty tier."""
    stocks = json.loads(write_stocks(tmp_path / "base.json").read_text())
    tiers = stocks["tiers"]
    tiers["high"]["fraction_of_tokens"]["ci90"] = {"raw": [0.11, 0.13], "dedup": [0.10, 0.15]}
    tiers["medium"]["tokens"]["dedup"]["ci90"] = None
    tiers["unscored"] = _tier(5e5, 4e5, 0.3, 0.05, 0.05)
    tiers["empty"] = _tier(0.0, 0.0, 0.0, 0.0, 0.0)
    path = tmp_path / "stocks.json"
    path.write_text(json.dumps(stocks))
    r = run_forecast("measured", stocks_path=path, draws=5_000, with_sensitivity=False)
    measured = r["inputs"]["measured"]
    assert measured["order"] == ["high", "medium", "low", "unscored"] and measured["skipped"] == ["empty"]
    dists = r["inputs"]["distributions"]
    assert dists["measured.fraction_of_tokens.high"]["low"] == pytest.approx(0.125 * math.sqrt(0.10 / 0.15))
    assert dists["measured.fraction_of_tokens.medium"]["dist"] == "constant"  # no interval: no uncertainty
    # the unscored tier is not pooled with the quality tiers
    assert "measured.fraction_of_tokens.unscored" not in r["inputs"]["structure"]["low"]["usable_fraction_inputs"]
    assert r["inputs"]["structure"]["unscored"]["usable_fraction_inputs"] == ["measured.fraction_of_tokens.unscored"]
