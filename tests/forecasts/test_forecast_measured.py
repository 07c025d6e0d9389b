"""The `measured` scenario: web stock × dedup survival × tier share, drawn jointly from the run's replicates.

Each test writes a run directory as tally-stocks does (stocks.json with a `supply` block and the long
stock_replicates.parquet) from synthetic factors, so the forecast is checked against known inputs.
"""

import json
import re

import numpy as np
import polars as pl
import pytest

from forecasts.model import run_forecast, simulate
from forecasts.scenario import load_scenario

SHARES = {"high": 0.21, "medium": 0.39, "low": 0.40}
LANGS = {"en": 0.45, "zh": 0.05}


def _beta(rng, mean, conc, n):
    return rng.beta(mean * conc, (1 - mean) * conc, n)


def write_run(path, *, crawls=("CC-MAIN-2024-22",), files=4, b=400, seed=1, survival=0.83, shares=SHARES,
              floor=3.1e12, new_content=0.3, degenerate=False, langs=LANGS, small_sample=False, census=False):
    """A run directory holding stocks.json (supply) and stock_replicates.parquet.

    `files` sets the replicate spread (concentration ∝ files: fewer files, wider); `degenerate` gives every
    replicate the point value (no spread: one file, or cells of zeros). Replicate 0 is the point estimate.
    """
    rng = np.random.default_rng(seed)
    conc = 60.0 * files
    rows: list[tuple[int, str, str, float]] = []
    groups = {"*": (1.0, survival, shares), **{g: (ls, survival - 0.05 * i, shares)
                                               for i, (g, ls) in enumerate(langs.items())}}

    def add(group, quantity, point, reps):
        reps = np.full(b, point) if degenerate else reps
        rows.extend([(0, group, quantity, float(point))] + [(i + 1, group, quantity, float(v))
                                                             for i, v in enumerate(reps)])

    for group, (ls, surv, sh) in groups.items():
        add(group, "lang_share", ls, np.ones(b) if group == "*" else _beta(rng, ls, conc, b))
        add(group, "dedup_survival", surv, _beta(rng, surv, conc, b))
        names = list(sh)
        draws = rng.dirichlet([sh[t] * conc for t in names], b)
        for j, t in enumerate(names):
            add(group, f"share:{t}", sh[t], draws[:, j])
    add("*", "floor_tokens", floor, floor * np.exp(rng.normal(0, 0.15 * 2 / np.sqrt(files), b)))
    for c in crawls[1:]:
        add("*", f"new_content:{c}", new_content, _beta(rng, max(new_content, 1e-3), conc, b))
    path.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema={"replicate": pl.Int32, "group": pl.String, "quantity": pl.String,
                               "value": pl.Float64}, orient="row").write_parquet(path / "stock_replicates.parquet")

    def block(point, unit="fraction"):
        return {"estimate": point, "ci90": None if degenerate else [point * 0.9, min(1.0, point * 1.1)], "unit": unit}

    supply = {
        "level": 0.9, "replicates_file": "stock_replicates.parquet", "replicates": b,
        "groups": {g: {"lang_share": block(ls), "documents": 1000 * files, "files": files,
                       "dedup_survival": {**block(surv), "scope": "crawl", "method": "synthetic"},
                       "tier_share": {t: block(v, "fraction of deduplicated tokens") for t, v in sh.items()}}
                   for g, (ls, surv, sh) in groups.items()},
        "common_crawl_floor": {"estimate": floor, "ci90": None, "unit": "tokens", "population": "synthetic crawls"},
        "new_content": {c: block(new_content) for c in crawls[1:]},
        "small_sample": small_sample, "warnings": ["synthetic warning"] if small_sample else [],
        "chain": "synthetic chain"}
    strata = {c: {"population_files": files if census else 90_000, "sampled_files": files} for c in crawls}
    stocks = {"unit": "tokens", "tokenizer": "cl100k_base", "population": "synthetic", "supply": supply,
              "design": {"strata": strata}, "cross_crawl": {"crawls": list(crawls)}}
    (path / "stocks.json").write_text(json.dumps(stocks))
    return path / "stocks.json"


