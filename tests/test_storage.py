"""The run directory's storage layer and its lock: committed writes, permissions, sweeps, one writer at a time
(locally with two real processes; on a real S3 API on 127.0.0.1 with conditional writes and stale heartbeats)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from flows import lock as lockmod
from flows import storage
from flows.lock import LOCK_NAME, RunDirLocked, run_lock
from flows.rundir import RunDir, ShardWriter, load_finished, prune
from tests.s3server import s3_server

REPO = Path(__file__).resolve().parents[1]
HOLDER = """
import sys, time, pathlib
from flows.lock import run_lock
root, signal_file, release_file = sys.argv[1:4]
with run_lock(root, wait=len(sys.argv) > 4):
    pathlib.Path(signal_file).write_text("held")
    while not pathlib.Path(release_file).exists():
        time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    pytest.importorskip("s3fs")
    with s3_server(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        storage.configure({"s3": server.options})
        yield server


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"holder exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _holder(root: str, tmp_path: Path, tag: str, *extra: str) -> tuple[subprocess.Popen, Path, Path]:
    held, release = tmp_path / f"{tag}.held", tmp_path / f"{tag}.release"
    env = os.environ | {"PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, root, str(held), str(release), *extra], env=env,
                            cwd=tmp_path)
    return proc, held, release


# ------------------------------------------------------------------------------------------ committed writes


def test_writes_appear_whole_with_the_usual_permissions(tmp_path):
    run = RunDir(tmp_path / "run")
    storage.write_json(run.path("forecast.json"), {"a": 1})
    storage.write_parquet(run.path("t", "part-x.parquet"), pa.table({"x": [1, 2]}))
    mode = 0o666 & ~storage._UMASK
    for path in (tmp_path / "run" / "forecast.json", tmp_path / "run" / "t" / "part-x.parquet"):
        assert path.stat().st_mode & 0o777 == mode, path
    assert json.loads((tmp_path / "run" / "forecast.json").read_text()) == {"a": 1}
    assert not list((tmp_path / "run").rglob(".*.tmp"))


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    target = str(tmp_path / "out.bin")
    with pytest.raises(RuntimeError, match="boom"), storage.commit_write(target) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_shard_marker_precedes_the_shard_and_prune_removes_both(tmp_path):
    shard = str(tmp_path / "documents" / "part-a.parquet")
    writer = ShardWriter(shard, pa.schema([("x", pa.int64())]))
    writer.write(pa.table({"x": [1, 2, 3]}))
    assert not os.path.exists(shard)  # nothing visible before the commit
    writer.commit(marker={"params_digest": "d", "documents": 3})
    assert load_finished(shard, "d") == {"params_digest": "d", "documents": 3}
    assert load_finished(shard, "other") is None
    assert prune(tmp_path / "documents", {"part-b.parquet"}) == ["part-a.json", "part-a.parquet"]
    assert os.listdir(tmp_path / "documents") == []


def test_sweep_removes_temporaries_of_dead_writers_only(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "quality"
    folder.mkdir()
    stale = folder / f".part-a.parquet.{storage.HOST}.{dead.pid}.abcd1234.tmp"
    live = folder / f".part-b.parquet.{storage.HOST}.{os.getpid()}.abcd1234.tmp"
    other = folder / f".part-c.parquet.otherhost.{os.getpid()}.abcd1234.tmp"
    keep = folder / "part-d.parquet"
    for path in (stale, live, other, keep):
        path.write_bytes(b"x")
    assert storage.sweep_temporaries(str(folder), any_host=False) == [str(stale)]
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, other.name, keep.name])
    RunDir(tmp_path).sweep()  # the lock holder's sweep: other hosts' leftovers go too, live ones stay
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, keep.name])


def test_paths_become_absolute_and_urls_stay():
    assert storage.absolute("runs/x") == os.path.join(os.getcwd(), "runs/x")
    assert storage.absolute("file:///tmp/x") == "/tmp/x"
    assert storage.absolute("s3://bucket/run/") == "s3://bucket/run"
    assert storage.join("s3://bucket/run", "documents", "part-a.parquet") == "s3://bucket/run/documents/part-a.parquet"
    assert RunDir("s3://bucket/run").table("tokens") == "s3://bucket/run/tokens"


