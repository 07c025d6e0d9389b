"""Monte Carlo model: paper reproduction, determinism, Monte Carlo error, sensitivity, overrides.

Imports come from the submodules: under pytest's default import mode the `tests/forecasts` folder
can shadow the `forecasts` package's __init__ (see docs/forecast.md, "Tests").
"""

import numpy as np
import pytest

from forecasts.model import compare_scenarios, first_crossing, run_forecast, simulate
from forecasts.scenario import load_scenario

Q_KEYS = {"p2.5", "p5", "p10", "p50", "p90", "p95", "p97.5"}


@pytest.fixture(scope="module")
def epoch2024():
    return run_forecast("epoch2024", draws=100_000, seed=0)


@pytest.fixture(scope="module")
def epoch2024_5x():
    return run_forecast("epoch2024", overtrain=5, draws=100_000, seed=0, with_sensitivity=False)


@pytest.fixture(scope="module")
def epoch2022():
    return run_forecast("epoch2022", draws=100_000, seed=0, with_sensitivity=False)


def test_epoch2024_raw_and_effective_stock(epoch2024):
    t = epoch2024["tiers"]["public_text"]
    raw, eff = t["stock"]["raw"]["2024"], t["stock"]["effective"]["2024"]
    assert raw["p50"] == pytest.approx(510e12, rel=0.05)  # 510T [130T, 2100T]
    assert raw["p2.5"] == pytest.approx(130e12, rel=0.08)
    assert raw["p97.5"] == pytest.approx(2100e12, rel=0.08)
    assert 250e12 < eff["p50"] < 350e12  # "on the order of 300T"
    assert 60e12 < eff["p5"] < 130e12 and 0.8e15 < eff["p95"] < 1.4e15  # 90% CI ~ [100T, 1000T]


def test_epoch2024_exhaustion_year(epoch2024):
    ex = epoch2024["tiers"]["public_text"]["exhaustion_year"]
    assert 2028.0 <= ex["p50"] < 2029.0  # median full use in 2028
    assert 2026.0 <= ex["p10"] < 2027.5  # 80% interval ~ 2026-2032
    assert 2031.0 <= ex["p90"] < 2033.0
    p = epoch2024["tiers"]["public_text"]["p_exhausted_by"]
    assert p["2028"] < 0.5 < p["2029"]
    assert all(a <= b for a, b in zip(list(p.values())[:-1], list(p.values())[1:], strict=True))


def test_epoch2024_demand_at_exhaustion_matches_headline(epoch2024):
    t = epoch2024["tiers"]["public_text"]
    d = t["demand"][str(int(t["exhaustion_year"]["p50"]) + 1)]["p50"]
    assert 2e14 < d < 8e14  # paper: datasets of ~4e14 tokens at the median year


def test_5x_overtraining_is_about_a_year_earlier(epoch2024, epoch2024_5x):
    base = epoch2024["tiers"]["public_text"]["exhaustion_year"]["p50"]
    over = epoch2024_5x["tiers"]["public_text"]["exhaustion_year"]["p50"]
    assert 2027.0 <= over < 2028.0
    assert 0.7 < base - over < 1.5
    assert epoch2024_5x["inputs"]["structure"]["public_text"]["demand"]["overtrain"] == 5.0


# Villalobos et al. 2022, Table: median [5%; 95%] of the exhaustion year by stock and projection, as printed
# (the paper prints most years to 0.1 and a few to whole years; the precision is part of the claim)
EPOCH2022_TABLE = {
    ("low_quality_language", "historical"): ("2028.4", "2032.4", "2039.2"),
    ("low_quality_language", "compute"): ("2034.6", "2040.5", "2048.9"),
    ("high_quality_language", "historical"): ("2023.5", "2024.5", "2025.7"),
    ("high_quality_language", "compute"): ("2023.2", "2024.1", "2025.3"),
    ("images", "historical"): ("2037", "2046", "2062.8"),
    ("images", "compute"): ("2032", "2038.8", "2049.8"),
}


def rounds_to(value: float, printed: str) -> bool:
    """Does `value`, rounded to the precision `printed` is written with, give `printed`?"""
    return abs(value - float(printed)) < 0.5 * 10.0 ** -len(printed.partition(".")[2])


def test_rounds_to_uses_the_printed_precision():
    assert rounds_to(2024.54, "2024.5") and not rounds_to(2024.56, "2024.5")
    assert rounds_to(2037.4, "2037") and not rounds_to(2037.6, "2037")