def forecast(path, draws=20_000, **kw):
    return run_forecast("measured", stocks_path=path, draws=draws, seed=0, with_sensitivity=False, **kw)


@pytest.fixture(scope="module")
def one_crawl(tmp_path_factory):
    return forecast(write_run(tmp_path_factory.mktemp("one")))


def test_chain_multiplies_the_web_stock_by_the_measured_factors(one_crawl):
    assert list(one_crawl["tiers"]) == ["high", "medium_or_better", "low_or_better"]
    high = one_crawl["tiers"]["high"]
    web = high["stock"]["raw"]["2024"]["p50"]
    assert web == pytest.approx(510e12, rel=0.06)  # epoch2024's indexed web
    usable = high["stock"]["usable"]["2024"]["p50"]
    assert usable == pytest.approx(web * 0.83 * 0.21, rel=0.08)
    # the measured factors replace epoch2024's usable fraction: it is not drawn at all
    assert "usable_fraction" not in one_crawl["inputs"]["distributions"]
    chain = high["supply"]
    assert chain["dedup_survival"]["median"] == pytest.approx(0.83, abs=0.01)
    assert chain["tier_share"]["median"] == pytest.approx(0.21, abs=0.01)
    assert chain["level"] == "ci90" and chain["unit"] == "tokens"
    assert "web 5" in chain["text"] and "dedup survival 0.83" in chain["text"] and "Common Crawl floor 3.1T" in \
        chain["text"]
    assert one_crawl["supply"]["text"].startswith("high: web")


def test_joint_draws_keep_shares_consistent(tmp_path):
    path = write_run(tmp_path / "r", files=1)
    scn = load_scenario("measured", stocks_path=path, seed=0)
    sims, _ = simulate(scn, 20_000, 0, tiers=["high", "medium_or_better", "low_or_better"])
    share = {t: sims[t].chain["share"] for t in sims}
    assert np.all(share["low_or_better"] <= 1 + 1e-9)  # all tiers together never exceed the whole
    assert np.all(share["medium_or_better"] >= share["high"])  # a cumulative tier holds its parts in every draw
    assert np.all(share["low_or_better"] >= share["medium_or_better"])
    usable = {t: sims[t].log_usable for t in sims}
    assert np.all(usable["medium_or_better"] >= usable["high"] - 1e-5)
    assert np.all(usable["low_or_better"] >= usable["medium_or_better"] - 1e-5)
    # every factor of a draw comes from the same replicate: find each draw's replicate by its high share
    reps = pl.read_parquet(tmp_path / "r" / "stock_replicates.parquet").filter(
        pl.col("group") == "*", pl.col("replicate") > 0).sort("replicate")
    high = reps.filter(pl.col("quantity") == "share:high")["value"].to_numpy()
    medium = reps.filter(pl.col("quantity") == "share:medium")["value"].to_numpy()
    survival = reps.filter(pl.col("quantity") == "dedup_survival")["value"].to_numpy()
    order = np.argsort(high)
    j = order[np.searchsorted(high[order], share["high"])]
    assert np.allclose(high[j], share["high"])
    assert np.allclose(sims["high"].chain["dedup_survival"], survival[j])
    assert np.allclose(share["medium_or_better"], high[j] + medium[j])
    assert len(np.unique(j)) > 300  # and the draws visit the replicates


def test_one_crawl_sample_has_no_median_in_the_past(one_crawl):
    for tier, r in one_crawl["tiers"].items():
        p50 = r["exhaustion_year"]["p50"]
        assert p50 is None or p50 > 2024, tier
        assert "p_not_within_horizon" in r and r["answer"]["ci80"] is not None
    p50 = {t: r["exhaustion_year"]["p50"] for t, r in one_crawl["tiers"].items()}
    assert 2025 < p50["high"] < p50["medium_or_better"] < p50["low_or_better"]


