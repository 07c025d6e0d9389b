"""crawl-sample against a Common-Crawl-like bucket on 127.0.0.1: design, faults, hostile listings, WAT."""

from __future__ import annotations

import polars as pl
import pytest
from ccbucket import Fault, build_bucket, serve_bucket

from flows.rundir import RunDir


@pytest.fixture(scope="module")
def bucket(shared_data, tmp_path_factory):
    return build_bucket(shared_data, tmp_path_factory.mktemp("bucket"), files_per_listing=5, hostile=True)


def test_two_crawls_with_faults(bucket, prefect_harness, tmp_path):
    from flows.crawl_sample import crawl_sample

    with serve_bucket(bucket.root) as server:
        warc_files = bucket.placed[("CC-MAIN-2025-33", "warc")]
        server.faults[warc_files[1]] = Fault(cut_after=20_000, cuts=2)
        server.faults[warc_files[2]] = Fault(status=503, fail_first=2)
        result = crawl_sample(crawl=["CC-MAIN-2025-33"], format="warc", files=3, seed=4, base_url=server.url,
                              out=str(tmp_path / "run"), workers=2)
        wet = crawl_sample(crawl=["CC-MAIN-2023-50"], format="wet", census=True, base_url=server.url,
                           out=str(tmp_path / "wet"))
    design = result["sampling"]
    stratum = design["strata"]["CC-MAIN-2025-33"]
    assert stratum["population_files"] == 5 and stratum["sampled_files"] == 3
    assert {f["inclusion_prob"] for f in design["files"]} == {3 / 5}
    assert result["failures"] == []
    assert result["counts"]["listing_errors"] == {"absolute_path": 1, "absolute_url": 3, "backslash": 1,
                                                  "bad_char": 1, "control_char": 1, "dot_segment": 2,
                                                  "outside_crawl": 1}
    counts = result["counts"]
    assert counts["records_read"] == counts["documents"] + sum(counts["dropped"].values()) + sum(
        counts["errors"].values())
    docs = pl.read_parquet(RunDir(tmp_path / "run").shards("documents"))
    assert set(docs["crawl"]) == {"CC-MAIN-2025-33"}
    assert docs["doc_id"].n_unique() == docs.height  # no record read twice despite the cut connections
    assert set(docs["source_file"]) == {f["source_file"] for f in design["files"]}
    assert all(s.startswith(server.url) for s in docs["source_file"])
    assert wet["counts"]["documents"] == 5 and wet["sampling"]["strata"]["CC-MAIN-2023-50"]["format"] == "wet"


def test_sampling_is_reproducible_and_records_per_file(bucket, prefect_harness, tmp_path):
    from flows.crawl_sample import crawl_sample

    with serve_bucket(bucket.root) as server:
        runs = [crawl_sample(crawl=["CC-MAIN-2025-33"], files=2, seed=9, records_per_file=3, base_url=server.url,
                             out=str(tmp_path / f"r{i}")) for i in range(2)]
    assert runs[0]["sampling"] == runs[1]["sampling"]
    for entry in runs[0]["sampling"]["files"]:
        assert entry["records_read"] == min(3, entry["records_available"])
        assert entry["record_rate"] == pytest.approx(entry["records_read"] / entry["records_available"])


def test_wat_rows(bucket, prefect_harness, tmp_path):
    from flows.crawl_sample import crawl_sample

    with serve_bucket(bucket.root) as server:
        result = crawl_sample(crawl=["CC-MAIN-2020-45"], format="wat", census=True, base_url=server.url,
                              out=str(tmp_path / "w"))
    assert result["counts"]["documents"] == 0
    assert result["counts"]["wat"]["skipped_record_types"] == {"warcinfo": 5, "wat_non_response": 5}
    assert (tmp_path / "w" / "wat").is_dir()