@pytest.mark.parametrize(("tier", "method"), list(EPOCH2022_TABLE))
def test_epoch2022_reproduces_the_table_within_its_rounding(epoch2022, tier, method):
    got = epoch2022["exhaustion"][tier][method]
    for key, printed in zip(("p5", "p50", "p95"), EPOCH2022_TABLE[(tier, method)], strict=True):
        assert rounds_to(got[key], printed), f"{tier} {method} {key}: {got[key]} does not round to {printed}"
    assert got["p_not_within_horizon"] < 0.05  # the 95th percentile is a year, not "never"


def test_epoch2022_keeps_the_papers_own_inputs(epoch2022):
    """Calibration may shape what the paper does not publish, not what it states."""
    d = epoch2022["inputs"]["distributions"]
    assert d["demand.historical.base"]["median"] == 2e12  # largest language dataset in 2022, words
    growth = d["demand.historical.growth_oom"]
    assert growth["median"] == pytest.approx(0.33, abs=0.005)  # ~0.33 OOM/yr
    doubling_months = [12 * np.log10(2) / growth[k] for k in ("high", "low")]
    assert 7 <= doubling_months[0] < doubling_months[1] <= 20  # "doubling every 7-20 months"
    economy = d["tiers.high_quality_language.stock.growth.economy"]
    assert (economy["low"], economy["high"]) == (1.02, 1.06)  # grows with the economy, 2-6%/yr
    assert d["tiers.low_quality_language.stock.growth.new_text"]["median"] == pytest.approx(1.07, abs=0.001)
    hq = d["tiers.high_quality_language.stock.factors.words"]
    lq = d["tiers.low_quality_language.stock.factors.words"]
    assert 1e12 <= hq["low"] < hq["median"] < 1.5e13 and hq["high"] < 1.5e13  # ~1e12-1e13 words
    assert 7e13 <= lq["low"] < lq["median"] < lq["high"] <= 7e16  # within the paper's 7e13-7e16 words
    assert hq["dist"] == lq["dist"] == "mixture" and len(lq["components"]) == 2


def test_epoch2022_units_and_ordering(epoch2022):
    units = epoch2022["inputs"]["units"]["stock"]
    assert units == {"high_quality_language": "words", "low_quality_language": "words", "images": "images"}
    p50 = {t: v["exhaustion_year"]["p50"] for t, v in epoch2022["tiers"].items()}
    assert 2024 <= p50["high_quality_language"] < 2026  # "likely before 2026"
    assert 2030 <= p50["low_quality_language"] <= 2050
    assert 2030 <= p50["images"] <= 2060


def test_seeded_runs_are_identical_and_seeds_differ():
    a = run_forecast("epoch2024", draws=5_000, seed=7, with_sensitivity=False)
    b = run_forecast("epoch2024", draws=5_000, seed=7, with_sensitivity=False)
    c = run_forecast("epoch2024", draws=5_000, seed=8, with_sensitivity=False)
    for r in (a, b, c):
        r["meta"].pop("elapsed_s")
    assert a == b
    assert a["tiers"] != c["tiers"]


def test_more_draws_narrow_the_monte_carlo_error():
    scn = load_scenario("epoch2024")

    def spread(draws: int) -> float:  # seed-to-seed spread of the median exhaustion year
        return float(np.std([np.median(simulate(scn, draws, seed)[0]["public_text"].exhaustion["mixture"])
                             for seed in range(20)]))

    small, large = spread(1_000), spread(32_000)  # 1/sqrt(n): expected ratio ~5.7
    assert large < small / 2.5
    assert large < 0.03  # years


def test_100k_draws_run():  # how fast: benchmarks, not tests (a timing assertion fails under load)
    r = run_forecast("epoch2024", draws=100_000, seed=0, with_sensitivity=False)
    assert r["meta"]["draws"] == 100_000 and r["meta"]["elapsed_s"] >= 0


