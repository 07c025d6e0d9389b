"""The run directory and the inputs in an S3 bucket on 127.0.0.1 (moto's server), the shards executed by a Dask
scheduler with two worker processes, each in its own empty working directory: every table, stocks.json and
report.html land in the bucket, no temporary object is left, and the stocks equal a local threads run's.
A bucket that refuses writes midway fails the run clearly; the re-run completes without duplicates."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks.object_store import stop_processes
from flows import storage
from flows.demo import write_demo_crawl
from flows.lock import LOCK_NAME
from tests.s3server import free_port, s3_server

pytestmark = pytest.mark.slow
s3fs = pytest.importorskip("s3fs")
distributed = pytest.importorskip("distributed")

AUDIT = {"draws": 2000, "high_percentile": 70.0, "low_percentile": 30.0, "seed": 3}
PER_SHARD = ("documents", "dedup", "quality", "tiers", "tokens")  # one part per input file
TOP = ("manifest.json", "stocks.json", "stocks.parquet", "forecast.json", "forecast.parquet", "report.html")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with s3_server(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-input")
    write_demo_crawl(folder, n_records=240, n_files=4, seed=3)
    (folder / next(p.name for p in folder.iterdir() if p.suffix == ".truth")).unlink()  # inputs only
    return folder


@contextlib.contextmanager
def dask_cluster(root: Path) -> Iterator[tuple[str, list[Path]]]:
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, each worker started in its own empty folder."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != storage.OPTIONS_ENV}  # options come from the flow's plugin
    procs, cwds = [], []
    logs = root / "logs"
    logs.mkdir(parents=True)
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"], cwd=root, env=env, stdout=(logs / "scheduler.log").open("wb"),
            stderr=subprocess.STDOUT))
        for i in range(2):
            cwd = root / f"worker-{i}"
            cwd.mkdir()
            cwds.append(cwd)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--name", f"worker-{i}", "--local-directory", str(root / f"scratch-{i}")],
                cwd=cwd, env=env, stdout=(logs / f"worker-{i}.log").open("wb"), stderr=subprocess.STDOUT))
        with distributed.Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=180)
        yield address, cwds
    finally:
        stop_processes(procs)


def _stocks_local(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "stocks.parquet")


def _stocks_s3(s3, url: str) -> pl.DataFrame:
    with s3.filesystem().open(url + "/stocks.parquet") as f:
        return pl.read_parquet(f)


def _assert_complete(s3, url: str, files: int) -> list[str]:
    keys = s3.keys(url)
    assert not [k for k in keys if k.rsplit("/", 1)[-1].startswith(".")], "temporary or lock objects left"
    for table in PER_SHARD:
        parts = [k for k in keys if k.startswith(f"{table}/") and k.endswith(".parquet")]
        assert len(parts) == files, (table, parts)
    for name in TOP:
        assert name in keys, name
    for table in ("documents", "quality", "tokens"):  # every shard with its marker, once
        parquet = {k.removesuffix(".parquet") for k in keys if k.startswith(f"{table}/") and k.endswith(".parquet")}
        markers = {k.removesuffix(".json") for k in keys if k.startswith(f"{table}/") and k.endswith(".json")}
        assert parquet == markers, table
    return keys


def test_audit_in_a_bucket_on_two_dask_workers_equals_a_local_run(s3, demo, prefect_harness, tmp_path, monkeypatch):
    from flows.quality_audit import quality_audit

    flow_cwd = tmp_path / "flow-cwd"
    flow_cwd.mkdir()
    monkeypatch.chdir(flow_cwd)  # the flow's own working directory gets nothing either (no literal s3:/ folder)

    local = tmp_path / "local"
    reference = quality_audit(input=[str(demo)], out=str(local), runner="threads", workers=2, **AUDIT)
    assert reference["failures"] == []
    bucket = s3.bucket("audit")
    inputs = s3.upload(demo, f"{bucket}/input")
    out = f"{bucket}/run"
    with dask_cluster(tmp_path / "dask") as (address, worker_dirs):
        manifest = quality_audit(input=[f"{bucket}/input/"], out=out, runner="dask", dask_address=address,
                                 storage_options=json.dumps(s3.options), **AUDIT)
        with distributed.Client(address, timeout=60) as client:
            ran = client.run(lambda: "flows.sources.shards" in sys.modules and "flows.tally_stocks" in sys.modules)
    assert manifest["failures"] == []
    assert any(ran.values()), "no shard task ran on a Dask worker"
    assert manifest["counts"]["files"] == len(inputs) == 4
    assert manifest["counts"]["documents"] == reference["counts"]["documents"] > 0
    _assert_complete(s3, out, files=len(inputs))
    assert_frame_equal(_stocks_s3(s3, out), _stocks_local(local))
    with s3.filesystem().open(out + "/stocks.json") as f:
        remote_stocks = json.load(f)
    local_stocks = json.loads((local / "stocks.json").read_text())
    assert remote_stocks["total"] == local_stocks["total"] and remote_stocks["tiers"] == local_stocks["tiers"]
    for cwd in worker_dirs:  # workers never wrote to their working directory (no literal s3:/ folder either)
        assert list(cwd.iterdir()) == [], list(cwd.iterdir())
    assert list(flow_cwd.iterdir()) == []


class RefusingS3(s3fs.S3FileSystem):
    """S3 that accepts `allowed` object writes, then answers every further write AccessDenied (a bucket policy
    switched on midway, a revoked credential): the fault under test."""

    protocol = ("refusing",)
    allowed: int | None = None

    def open(self, path, mode="rb", **kwargs):  # noqa: ANN001, ANN201 - fsspec's signature
        if "w" in mode and RefusingS3.allowed is not None:
            if RefusingS3.allowed <= 0:
                raise PermissionError(f"AccessDenied: writes to {path} are refused by the bucket policy")
            RefusingS3.allowed -= 1
        return super().open(path, mode, **kwargs)


def test_a_bucket_refusing_writes_midway_fails_clearly_and_the_rerun_completes(
        s3, demo, prefect_harness, tmp_path, monkeypatch):
    import fsspec

    from flows.quality_audit import quality_audit

    fsspec.register_implementation("refusing", RefusingS3, clobber=True)
    bucket = s3.bucket("faults")
    s3.upload(demo, f"{bucket}/input")
    out = "refusing://faults/run"
    options = json.dumps({"s3": s3.options, "refusing": s3.options})
    monkeypatch.setattr(RefusingS3, "allowed", 5)  # two shards (marker + shard) and one more write
    with pytest.raises(storage.StorageError, match="AccessDenied") as failed:
        quality_audit(input=[f"{bucket}/input/"], out=out, runner="threads", workers=2, storage_options=options,
                      **AUDIT)
    assert "refusing://faults/run/" in str(failed.value)  # which object could not be written
    keys = s3.keys("s3://faults/run")
    assert LOCK_NAME not in keys  # released although the run failed
    assert not [k for k in keys if k.endswith(".tmp")]
    assert len([k for k in keys if k.startswith("documents/") and k.endswith(".parquet")]) < 4

    monkeypatch.setattr(RefusingS3, "allowed", None)
    again = quality_audit(input=[f"{bucket}/input/"], out=out, runner="threads", workers=2, storage_options=options,
                          **AUDIT)
    assert again["failures"] == []
    keys = _assert_complete(s3, "s3://faults/run", files=4)
    assert len(keys) == len(set(keys))
    documents = 0
    for key in keys:
        if key.startswith("documents/") and key.endswith(".parquet"):
            with s3.filesystem().open(f"s3://faults/run/{key}") as f:
                documents += pl.read_parquet(f).height
    assert documents == again["counts"]["documents"]  # each document once: finished shards were reused, not added


def test_relative_paths_reach_dask_workers_in_other_directories(demo, prefect_harness, tmp_path, monkeypatch):
    """--input and --out relative to the flow's working directory: workers elsewhere read and write the same files
    (paths are made absolute before tasks are submitted), not files of their own working directory."""
    from flows.crawl_sample import crawl_sample

    flow_dir = tmp_path / "flow"
    flow_dir.mkdir()
    (flow_dir / "in").symlink_to(demo, target_is_directory=True)
    monkeypatch.chdir(flow_dir)
    with dask_cluster(tmp_path / "dask") as (address, worker_dirs):
        result = crawl_sample(input=["in"], out="out", runner="dask", dask_address=address)
    assert result["failures"] == [] and result["counts"]["file_errors"] == {}
    assert len(list((flow_dir / "out" / "documents").glob("part-*.parquet"))) == 4
    assert all(Path(p["source_file"]).is_absolute() for p in result["shards"])
    for cwd in worker_dirs:
        assert list(cwd.iterdir()) == []
