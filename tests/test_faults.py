"""Faults while writing: a worker SIGKILLed mid-shard, a full disk, a server that stalls.

Each must end with the failure reported (the shard listed under `failures`, the CLI exiting 1), no partial
output visible (no `part-*.parquet` without its marker, nothing half-written under a final name), and a re-run
that completes the run with outputs identical to an uninterrupted one.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pyarrow.parquet as pq
import pytest
from ccbucket import Fault, build_bucket, serve_bucket
from polars.testing import assert_frame_equal

import flows.crawl_sample as crawl_module
import flows.rundir as rundir
from flows.demo import write_demo_crawl
from flows.rundir import read_json
from flows.sources import shards

VOLATILE = ("seconds", "reused")  # marker fields that differ between two identical runs


@pytest.fixture
def no_task_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a shard at once (the task's own retries wait 2 + 10 s and would only repeat the fault)."""
    monkeypatch.setattr(crawl_module, "read_file", crawl_module.read_file.with_options(retries=0))


@pytest.fixture(scope="module")
def demo_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults-input")
    write_demo_crawl(folder, 1500, 3, 7)
    return folder


@pytest.fixture(scope="module")
def clean_run(demo_input: Path, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run every recovered run must equal."""
    out = tmp_path_factory.mktemp("faults-clean")
    result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
    assert result["failures"] == []
    return out


def assert_no_partial_output(out: Path) -> None:
    """Every visible shard has its marker, is complete (readable, row count as the marker says), and no
    temporary file of a live writer is left."""
    for table in ("documents", "wat"):
        folder = out / table
        for shard in folder.glob("part-*.parquet") if folder.is_dir() else []:
            marker = shard.with_suffix(".json")
            assert marker.exists(), f"{shard.name} is visible without its marker"
            assert pq.read_metadata(shard).num_rows == read_json(marker)["documents"]


def assert_same_outputs(out: Path, reference: Path) -> None:
    names = sorted(p.name for p in (reference / "documents").glob("part-*"))
    assert sorted(p.name for p in (out / "documents").glob("part-*")) == names
    for name in names:
        got_path, want_path = out / "documents" / name, reference / "documents" / name
        if name.endswith(".parquet"):
            assert_frame_equal(pl.read_parquet(got_path), pl.read_parquet(want_path))
        else:
            got, want = read_json(got_path), read_json(want_path)
            for key in VOLATILE:
                got.pop(key, None)
                want.pop(key, None)
            assert got == want, name
    assert not list((out / "documents").glob(".*.tmp")), "stale temporary files were swept"


def _prefect_env() -> dict[str, str]:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"PREFECT_API_URL": str(settings.api.url), "PREFECT_HOME": str(settings.home)}


def _worker_writing(pid: int) -> psutil.Process | None:
    """The child process that has a shard's temporary file open."""
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if any(".part-" in f.path and f.path.endswith(".tmp") for f in child.open_files()):
                return child
        except psutil.Error:
            continue
    return None


def test_worker_killed_mid_shard(demo_input: Path, clean_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    log = (tmp_path / "cli.log").open("w")  # a file, not a pipe: an unread pipe could block the run
    cmd = [sys.executable, "-m", "flows.cli", "run", "crawl-sample", "--input", str(demo_input), "--out", str(out),
           "--runner", "processes", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_prefect_env(), cwd=tmp_path)
    victim = None
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and victim is None and time.monotonic() < deadline:
            victim = _worker_writing(proc.pid)
            time.sleep(0.1)
        assert victim is not None, "no worker was seen writing a shard"
        victim.send_signal(signal.SIGKILL)  # its shard's temporary file is open: it is mid-shard
        rc = proc.wait(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = (tmp_path / "cli.log").read_text()
    assert rc == 1, output[-3000:]
    assert "failed" in output.splitlines()[-1] and "re-run" in output.splitlines()[-1]
    assert_no_partial_output(out)
    assert list((out / "documents").glob(".*.tmp")), "the killed worker's temporary file is left (hidden)"
    result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)  # the re-run
    assert result["failures"] == []
    assert_same_outputs(out, clean_run)


def test_disk_full_simulated(demo_input: Path, clean_run: Path, tmp_path: Path, no_task_retries: None,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC from the Parquet writer in the middle of one shard (works without root)."""
    real = rundir.pq.ParquetWriter

    class FullDisk(real):  # type: ignore[misc, valid-type]
        def write_table(self, table, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
            if "00001" in str(self.where):
                super().write_table(table.slice(0, 10), *args, **kwargs)  # some bytes reach the disk first
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write_table(table, *args, **kwargs)

    monkeypatch.setattr(rundir.pq, "ParquetWriter", FullDisk)
    out = tmp_path / "out"
    result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
    assert [Path(f["source_file"]).name for f in result["failures"]] == ["DEMO-CRAWL-7-00001.warc.gz"]
    assert "No space left" in result["failures"][0]["error"]
    assert_no_partial_output(out)
    assert not list((out / "documents").glob("*00001*")) and not list((out / "documents").glob(".*.tmp"))
    monkeypatch.setattr(rundir.pq, "ParquetWriter", real)
    result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
    assert result["failures"] == [] and sum(bool(s.get("reused")) for s in result["shards"]) == 2
    assert_same_outputs(out, clean_run)


def test_disk_full_on_a_tiny_tmpfs(demo_input: Path, clean_run: Path, tmp_path: Path, no_task_retries: None) -> None:
    """A real 300 KiB file system, room for about one shard (needs mount rights: root with CAP_SYS_ADMIN;
    skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = mnt / "out"
        result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
        assert result["failures"], "300 KiB cannot hold the shards"
        assert all("No space left" in f["error"] for f in result["failures"])
        assert_no_partial_output(out)
        assert not list((out / "documents").glob(".*.tmp"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
        assert result["failures"] == []
        assert_same_outputs(out, clean_run)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_crash_between_marker_and_shard_leaves_nothing_visible(demo_input: Path, tmp_path: Path,
                                                               no_task_retries: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker is written before the shard is renamed into place: a failure in between leaves no shard."""
    real = rundir.write_json

    def failing(path: Path, obj: object) -> None:
        if Path(path).name.startswith("part-") and "00002" in Path(path).name:
            raise OSError(errno.EIO, "Input/output error")
        real(path, obj)

    monkeypatch.setattr(rundir, "write_json", failing)
    out = tmp_path / "out"
    result = crawl_module.crawl_sample(input=[str(demo_input)], out=str(out), workers=2)
    assert [Path(f["source_file"]).name for f in result["failures"]] == ["DEMO-CRAWL-7-00002.warc.gz"]
    assert not list((out / "documents").glob("*00002*")) and not list((out / "documents").glob(".*.tmp"))
    assert_no_partial_output(out)


def test_stalled_server(shared_data: Path, prefect_harness: None, tmp_path: Path, no_task_retries: None,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts and then says nothing: the read times out (after the stream's own retries),
    the shard fails and is not recorded as finished, and a re-run reads it."""
    bucket = build_bucket(shared_data, tmp_path / "bucket", files_per_listing=2)
    crawl = "CC-MAIN-2025-33"
    monkeypatch.setattr(shards, "open_resumable", functools.partial(shards.open_resumable, timeout=0.5, retries=1,
                                                                    backoff=0.01))
    kwargs = {"crawl": [crawl], "format": "warc", "census": True, "workers": 2}
    with serve_bucket(bucket.root) as server:
        clean = crawl_module.crawl_sample(**kwargs, base_url=server.url, out=str(tmp_path / "clean"))
        assert clean["failures"] == []
        stalled = bucket.placed[(crawl, "warc")][1]
        server.faults[stalled] = Fault(stall=2.0, stalls=10)
        out = tmp_path / "out"
        result = crawl_module.crawl_sample(**kwargs, base_url=server.url, out=str(out))
        assert [f["source_file"] for f in result["failures"]] == [server.url + stalled]
        assert "timeout" in result["failures"][0]["error"]
        assert not list((out / "documents").glob(f"*{Path(stalled).name.split('.')[0]}*"))
        assert_no_partial_output(out)
        server.faults.clear()
        result = crawl_module.crawl_sample(**kwargs, base_url=server.url, out=str(out))
        assert result["failures"] == []
    docs = pl.read_parquet(sorted((out / "documents").glob("part-*.parquet")))
    want = pl.read_parquet(sorted((tmp_path / "clean" / "documents").glob("part-*.parquet")))
    assert_frame_equal(docs.sort("doc_id"), want.sort("doc_id"))
    assert result["counts"] == clean["counts"]
