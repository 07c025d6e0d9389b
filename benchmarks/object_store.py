"""The same quality-audit three ways on this machine: local disk + threads, local disk + a Dask cluster, and inputs
and run directory in an S3 bucket (moto's server on 127.0.0.1) + the same Dask cluster. Reports wall seconds per
stage and the overhead per shard of Dask and of the object store; checks that the three stocks tables are equal.

    .venv/bin/python -m benchmarks.object_store --records 4000 --files 8 --work /tmp/peakdata-objbench

Writes benchmarks/results/object_store.md (which `make bench` appends to BENCHMARKS.md) and, with --append,
appends it to BENCHMARKS.md now. Not a timed test: it is CPU-heavy, run it on its own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULT_MD = REPO / "benchmarks" / "results" / "object_store.md"
STAGES = ("crawl-sample", "deduplicate", "quality-classify", "tally-stocks", "forecast", "report")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_processes(procs: list[subprocess.Popen]) -> None:
    """Terminate, then kill what is still running after 30 s (the servers and workers a run started)."""
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def moto(work: Path) -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint."""
    os.environ.update(CREDENTIALS)
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=(work / "moto.log").open("wb"), stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()  # noqa: S310 - loopback
                break
            time.sleep(0.2)
        yield endpoint
    finally:
        stop_processes([proc])


@contextlib.contextmanager
def dask_cluster(work: Path, workers: int) -> Iterator[str]:
    """A scheduler and `workers` single-threaded worker processes, each in its own empty folder."""
    import distributed

    address = f"tcp://127.0.0.1:{_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", port, "--dashboard-address", ":0"], cwd=work,
                              stdout=(work / "scheduler.log").open("wb"), stderr=subprocess.STDOUT)]
    try:
        for i in range(workers):
            cwd = work / f"worker-{i}"
            cwd.mkdir(exist_ok=True)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--local-directory", str(work / f"scratch-{i}")], cwd=cwd,
                stdout=(work / f"worker-{i}.log").open("wb"), stderr=subprocess.STDOUT))
        with distributed.Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=300)
            client.run(importlib.import_module, "flows.quality_audit")  # imports paid before any timing
        yield address
    finally:
        stop_processes(procs)


def _audit(label: str, **kwargs: object) -> dict:
    from flows.quality_audit import quality_audit

    started = time.perf_counter()
    manifest = quality_audit(draws=20_000, high_percentile=70.0, low_percentile=30.0, **kwargs)
    wall = time.perf_counter() - started
    if manifest["failures"]:
        raise RuntimeError(f"{label}: {manifest['failures'][:2]}")
    stages = {name: manifest["stages"][name]["wall_seconds"] for name in STAGES if name in manifest["stages"]}
    return {"label": label, "wall_s": round(wall, 1), "stages": stages, "documents": manifest["counts"]["documents"],
            "files": manifest["counts"]["files"]}


def run(args: argparse.Namespace) -> dict:
    import polars as pl

    from flows.demo import write_demo_crawl

    os.environ.update(CREDENTIALS)  # before the Dask workers start: they read the bucket with these
    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "input").mkdir(parents=True)
    write_demo_crawl(work / "input", n_records=args.records, n_files=args.files, seed=args.seed)
    for truth in (work / "input").glob("*.truth"):
        truth.unlink()
    common = {"input": [str(work / "input")], "workers": args.workers, "seed": args.seed}
    results = [_audit("local disk, threads", out=str(work / "local"), runner="threads", **common)]
    frames = [pl.read_parquet(work / "local" / "stocks.parquet")]
    with dask_cluster(work, args.workers) as address:
        results.append(_audit("local disk, Dask", out=str(work / "local-dask"), runner="dask", dask_address=address,
                              **common))
        frames.append(pl.read_parquet(work / "local-dask" / "stocks.parquet"))
        with moto(work) as endpoint:
            import s3fs

            fs = s3fs.S3FileSystem(endpoint_url=endpoint)
            fs.mkdir("bench")
            for path in sorted((work / "input").iterdir()):
                fs.put_file(str(path), f"bench/input/{path.name}")
            s3 = {**common, "input": ["s3://bench/input/"]}
            results.append(_audit("S3 (moto, 127.0.0.1), Dask", out="s3://bench/run", runner="dask",
                                  dask_address=address, storage_options=json.dumps({"endpoint_url": endpoint}), **s3))
            with fs.open("bench/run/stocks.parquet") as f:
                frames.append(pl.read_parquet(f))
    equal = all(f.equals(frames[0]) for f in frames[1:])
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "argv": sys.argv[1:],
            "machine": {"cpus": os.cpu_count(), "usable": len(os.sched_getaffinity(0)), "python":
                        platform.python_version(), "platform": platform.platform(),
                        "load_average": [round(x, 2) for x in os.getloadavg()]},
            "results": results, "stocks_equal": equal}


def markdown(report: dict) -> str:
    m = report["machine"]
    local, local_dask, s3 = report["results"]
    files = local["files"]
    per_shard = lambda a, b, stage=None: (  # noqa: E731 - a table helper
        (b["stages"].get(stage, 0) - a["stages"].get(stage, 0)) if stage else (b["wall_s"] - a["wall_s"])) / files
    lines = [
        "## Object storage and Dask: the same audit local vs S3 + Dask (`benchmarks/object_store.py`, run on its own)",
        "",
        f"`python -m benchmarks.object_store {' '.join(report['argv'])}` on {report['date']}: {m['cpus']} CPUs "
        f"({m['usable']} usable), Python {m['python']}, {m['platform']}; load average at the end "
        f"{', '.join(str(x) for x in m['load_average'])}. {files} demo WARC files, {local['documents']:,} documents; "
        "moto's S3 server and the Dask scheduler and workers on this machine (127.0.0.1), so the S3 figures measure "
        "the protocol's and the commit's costs, not a network. Stocks tables equal in all three: "
        f"{'yes' if report['stocks_equal'] else 'NO'}.", "",
        "| configuration | wall s (whole flow) | " + " | ".join(STAGES) + " |",
        "|---|---:|" + "---:|" * len(STAGES),
        *[f"| {r['label']} | {r['wall_s']:,.1f} | " + " | ".join(f"{r['stages'].get(s, 0):,.1f}" for s in STAGES)
          + " |" for r in report["results"]], "",
        f"Overhead per shard (input file), wall seconds: Dask over threads {per_shard(local, local_dask):+.2f} s; "
        f"S3 over local disk, both on Dask, {per_shard(local_dask, s3):+.2f} s (crawl-sample "
        f"{per_shard(local_dask, s3, 'crawl-sample'):+.2f} s, tally-stocks "
        f"{per_shard(local_dask, s3, 'tally-stocks'):+.2f} s, report {per_shard(local_dask, s3, 'report'):+.2f} s). "
        "Wall time on a shared machine is noisy: compare within one run of the script.", "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="/tmp/peakdata-objbench")
    parser.add_argument("--append", action="store_true", help="append the section to BENCHMARKS.md now")
    args = parser.parse_args(argv)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        report = run(args)
    text = markdown(report)
    RESULT_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULT_MD.write_text(text, encoding="utf-8")
    (Path(args.work) / "object-store-result.json").write_text(json.dumps(report, indent=1))
    if args.append:
        with (REPO / "BENCHMARKS.md").open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    print(text)
    return 0 if report["stocks_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
