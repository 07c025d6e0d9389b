"""Trend fits: training-set sizes of notable models, Common Crawl's growth."""

import csv

import polars as pl
import pytest

from forecasts.trends import CC_CRAWL_SIZES_CSV, NOTABLE_MODELS_CSV, fit_crawl_growth, fit_dataset_trend

EPOCH_CSV = "forecast/epoch-notable_ai_models_2025-02-24.csv"
CC_CSV = "forecast/cc-crawlsize-cumulative.csv"


def test_trend_on_epoch_notable_models_matches_the_paper(shared_data):
    fit = fit_dataset_trend(shared_data / EPOCH_CSV, domain="Language", start="2010-01-01", end="2024-01-01")
    assert fit.n_models > 100
    assert fit.slope == pytest.approx(0.38, abs=0.02)  # paper: 0.38 OOM/yr
    lo, hi = fit.ci95
    assert lo == pytest.approx(0.27, abs=0.03) and hi == pytest.approx(0.48, abs=0.03)
    assert lo < fit.slope < hi


def test_trend_fit_is_seeded_and_filters_by_window(shared_data):
    a = fit_dataset_trend(shared_data / EPOCH_CSV, seed=1)
    b = fit_dataset_trend(shared_data / EPOCH_CSV, seed=1)
    assert a.ci95 == b.ci95
    narrow = fit_dataset_trend(shared_data / EPOCH_CSV, start="2018-01-01", end="2024-01-01")
    assert narrow.n_models < a.n_models


def test_packaged_notable_models_table_is_cited_and_fits():
    with NOTABLE_MODELS_CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 40
    assert all(r["Source"].strip() for r in rows)
    assert {"Llama 3 70B", "GPT-3 175B", "Chinchilla 70B", "DeepSeek-V3"} <= {r["Model"] for r in rows}
    fit = fit_dataset_trend(start="2010-01-01", end="2024-06-01")
    assert 0.25 < fit.slope < 0.45 and fit.n_models >= 35


def test_trend_fit_rejects_a_table_without_the_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,size\nx,1\n")
    with pytest.raises(ValueError, match="missing columns"):
        fit_dataset_trend(bad)


def test_packaged_crawl_table_matches_common_crawl_statistics(shared_data):
    full = pl.read_csv(shared_data / CC_CSV)
    ours = pl.read_csv(CC_CRAWL_SIZES_CSV, comment_prefix="#")
    joined = ours.join(full, on="crawl")
    assert joined.height == ours.height >= 20
    for a, b in (("unique_urls", "url estim."), ("unique_digests", "digest estim."), ("pages", "page")):
        rel = (joined[a] / joined[b] - 1).abs().max()
        assert rel < 5e-4, (a, rel)


@pytest.mark.parametrize("series", ["urls", "digests", "pages"])
def test_crawl_growth_fit_on_packaged_table_agrees_with_full_series(shared_data, series):
    ours = fit_crawl_growth(series=series)
    full = fit_crawl_growth(shared_data / CC_CSV, series=series)
    assert full.n_points > ours.n_points
    assert ours.rate == pytest.approx(full.rate, rel=0.06)
    assert 0.05 < ours.rate < 0.15  # cumulative Common Crawl grows ~8-12% of its 2024 size a year


def test_crawl_growth_exponential_form_is_faster_than_linear():
    lin = fit_crawl_growth(series="urls", form="linear")
    exp = fit_crawl_growth(series="urls", form="exponential")
    assert exp.rate > lin.rate  # the cumulative series is near-linear, so its log-slope overstates growth later
    with pytest.raises(ValueError):
        fit_crawl_growth(series="bytes")