def test_storage_options_are_checked_and_keyed_by_protocol(monkeypatch):
    monkeypatch.setattr(storage.fsspec.config, "conf", {})
    monkeypatch.setenv(storage.OPTIONS_ENV, "{}")  # restored (removed) after the test
    with pytest.raises(ValueError, match="not JSON"):
        storage.configure("{endpoint", "s3://b/run")
    with pytest.raises(ValueError, match="JSON object"):
        storage.configure("[1]", "s3://b/run")
    assert storage.configure('{"endpoint_url": "http://127.0.0.1:9"}', "s3://b/run") == {
        "s3": {"endpoint_url": "http://127.0.0.1:9"}}
    assert storage.fsspec.config.conf["s3"] == {"endpoint_url": "http://127.0.0.1:9"}
    assert json.loads(os.environ[storage.OPTIONS_ENV])["s3"] == {"endpoint_url": "http://127.0.0.1:9"}


# ------------------------------------------------------------------------------------- the lock, locally


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    root = str(tmp_path / "run")
    proc, held, release = _holder(root, tmp_path, "first")
    try:
        _wait_for(held, proc)
        with pytest.raises(RunDirLocked) as refused, run_lock(root):
            pass
        message = str(refused.value)
        assert f"pid {proc.pid}" in message and f"host {storage.HOST}" in message and "flow run" in message
        assert "--wait" in message and "another --out" in message
    finally:
        release.write_text("go")
        assert proc.wait(timeout=60) == 0
    with run_lock(root) as holder:  # free again once the first writer is done
        assert holder["pid"] == os.getpid()


def test_a_waiting_writer_starts_after_the_holder_finishes(tmp_path):
    root = str(tmp_path / "run")
    first, first_held, first_release = _holder(root, tmp_path, "first")
    _wait_for(first_held, first)
    second, second_held, second_release = _holder(root, tmp_path, "second", "--wait")
    try:
        time.sleep(1.0)  # give the waiter every chance to (wrongly) get in
        assert not second_held.exists() and second.poll() is None, "the waiter got in while the lock was held"
        first_release.write_text("go")
        assert first.wait(timeout=60) == 0
        _wait_for(second_held, second)
    finally:
        first_release.write_text("go")
        second_release.write_text("go")
        assert second.wait(timeout=60) == 0