def test_growth_falls_back_to_the_published_rate_with_one_crawl(one_crawl):
    growth = one_crawl["supply"]["growth"]
    assert growth["source"] == "published" and "one crawl" in growth["reason"]
    assert "published rate" in growth["text"] and "pages per year" in growth["text"]
    assert "stock.growth.pages" in one_crawl["inputs"]["distributions"]


def test_growth_is_measured_from_new_content(tmp_path):
    r = forecast(write_run(tmp_path / "r", crawls=("CC-MAIN-2023-23", "CC-MAIN-2024-22"), new_content=0.1))
    growth = r["supply"]["growth"]
    assert growth["source"] == "measured"
    span = growth["span_years"]
    assert span == pytest.approx(0.977, abs=0.003)  # Monday of ISO week 23 of 2023 to that of week 22 of 2024
    rate = (1 / 0.9) ** (1 / span) - 1  # 10% of the later crawl's text is new
    assert growth["measured_rate"]["estimate"] == pytest.approx(rate, rel=0.05)
    lo, hi = growth["measured_rate"]["ci90"]
    assert lo < growth["measured_rate"]["estimate"] < hi
    assert "stock.growth.pages" not in r["inputs"]["distributions"]
    raw = r["tiers"]["high"]["stock"]["raw"]
    assert raw["2034"]["p50"] / raw["2024"]["p50"] == pytest.approx((1 + rate) ** 10, rel=0.05)


def test_undated_crawls_fall_back_and_say_why(tmp_path):
    r = forecast(write_run(tmp_path / "r", crawls=("local-a", "local-b")))
    assert r["supply"]["growth"]["source"] == "published"
    assert "crawl_dates" in r["supply"]["growth"]["reason"]


def test_recrawl_leaves_the_forecast_unchanged(tmp_path):
    """A second crawl of the same pages: same factors, same floor (the union), no new content."""
    one = forecast(write_run(tmp_path / "one", crawls=("CC-MAIN-2024-10",)))
    two = forecast(write_run(tmp_path / "two", crawls=("CC-MAIN-2024-10", "CC-MAIN-2024-22"), new_content=0.0,
                             seed=2))  # the same pages, other bootstrap noise
    assert "re-capture" in two["supply"]["growth"]["reason"]
    for tier in one["tiers"]:
        a, b = one["tiers"][tier]["exhaustion_year"]["p50"], two["tiers"][tier]["exhaustion_year"]["p50"]
        assert abs(a - b) < 0.5, (tier, a, b)


def test_fewer_files_never_give_a_narrower_interval(tmp_path):
    def widths(**kw):
        r = forecast(write_run(tmp_path / str(len(list(tmp_path.iterdir()))), **kw))
        t = r["tiers"]["high"]
        usable = t["stock"]["usable"]["2024"]
        return usable["p97.5"] / usable["p2.5"], t["supply"]["tier_share"]["ci90"]

    many, share_many = widths(files=16)
    four, share_four = widths(files=4)
    one, share_one = widths(files=1)
    none, share_none = widths(files=1, degenerate=True)  # no replicate spread: unknown, so wide
    assert many <= four <= one
    assert none >= four
    assert share_none[1] - share_none[0] > share_four[1] - share_four[0]


def test_degenerate_replicates_are_widened_and_flagged(tmp_path):
    r = forecast(write_run(tmp_path / "r", degenerate=True))
    assert set(r["inputs"]["measured"]["widened"]["all"]) >= {"dedup_survival", "tier shares", "floor"}
    assert any("deliberately wide" in w for w in r["supply"]["warnings"])
    ci = r["tiers"]["high"]["supply"]["dedup_survival"]["ci90"]
    assert ci[1] - ci[0] > 0.1


def test_a_census_has_no_sampling_error_to_widen(tmp_path):
    r = forecast(write_run(tmp_path / "r", degenerate=True, census=True))
    assert r["supply"]["census"] is True and r["inputs"]["measured"]["widened"] == {}
    ci = r["tiers"]["high"]["supply"]["tier_share"]["ci90"]
    assert ci[0] == pytest.approx(0.21) and ci[1] == pytest.approx(0.21)


