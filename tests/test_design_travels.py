"""The sampling design travels with the data (issue 16): crawl-sample writes manifest.json itself, tally-stocks
uses it (ratio estimator on the local files' bytes) and refuses a sampled crawl whose design is missing."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from test_stocks import make_run

WORDS = ["the", "stock", "of", "text", "on", "web", "grows", "as", "people", "write", "pages", "about", "many",
         "things", "every", "day"]


def _inputs(folder: Path, n_files: int = 6) -> Path:
    """JSONL files of very different sizes (heavy-tailed, as local collections are)."""
    folder.mkdir()
    rng = __import__("numpy").random.default_rng(0)
    for f in range(n_files):
        rows = [{"text": " ".join(rng.choice(WORDS, size=int(rng.integers(20, 200)))), "url": f"https://s{f}.org/{i}"}
                for i in range(5 * (f + 1) ** 2)]
        (folder / f"part-{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_crawl_sample_writes_the_design_and_tally_uses_it(prefect_harness, tmp_path: Path) -> None:
    from flows.crawl_sample import crawl_sample
    from flows.tally_stocks import tally_stocks

    inputs = _inputs(tmp_path / "in")
    out = tmp_path / "run"
    result = crawl_sample(input=[str(inputs)], out=str(out), files=3, seed=1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sampling"] == result["sampling"] and manifest["counts"] == result["counts"]
    assert manifest["flow"] == "crawl-sample"
    # part-5 holds ~40% of the bytes, more than the sampling interval (1/3): it is read with certainty
    strata = manifest["sampling"]["strata"]
    assert strata["local:take-all"]["population_files"] == strata["local:take-all"]["sampled_files"] == 1
    assert strata["local"]["population_files"] == 5 and strata["local"]["sampled_files"] == 2
    assert sum(s["population_bytes"] for s in strata.values()) == sum(p.stat().st_size for p in inputs.iterdir())
    for entry in manifest["sampling"]["files"]:
        assert entry["bytes"] == Path(entry["source_file"]).stat().st_size
        certain = entry["source_file"].endswith("part-5.jsonl")
        assert entry["stratum"] == ("local:take-all" if certain else "local")
        assert entry["inclusion_prob"] == (1.0 if certain else 0.4)

    stocks = tally_stocks(out=str(out), bootstrap=200)["stocks"]
    assert stocks["design"]["strata"]["local"]["estimator"] == "ratio"
    assert stocks["design"]["strata"]["local:take-all"]["variance"] == "none: census"
    assert set(stocks["crawls"]) == {"local"}  # the take-all stratum is part of the same (local) crawl
    assert stocks["design"]["census_of_files_read"] is False
    assert "census" not in stocks["population"]
    total = stocks["total"]["tokens"]["raw"]
    sampled = pl.read_parquet(out / "tokens" / "*.parquet")["tokens_cl100k_base"].sum()
    assert total["estimate"] > sampled  # scaled up to the 6 files, not taken as a census of the 3 read
    assert total["ci90"][0] < total["estimate"] < total["ci90"][1]
    replicates = pl.read_parquet(out / "stock_replicates.parquet")
    assert replicates["replicate"].max() == 200 and set(replicates["group"]) >= {"*"}
    written = json.loads((out / "stocks.json").read_text())
    assert written["supply"]["replicates_file"] == "stock_replicates.parquet"

    # crawl-sample again into the same run keeps the other stages' manifest entries and renews the design
    manifest["quality"] = {"scorer": "kept"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    crawl_sample(input=[str(inputs)], out=str(out), files=2, seed=1)
    again = json.loads((out / "manifest.json").read_text())
    assert again["quality"] == {"scorer": "kept"} and again["sampling"]["strata"]["local"]["sampled_files"] == 2


def test_tally_stocks_refuses_a_sampled_crawl_without_its_design(prefect_harness, tmp_path: Path) -> None:
    from flows.tally_stocks import tally_stocks

    run = make_run(tmp_path / "run", sampling=False)  # s3:// source files, no `sampling` in manifest.json
    with pytest.raises(ValueError, match="no sampling design") as error:
        tally_stocks(out=str(run), bootstrap=50)
    assert "crawl-sample" in str(error.value) and "s3://commoncrawl/" in str(error.value)
    assert not (run / "stocks.json").exists()
