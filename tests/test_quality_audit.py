"""End to end on real data: quality-audit from WARC/WET to token stocks, forecast and report."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pyarrow.parquet as pq
import pytest
from warc_oracle import documents, warc_types

from filters.documents import DOCUMENT_SCHEMA
from flows.rundir import RunDir, read_json

REAL_INPUTS = ("warc_derived/trafilatura-eval-1033pages.warc.gz", "cc_warc", "cc_wet")


@pytest.fixture(scope="module")
def audit(shared_data, prefect_harness, tmp_path_factory):
    from flows.quality_audit import quality_audit

    out = tmp_path_factory.mktemp("audit")
    manifest = quality_audit(input=[str(shared_data / p) for p in REAL_INPUTS], out=str(out), draws=20_000,
                             workers=2)
    return out, manifest


def _table(out, name: str) -> pl.DataFrame:
    return pl.read_parquet(RunDir(out).shards(name))


def test_accounting_holds_exactly(audit, shared_data):
    out, manifest = audit
    counts = read_json(out / "manifest.json")["counts"]
    assert counts == manifest["counts"]
    files = [f for p in REAL_INPUTS for f in sorted((shared_data / p).glob("*.gz")) or [shared_data / p]]
    assert counts["records_read"] == sum(documents(warc_types(f)) for f in files)  # an independent count
    accounted = counts["documents"] + sum(counts["dropped"].values()) + sum(counts["errors"].values())
    assert counts["records_read"] == accounted
    assert counts["documents"] == _table(out, "documents").height
    assert counts["documents"] > 1000


def test_languages_found(audit):
    langs = _table(audit[0], "documents")["lang"].value_counts().to_dict(as_series=False)
    found = dict(zip(langs["lang"], langs["count"]))
    assert found["de"] > 600 and found["en"] > 150


def test_schemas_as_documented(audit):
    out = audit[0]
    for shard in RunDir(out).shards("documents"):
        assert pq.read_schema(shard).remove_metadata() == DOCUMENT_SCHEMA
    dedup = _table(out, "dedup")
    assert {"doc_id", "exact_cluster", "near_cluster", "is_duplicate"} <= set(dedup.columns)
    tiers = _table(out, "tiers")
    assert set(tiers["tier"].unique()) <= {"high", "medium", "low"}
    assert tiers.schema["quality_score"] == pl.Float64
    quality = _table(out, "quality")
    assert quality.height == dedup.height == tiers.height == _table(out, "documents").height
    assert quality["doc_id"].n_unique() == quality.height


def test_token_counts_sum_to_tallies(audit):
    out = audit[0]
    tokens = _table(out, "tokens")["tokens_cl100k_base"]
    stocks = json.loads((out / "stocks.json").read_text())
    assert stocks["total"]["tokens"]["raw"]["estimate"] == pytest.approx(float(tokens.sum()))
    tiers_sum = sum(t["tokens"]["raw"]["estimate"] for t in stocks["tiers"].values())
    assert tiers_sum == pytest.approx(float(tokens.sum()))
    assert stocks["total"]["tokens"]["dedup"]["estimate"] <= stocks["total"]["tokens"]["raw"]["estimate"]


def test_forecast_and_report(audit):
    out = audit[0]
    forecast = json.loads((out / "forecast.json").read_text())
    assert forecast["tiers"] and all("exhaustion_year" in t for t in forecast["tiers"].values())
    html = (out / "report.html").read_text()
    assert "Plotly.newPlot" in html and "<script src=" not in html
    assert html.count('class="plotly-graph-div"') + html.count("js-plotly-plot") + html.count("data-chart") >= 4


def test_rerun_reuses_finished_shards(audit, shared_data):
    from flows.crawl_sample import crawl_sample

    out = audit[0]
    result = crawl_sample(input=[str(shared_data / p) for p in REAL_INPUTS], out=str(out))
    assert all(shard.get("reused") for shard in result["shards"])
    assert result["counts"] == read_json(out / "manifest.json")["counts"]


def test_jsonl_and_corrupt_inputs(tmp_path, prefect_harness, shared_data):
    from flows.crawl_sample import crawl_sample

    docs = tmp_path / "in" / "docs.jsonl.gz"
    docs.parent.mkdir()
    rows = [{"id": f"d{i}", "text": f"Document number {i} talks about rivers and mountains.", "url": f"https://x.org/{i}"}
            for i in range(50)]
    docs.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    data = (shared_data / "warc_derived/trafilatura-eval-1033pages.warc.gz").read_bytes()
    (tmp_path / "in" / "cut.warc.gz").write_bytes(data[: len(data) // 4])
    (tmp_path / "in" / "junk.warc.gz").write_bytes(b"\x1f\x8b\x08garbage" * 10)
    result = crawl_sample(input=[str(tmp_path / "in")], out=str(tmp_path / "out"))
    counts = result["counts"]
    assert counts["errors"] == {"corrupt_gzip": 1, "truncated_record": 1}
    assert counts["records_read"] == counts["documents"] + sum(counts["dropped"].values()) + 2
    ids = {i.rsplit("@", 1)[0] for i in _table(tmp_path / "out", "documents")["doc_id"]}
    assert {"d0", "d49"} <= ids
