"""forecast.json / forecast.parquet schema, atomic writes, and the Plotly figure builders."""

import json

import plotly.graph_objects as go
import pyarrow.parquet as pq
import pytest

from flows.forecast import write_forecast
from forecasts.charts import TIER_COLORS, exhaustion_chart, fan_chart, scenario_comparison, tornado
from forecasts.io import SCHEMA
from forecasts.model import compare_scenarios, run_forecast

Q_KEYS = ["p2.5", "p5", "p10", "p50", "p90", "p95", "p97.5"]


@pytest.fixture(scope="module")
def result():
    return run_forecast("epoch2024", draws=20_000, seed=0)


@pytest.fixture(scope="module")
def short_horizon(tmp_path_factory):
    path = tmp_path_factory.mktemp("s") / "short.yaml"
    path.write_text("name: short\nextends: epoch2024\nyears: {start: 2024, end: 2030}\n")  # tiers inherited
    return run_forecast(path, draws=20_000, seed=0, with_sensitivity=False)


def test_forecast_json_structure(result):
    assert set(result) >= {"scenario", "tiers", "inputs", "exhaustion", "sensitivity", "meta"}
    assert result["scenario"] == "epoch2024"
    tier = result["tiers"]["public_text"]
    assert set(tier) == {"stock", "demand", "exhaustion_year", "p_exhausted_by", "p_not_within_horizon",
                         "already_exhausted", "answer"}
    assert tier["already_exhausted"]["by"] == 2024 and tier["already_exhausted"]["probability"] < 0.01
    assert 0 <= tier["p_not_within_horizon"] < 0.05
    answer = tier["answer"]
    assert answer["median"] == tier["exhaustion_year"]["p50"]
    assert answer["ci80"] == [tier["exhaustion_year"]["p10"], tier["exhaustion_year"]["p90"]]
    assert answer["text"].startswith(f"median {answer['median']:.1f} (ci80: ")
    assert set(tier["stock"]) == {"raw", "effective"}
    years = [str(y) for y in range(2024, 2051)]
    for series in (tier["stock"]["raw"], tier["stock"]["effective"], tier["demand"]):
        assert list(series) == years
        for q in series.values():
            assert list(q) == Q_KEYS
            assert all(isinstance(v, float) for v in q.values())
            assert [q[k] for k in Q_KEYS] == sorted(q[k] for k in Q_KEYS)
    assert set(tier["exhaustion_year"]) == {"p10", "p50", "p90"}
    assert list(tier["p_exhausted_by"]) == years
    assert result["inputs"]["units"]["stock"] == {"public_text": "tokens"}
    assert "stock.factors.pages" in result["inputs"]["distributions"]


def test_beyond_horizon_is_null(short_horizon, tmp_path):
    ex = short_horizon["tiers"]["public_text"]["exhaustion_year"]
    assert ex["p50"] is not None and ex["p90"] is None  # the 90th percentile (~2032) lies past 2030
    write_forecast(short_horizon, str(tmp_path))
    written = json.loads((tmp_path / "forecast.json").read_text())
    assert written["tiers"]["public_text"]["exhaustion_year"]["p90"] is None
    rows = pq.read_table(tmp_path / "forecast.parquet").to_pylist()
    p90 = [r for r in rows if r["quantity"] == "exhaustion_year" and r["method"] == "mixture" and r["stat"] == "p90"]
    assert len(p90) == 1 and p90[0]["value"] is None


def test_write_forecast_is_atomic_and_round_trips(result, tmp_path):
    (tmp_path / "forecast.json").write_text("stale")
    write_forecast(result, str(tmp_path))
    write_forecast(result, str(tmp_path))  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.json", "forecast.parquet"]
    assert json.loads((tmp_path / "forecast.json").read_text()) == json.loads(json.dumps(result))
    table = pq.read_table(tmp_path / "forecast.parquet")
    assert table.schema.equals(SCHEMA)
    rows = table.to_pylist()
    n_years = 27
    assert len(rows) == 3 * n_years * 7 + n_years + 3 * 5  # 3 bands x 7 quantiles, P(by year), 3 methods x 5
    med = next(r for r in rows if r["quantity"] == "stock_raw" and r["year"] == 2024 and r["stat"] == "p50")
    assert med["value"] == result["tiers"]["public_text"]["stock"]["raw"]["2024"]["p50"]
    assert med["unit"] == "tokens" and med["scenario"] == "epoch2024"


def test_fan_chart(result):
    fig = fan_chart(result)
    assert isinstance(fig, go.Figure)
    assert fig.layout.yaxis.type == "log"
    assert "tokens" in fig.layout.yaxis.title.text and "year" in fig.layout.xaxis.title.text
    medians = [t for t in fig.data if t.name and "median" in t.name]
    assert any(t.line.color == TIER_COLORS["public_text"] for t in medians)


def test_fan_chart_one_panel_per_tier():
    r = run_forecast("epoch2022", draws=5_000, with_sensitivity=False)
    fig = fan_chart(r)
    titles = [a.text for a in fig.layout.annotations]
    assert any("images (images)" in t for t in titles) and any("(words)" in t for t in titles)
    assert fig.layout.yaxis3.type == "log"


def test_exhaustion_chart(result):
    fig = exhaustion_chart(result)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert len(bars) == 1 and bars[0].marker.color == TIER_COLORS["public_text"]
    p = result["tiers"]["public_text"]["p_exhausted_by"]
    assert sum(bars[0].y) == pytest.approx(p["2050"] - p["2024"], abs=1e-9)


def test_scenario_comparison_and_tornado(result):
    cmp = compare_scenarios("epoch2024", variants={"1x": {}, "5x": {"overtrain": 5.0}}, draws=5_000)
    fig = scenario_comparison(cmp)
    assert isinstance(fig, go.Figure) and list(fig.data[0].y) == ["1x", "5x"]
    tor = tornado(result)
    assert len(tor.data) == 2
    labels = list(tor.data[0].y)
    assert labels[-1] == "stock: pages"  # widest swing drawn on top
    assert tor.data[0].base == pytest.approx(result["sensitivity"]["baseline_p50"]["public_text"])