def test_floor_is_respected(tmp_path):
    # a floor far above web × survival: the supply is lifted to it in every draw
    r = forecast(write_run(tmp_path / "r", floor=2e15))
    for tier, t in r["tiers"].items():
        chain = t["supply"]
        assert chain["floor"]["p_binds"] > 0.9, tier
        usable = t["stock"]["usable"]["2024"]["p50"]
        assert usable == pytest.approx(chain["floor"]["median"] * chain["tier_share"]["median"], rel=0.05), tier
    scn = load_scenario("measured", stocks_path=tmp_path / "r" / "stocks.json", seed=0)
    sims, _ = simulate(scn, 5_000, 0, tiers=["low_or_better"])
    c = sims["low_or_better"].chain
    assert np.all(sims["low_or_better"].log_usable >= np.log10(c["floor"] * c["share"]) - 1e-4)


def test_already_exhausted_is_worded_not_dated(tmp_path):
    yaml_path = tmp_path / "tiny.yaml"
    yaml_path.write_text("name: tiny_web\nextends: measured\nstock:\n  replace: true\n  base_year: 2024\n"
                         "  factors: {tokens: {dist: lognormal, low: 1.0e12, high: 3.0e12, ci: 0.9}}\n"
                         "  divisors: {}\n  growth: {form: exponential, factors: {}}\n")
    r = run_forecast(yaml_path, stocks_path=write_run(tmp_path / "r", floor=1e9), draws=20_000,
                     with_sensitivity=False)
    high = r["tiers"]["high"]
    assert high["exhaustion_year"]["p50"] is None
    assert high["already_exhausted"]["by"] == 2024 and high["already_exhausted"]["probability"] > 0.9
    assert high["answer"]["text"].startswith("Already exhausted by 2024")
    assert "P(already exhausted by 2024) = " in high["answer"]["text"]
    for method in r["exhaustion"]["high"].values():
        assert all(v is None or v > 2024 for k, v in method.items() if k != "p_not_within_horizon")


def test_per_language_forecasts(tmp_path):
    r = forecast(write_run(tmp_path / "r"))
    assert set(r["languages"]) == {"en", "zh"}
    zh = r["languages"]["zh"]["tiers"]
    assert list(zh) == ["high", "medium_or_better", "low_or_better"]
    assert zh["high"]["supply"]["lang_share"]["median"] == pytest.approx(0.05, rel=0.05)
    assert "zh share 0.05" in r["languages"]["zh"]["chain"]["high"]
    assert {"exhaustion_year", "p_not_within_horizon", "already_exhausted", "answer"} <= set(zh["high"])
    # Chinese holds 5% of the web's text, English 45%: high-quality Chinese runs out earlier (or was already out)
    en_p = r["languages"]["en"]["tiers"]["high"]["p_exhausted_by"]["2030"]
    assert zh["high"]["p_exhausted_by"]["2030"] > en_p
    assert r["languages"]["zh"]["files"] == 4


def test_small_sample_is_flagged(tmp_path):
    r = forecast(write_run(tmp_path / "r", small_sample=True))
    assert r["supply"]["small_sample"] is True
    assert "synthetic warning" in r["supply"]["warnings"]
    assert any(w.startswith("small sample") for w in r["supply"]["warnings"])


def test_tornado_covers_measured_factors(tmp_path):
    r = run_forecast("measured", stocks_path=write_run(tmp_path / "r"), draws=5_000, seed=0)
    rows = {t: {row["input"]: row for row in v} for t, v in r["sensitivity"]["tiers"].items()}
    assert set(rows) == {"high", "medium_or_better", "low_or_better"}  # languages are left out
    row = rows["high"]["measured.all.share.high"]
    assert row["p50_at_low"] < row["p50_at_high"]  # a larger share lasts longer
    assert "measured.all.share.high" not in rows["low_or_better"]
    assert "measured.all.dedup_survival" in rows["low_or_better"]