def test_the_lock_of_a_killed_writer_is_taken_over(tmp_path, caplog):
    root = str(tmp_path / "run")
    proc, held, _ = _holder(root, tmp_path, "victim")
    _wait_for(held, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with caplog.at_level("WARNING"), run_lock(root) as holder:
        assert holder["pid"] == os.getpid()
        assert json.loads((tmp_path / "run" / LOCK_NAME).read_text())["token"] == holder["token"]
    assert f"pid {proc.pid}" in caplog.text and "no longer runs" in caplog.text


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    root = str(tmp_path / "run")
    with run_lock(root) as outer, run_lock(root) as inner:
        assert outer is inner


# ------------------------------------------------------------------------------- the lock on object storage


@pytest.mark.slow  # a moto S3 server
def test_object_store_lock_refuses_and_names_the_holder(s3, tmp_path):
    root = s3.bucket("lock-refuse") + "/run"
    proc, held, release = _holder(root, tmp_path, "first")
    try:
        _wait_for(held, proc)
        with pytest.raises(RunDirLocked, match=f"pid {proc.pid}"), run_lock(root):
            pass
    finally:
        release.write_text("go")
        assert proc.wait(timeout=60) == 0
    assert LOCK_NAME not in s3.keys(root)  # released: the object is gone
    with run_lock(root):
        assert s3.keys(root) == [LOCK_NAME]


@pytest.mark.slow  # a moto S3 server
def test_object_store_lock_is_created_by_exactly_one_of_many(s3):
    root = s3.bucket("lock-race") + "/run"
    fs, path = storage.filesystem(storage.join(root, LOCK_NAME))
    contenders = [lockmod._Lock(root) for _ in range(8)]
    won: list[bool] = [False] * len(contenders)
    start = threading.Barrier(len(contenders))

    def contend(i: int) -> None:
        start.wait()
        won[i] = contenders[i]._create(fs, path)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(contenders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(won) == 1  # a conditional PUT (If-None-Match: *): one creator, the others see it exists


@pytest.mark.slow  # a moto S3 server
def test_object_store_lock_without_heartbeat_is_taken_over(s3, caplog):
    root = s3.bucket("lock-stale") + "/run"
    old = (datetime.now(timezone.utc) - timedelta(seconds=lockmod.STALE_AFTER_S + 60)).isoformat()
    stale = {"host": "gone-host", "pid": 1, "flow_run_id": "f-1", "started_at": old, "heartbeat_at": old,
             "token": "t-old"}
    fs, path = storage.filesystem(storage.join(root, LOCK_NAME))
    fs.pipe_file(path, json.dumps(stale).encode())
    with caplog.at_level("WARNING"), run_lock(root) as holder:
        fs.invalidate_cache()
        assert json.loads(fs.cat_file(path))["token"] == holder["token"]
    assert "gone-host" in caplog.text and "stale" in caplog.text
    fresh = stale | {"heartbeat_at": datetime.now(timezone.utc).isoformat()}
    fs.pipe_file(path, json.dumps(fresh).encode())
    with pytest.raises(RunDirLocked, match="gone-host"), run_lock(root):
        pass


@pytest.mark.slow  # a moto S3 server
def test_a_stale_lock_is_replaced_only_if_unchanged(s3):
    """The takeover is a conditional replace on the stale lock's ETag: a second taker holding the same stale
    view loses instead of overwriting the first taker's fresh lock."""
    root = s3.bucket("lock-ifmatch") + "/run"
    fs, path = storage.filesystem(storage.join(root, LOCK_NAME))
    fs.pipe_file(path, b'{"host": "gone", "pid": 1, "heartbeat_at": "2000-01-01T00:00:00+00:00"}')
    _, etag = lockmod._read_remote(fs, path)
    first, second = lockmod._Lock(root), lockmod._Lock(root)
    assert first._replace(fs, path, etag)
    assert not second._replace(fs, path, etag)
    fs.invalidate_cache()
    assert json.loads(fs.cat_file(path))["token"] == first.holder["token"]


@pytest.mark.slow  # a moto S3 server
def test_object_store_writes_commit_and_leave_no_temporaries(s3):
    root = s3.bucket("commit") + "/run"
    run = RunDir(root)
    writer = ShardWriter(run.path("documents", "part-a.parquet"), pa.schema([("x", pa.int64())]))
    writer.write(pa.table({"x": [1, 2]}))
    assert not run.shards("documents")  # nothing under its name before the commit
    writer.commit(marker={"params_digest": "d"})
    assert s3.keys(root) == ["documents/part-a.json", "documents/part-a.parquet"]
    with storage.open_read(run.shards("documents")[0]) as f:
        assert pl.read_parquet(f)["x"].to_list() == [1, 2]
    assert load_finished(run.path("documents", "part-a.parquet"), "d") == {"params_digest": "d"}
    with pytest.raises(RuntimeError), storage.commit_write(run.path("manifest.json")) as f:
        f.write(b"{")
        raise RuntimeError("interrupted")
    assert s3.keys(root) == ["documents/part-a.json", "documents/part-a.parquet"]


def test_every_deployment_that_writes_a_fixed_folder_runs_one_at_a_time():
    from flows.deployments import PREFECT_FILE, load_specs

    specs = load_specs(REPO / PREFECT_FILE)
    fixed = [s for s in specs if "out" in s.parameters or "runs" in s.parameters]
    assert len(fixed) == len(specs) >= 10
    assert {s.full_name: s.concurrency_limit for s in fixed} == {s.full_name: 1 for s in fixed}


def test_flows_take_storage_options_and_wait():
    from flows.cli import build_parser
    from flows.registry import FLOWS, load_flow

    for name in ("quality-audit", "crawl-sample", "deduplicate", "quality-classify", "tally-stocks", "forecast",
                 "report"):
        assert name in FLOWS
        args = vars(build_parser(name, load_flow(name).fn).parse_args(
            ["--storage-options", '{"endpoint_url": "http://h:9000"}', "--wait"]))
        assert args["storage_options"] == '{"endpoint_url": "http://h:9000"}' and args["wait"] is True


@pytest.mark.slow  # a moto S3 server
def test_object_store_lock_holder_refreshes_its_heartbeat(s3, monkeypatch):
    monkeypatch.setattr(lockmod, "HEARTBEAT_S", 0.2)
    root = s3.bucket("lock-beat") + "/run"
    fs, path = storage.filesystem(storage.join(root, LOCK_NAME))
    with run_lock(root) as holder:
        first, _ = lockmod._read_remote(fs, path)
        deadline = time.monotonic() + 60
        while True:  # a later heartbeat rewrites the object (same holder, new timestamp)
            current, _ = lockmod._read_remote(fs, path)
            if current["heartbeat_at"] != first["heartbeat_at"]:
                break
            assert time.monotonic() < deadline, "no heartbeat was written"
            time.sleep(0.2)
        assert current["token"] == holder["token"] and current["pid"] == os.getpid()