def test_sensitivity_ranks_inputs(epoch2024):
    sens = epoch2024["sensitivity"]
    rows = sens["tiers"]["public_text"]
    names = [r["input"] for r in rows]
    assert names[0] == "stock.factors.pages"  # the widest input (75B-1T pages) moves the median most
    assert {"demand.historical.growth_oom", "usable_fraction", "repetition.multiplier", "demand.method"} <= set(names)
    swings = [r["swing_years"] for r in rows]
    assert swings == sorted(swings, reverse=True) and swings[0] > 2.0
    pages = rows[0]
    assert pages["p50_at_low"] < sens["baseline_p50"]["public_text"] < pages["p50_at_high"]
    growth = next(r for r in rows if r["input"] == "demand.historical.growth_oom")
    assert growth["p50_at_high"] < growth["p50_at_low"]  # faster demand growth -> earlier exhaustion


def test_epochs_override_uses_muennighoff():
    one = run_forecast("epoch2024", epochs=1, draws=20_000, with_sensitivity=False)
    four = run_forecast("epoch2024", epochs=4, draws=20_000, with_sensitivity=False)
    assert one["inputs"]["structure"]["public_text"]["repetition"]["model"] == "muennighoff"
    e1 = one["tiers"]["public_text"]["stock"]["effective"]["2024"]["p50"]
    e4 = four["tiers"]["public_text"]["stock"]["effective"]["2024"]["p50"]
    assert e4 / e1 == pytest.approx(1 + 15.4 * (1 - np.exp(-3 / 15.4)), rel=0.03)
    p50 = [r["tiers"]["public_text"]["exhaustion_year"]["p50"] for r in (one, four)]
    assert p50[1] > p50[0]


def test_compare_scenarios_side_by_side():
    cmp = run_forecast("epoch2024", draws=10_000, with_sensitivity=False, with_comparison=True)["comparison"]
    assert cmp == compare_scenarios("epoch2024", draws=10_000)
    assert cmp["scenario"] == "epoch2024"
    p50 = {k: v["tiers"]["public_text"]["exhaustion_year"]["p50"] for k, v in cmp["variants"].items()}
    assert p50["100x overtraining"] < p50["5x overtraining"] < p50["Chinchilla-optimal"]
    assert p50["100x overtraining"] < 2026.5  # paper: "as early as 2025"
    assert p50["1 epoch (no repetition)"] < p50["Chinchilla-optimal"]


def test_first_crossing_interpolates_and_handles_edges():
    years = np.arange(2024.0, 2030.0)
    stock = np.zeros((6, 4), dtype=np.float32)
    demand = np.stack([years - 2026.5, years - 2023.0, years - 2040.0, np.array([-1, 1, -1, -1, -1, -1.0])],
                      axis=1).astype(np.float32)
    t = first_crossing(demand, stock, years)
    assert t[0] == pytest.approx(2026.5)
    assert t[1] == pytest.approx(2023.0)  # already exhausted: extrapolated back
    assert np.isinf(t[2])  # never on the grid
    assert t[3] == pytest.approx(2024.5)  # first passage, even though the gap closes again


def test_user_scenario_with_trend_fit_and_own_table(tmp_path):
    table = tmp_path / "models.csv"
    rows = ["Model,Domain,Publication date,Training dataset size (datapoints)"]
    rows += [f"m{y},Language,{y}-06-01,{10 ** (9 + 0.5 * (y - 2012)):.3e}" for y in range(2012, 2024)]
    table.write_text("\n".join(rows) + "\n")
    yaml_path = tmp_path / "mine.yaml"
    yaml_path.write_text(
        "name: mine\nextends: epoch2024\n"
        "demand:\n  historical:\n    growth_oom:\n"
        "      fit: {table: models.csv, start: '2010-01-01', end: '2024-01-01'}\n"
        "tiers:\n  public_text: {}\n")
    r = run_forecast(yaml_path, draws=5_000, with_sensitivity=False)
    fit = r["inputs"]["fits"]["demand.historical.growth_oom"]
    assert fit["slope_oom_per_year"] == pytest.approx(0.5, abs=1e-3)
    assert r["scenario"] == "mine"
    # faster demand growth than the paper's 0.38 OOM/yr -> earlier exhaustion
    assert r["tiers"]["public_text"]["exhaustion_year"]["p50"] < 2028.8


def test_bad_inputs_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario"):
        load_scenario("nope")
    with pytest.raises(ValueError, match="needs a stocks.json"):
        load_scenario("measured")
    with pytest.raises(ValueError):
        run_forecast("epoch2024", overtrain=0, draws=1_000)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: epoch2024\ntiers:\n  public_text: {stok: 1}\n")
    with pytest.raises(ValueError, match="unknown keys"):
        load_scenario(bad)