def test_bad_supply_inputs_are_refused_in_plain_words(tmp_path):
    path = write_run(tmp_path / "r")
    stocks = json.loads(path.read_text())
    del stocks["supply"]
    path.write_text(json.dumps(stocks))
    with pytest.raises(ValueError, match="no 'supply' block"):
        load_scenario("measured", stocks_path=path)
    path = write_run(tmp_path / "s")
    (tmp_path / "s" / "stock_replicates.parquet").unlink()
    with pytest.raises(ValueError, match="is missing"):
        load_scenario("measured", stocks_path=path)
    path = write_run(tmp_path / "t")
    yaml_path = tmp_path / "old.yaml"
    yaml_path.write_text("name: old\nextends: measured\nmeasured:\n  basis: absolute\n")
    with pytest.raises(ValueError, match="a crawl is never the web"):
        load_scenario(yaml_path, stocks_path=path)


def test_report_states_the_chain_and_the_answers(tmp_path):
    from forecasts.report.page import Charts
    from forecasts.report.rundata import RunData
    from forecasts.report.sections import forecast_section

    yaml_path = tmp_path / "tiny.yaml"
    yaml_path.write_text("name: tiny_web\nextends: measured\nstock:\n  replace: true\n  base_year: 2024\n"
                         "  factors: {tokens: {dist: lognormal, low: 2.0e13, high: 6.0e13, ci: 0.9}}\n"
                         "  growth: {form: exponential, factors: {}}\n")
    result = run_forecast(yaml_path, stocks_path=write_run(tmp_path / "r", small_sample=True), draws=5_000)
    html = forecast_section(RunData(root=tmp_path, manifest={}, forecast=result), Charts()).body
    assert "Supply chain" in html and "Common Crawl floor" in html
    assert re.search(r"0\.830? \[", html), "the measured dedup survival (0.83) with its interval"
    assert "published rate" in html and "synthetic warning" in html
    assert "already exhausted by 2024" in html  # a tiny web: the zh high tier (at least) is out before 2024
    assert "80% interval" in html  # the per-language answers are on the report's first screen (tests/test_report.py)


def test_forecast_parquet_holds_usable_stock_and_languages(tmp_path):
    import pyarrow.parquet as pq

    from flows.forecast import write_forecast

    r = forecast(write_run(tmp_path / "r"), draws=2_000)
    write_forecast(r, str(tmp_path / "out"))
    rows = pq.read_table(tmp_path / "out" / "forecast.parquet").to_pylist()
    usable = [x for x in rows if x["quantity"] == "stock_usable" and x["tier"] == "high" and x["year"] == 2024]
    assert {x["stat"] for x in usable} == {"p2.5", "p5", "p10", "p50", "p90", "p95", "p97.5"}
    zh = [x for x in rows if x["tier"] == "zh:high" and x["quantity"] == "exhaustion_year"]
    assert {x["stat"] for x in zh} == {"p10", "p50", "p90"}
    assert json.loads((tmp_path / "out" / "forecast.json").read_text())["supply"]["level"] == "ci90"


def test_replicates_without_tokens_of_a_group_are_zero_supply(tmp_path):
    path = write_run(tmp_path / "r")
    reps_path = tmp_path / "r" / "stock_replicates.parquet"
    reps = pl.read_parquet(reps_path)
    empty = (pl.col("group") == "zh") & pl.col("replicate").is_between(1, 40) & (pl.col("quantity") != "lang_share")
    reps.with_columns(value=pl.when(empty).then(float("nan")).otherwise(pl.col("value"))).write_parquet(reps_path)
    r = forecast(path, draws=5_000)
    assert any(w.startswith("zh: 10% of the replicates hold no tokens") for w in r["supply"]["warnings"])
    zh = r["languages"]["zh"]["tiers"]["high"]
    assert zh["supply"]["tier_share"]["ci90"][0] == 0.0  # ~10% of draws: no zh high text at all
    assert zh["already_exhausted"]["probability"] >= 0.09
