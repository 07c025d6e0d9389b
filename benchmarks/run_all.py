"""`make bench`: every benchmark in one run, written to BENCHMARKS.md (command, machine, date, results).

    .venv/bin/python -m benchmarks.run_all [--quick] [--only SECTION ...] [--out BENCHMARKS.md] [--json RAW.json]

Sections, each run in subprocesses (own peak RSS; a crash or time-out loses only that section):

- limits:   gzip decompression and zstd Parquet write rates of this machine (`benchmarks.limits`);
- pipeline: peakdata's per-document stages next to a datatrove-only pipeline on the 1,033 real pages of
            warc_derived/, a cProfile of peakdata's path, and the parity of the hot path with its earlier version
            (`benchmarks.pipeline`);
- demo:     peakdata's stages on a larger synthetic demo crawl;
- overhead: the fixed cost of `flows run` (Prefect start-up): imports, ephemeral mode cold and warm, against a running
            `prefect server start` (PREFECT_API_URL), and against `flows server start` found without PREFECT_API_URL;
- audit:    `flows run quality-audit` on the real pages with one worker, per core, start-up excluded;
- scaling:  `flows run crawl-sample` with 1 and 2 workers, thread and process runners, on a 4-file demo crawl;
- stages:   the stage benchmarks of the other issues (signals, MinHash, tokens, forecast, classifiers); the
            million-record load (`benchmarks/load.py`, ~40 min) and the GPU/16-core run run on their own; their
            last results, kept in benchmarks/results/{load,gpu}.md, are appended.

CPU time (getrusage of each process and its reaped children) is the primary per-core measure: the machine may be
shared, and wall time then measures the other load as much as our code. Wall time is reported beside it.
"""

from __future__ import annotations

import os

BASE_ENV = dict(os.environ)  # before anything imports `flows`, which sets Prefect defaults in os.environ

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from tools.shared_data import shared_data_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Results of runs too long or needing other hardware for `make bench`, kept across runs and appended in this order:
# the million-record load (benchmarks/load.py, ~40 min) and the run on a lent GPU machine (16 cores, H100).
KEPT_RESULTS = [REPO / "benchmarks" / "results" / name for name in ("load.md", "gpu.md", "object_store.md")]
PY = sys.executable
FLOWS = str(Path(PY).with_name("flows"))
PREFECT = str(Path(PY).with_name("prefect"))
SHARED = shared_data_dir()
REAL_WARC = SHARED / "warc_derived" / "trafilatura-eval-1033pages.warc.gz"
SECTIONS = ("limits", "pipeline", "demo", "overhead", "audit", "scaling", "stages")
ONE_CORE = {"POLARS_MAX_THREADS": "1", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false"}
PER_DOC_STAGES = ("crawl-sample", "deduplicate", "quality-classify", "tally-stocks")
VERSIONED = ("datatrove", "resiliparse", "fastwarc", "trafilatura", "fasttext-numpy2-wheel", "polars", "pyarrow",
             "tiktoken", "tokenizers", "prefect", "numpy", "spacy")


# --- processes ------------------------------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600, cwd: Path = REPO) -> dict:
    """Run `cmd`; return rc, wall and CPU seconds (the process and its reaped descendants), peak RSS and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env if env is not None else BASE_ENV, cwd=cwd,
                                start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"cmd": _show(cmd), "rc": proc.returncode, "timed_out": timed_out, "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
                "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}


def _show(cmd: list[str]) -> str:
    text = " ".join(shlex.quote(c) for c in cmd)
    return text.replace(str(REPO) + "/", "").replace(PY, ".venv/bin/python").replace(str(SHARED), "../shared/data")


def env_with(**extra: str | None) -> dict[str, str]:
    """The environment the harness started with, plus `extra` (None removes a variable)."""
    env = {k: v for k, v in BASE_ENV.items() if k != "PREFECT_API_URL"}
    env.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def prefect_server(home: Path, timeout: float = 180) -> Iterator[dict]:
    """A `prefect server start` of our own (own PREFECT_HOME, free port), stopped on exit."""
    port = free_port()
    env = env_with(PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = open(home.parent / "prefect-server.log", "wb")  # noqa: SIM115 - closed below
    start = time.perf_counter()
    proc = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    info = {"api_url": url, "startup_wall_s": None}
    try:
        while time.perf_counter() - start < timeout and proc.poll() is None:
            ready = False
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                ready = response.status == 200
            if ready:
                info["startup_wall_s"] = time.perf_counter() - start
                break
            time.sleep(0.25)
        yield info
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def write_demo(out: Path, records: int, files: int, seed: int = 0) -> list[Path]:
    """A demo crawl written by its own CLI (in a subprocess: importing `flows` here would change our env)."""
    result = run([PY, "-m", "flows.demo", str(out), "--records", str(records), "--files", str(files),
                  "--seed", str(seed)], timeout=900)
    if result["rc"] != 0:
        raise RuntimeError(f"demo crawl failed: {result['stderr'][-2000:]}")
    return sorted(out.glob("*.warc.gz"))


def json_run(args: list[str], work: Path, name: str, timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run `python -m benchmarks.X ... --json F` and return its JSON (or the failure)."""
    target = work / f"{name}.json"
    result = run([PY, "-m", *args, "--json", str(target)], env=env or env_with(**ONE_CORE), timeout=timeout)
    if result["rc"] == 0 and target.exists():
        return {"ok": True, "data": json.loads(target.read_text()), "run": _brief(result)}
    return {"ok": False, "run": _brief(result), "error": (result["stderr"] or result["stdout"])[-3000:]}


def _brief(result: dict) -> dict:
    return {k: result[k] for k in ("cmd", "rc", "timed_out", "wall_s", "cpu_s", "peak_rss_mb")}


# --- sections -----------------------------------------------------------------------------------------------------


def section_limits(work: Path, args: argparse.Namespace) -> dict:
    return json_run(["benchmarks.limits", "--warc", str(REAL_WARC)], work, "limits", 600)


def section_pipeline(work: Path, args: argparse.Namespace) -> dict:
    limit = ["--limit", str(args.datatrove_limit)] if args.datatrove_limit > 0 else []
    out = {
        "peakdata": json_run(["benchmarks.pipeline", "peakdata", "--input", str(REAL_WARC)], work, "peakdata", 900),
        "datatrove": json_run(["benchmarks.pipeline", "datatrove", "--input", str(REAL_WARC), *limit], work,
                              "datatrove", 1800),
        "profile": json_run(["benchmarks.pipeline", "profile", "--input", str(REAL_WARC)], work, "profile", 900),
        "parity": json_run(["benchmarks.pipeline", "parity", "--input", str(REAL_WARC)], work, "parity", 900),
    }
    if out["peakdata"]["ok"] and out["datatrove"]["ok"]:
        from benchmarks.pipeline import comparison_rows

        out["comparison"] = comparison_rows(out["peakdata"]["data"], out["datatrove"]["data"])
    return out


def section_demo(work: Path, args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    paths = write_demo(work / "demo", args.demo_records, args.demo_files)
    generated = time.perf_counter() - start
    result = json_run(["benchmarks.pipeline", "peakdata", "--input", *map(str, paths)], work, "demo", 1200)
    result["generate_wall_s"] = generated
    result["records"], result["files"] = args.demo_records, args.demo_files
    return result


def _flows(cmd: list[str], env: dict[str, str], timeout: float = 600) -> dict:
    result = run([FLOWS, "run", *cmd], env=env, timeout=timeout)
    brief = _brief(result)
    if result["rc"] != 0:
        brief["error"] = (result["stderr"] or result["stdout"])[-1500:]
    return brief


def section_overhead(work: Path, args: argparse.Namespace, server: dict | None) -> dict:
    tiny = write_demo(work / "tiny", 20, 1)
    crawl = ["crawl-sample", "--input", str(tiny[0]), "--workers", "1"]
    rows: dict[str, Any] = {"input": {"records": 20, "file_mb": tiny[0].stat().st_size / 1e6}}
    rows["python -c 'import prefect'"] = _brief(run([PY, "-c", "import prefect"], env=env_with()))
    rows["flows list (no Prefect import)"] = _brief(run([FLOWS, "list"], env=env_with()))
    for name in ("crawl-sample", "quality-audit"):
        rows[f"flows run {name} --help (imports)"] = _brief(run([FLOWS, "run", name, "--help"], env=env_with()))
    rows["in-process work (read_into_shard, no Prefect)"] = _brief(run(
        [PY, "-c", "import sys; from pathlib import Path; from flows.sources.shards import ReadOptions, "
         "read_into_shard; read_into_shard(sys.argv[1], Path(sys.argv[2]), ReadOptions(), 'x')",
         str(tiny[0]), str(work / "inproc" / "part.parquet")], env=env_with()))
    home = work / "prefect-home-cold"
    ephemeral = env_with(PREFECT_HOME=str(home))
    rows["ephemeral, cold (fresh PREFECT_HOME)"] = _flows([*crawl, "--out", str(work / "o-cold")], ephemeral)
    for i in (1, 2):
        rows[f"ephemeral, warm #{i}"] = _flows([*crawl, "--out", str(work / f"o-warm{i}")], ephemeral)
    rows |= _flows_server_rows(work, crawl)
    if server and server.get("startup_wall_s"):
        rows["prefect server start (until /api/health answers)"] = {"wall_s": server["startup_wall_s"]}
        remote = env_with(PREFECT_HOME=str(work / "prefect-home-client"), PREFECT_API_URL=server["api_url"])
        for i in (1, 2):
            rows[f"running server (PREFECT_API_URL), #{i}"] = _flows([*crawl, "--out", str(work / f"o-srv{i}")],
                                                                    remote)
        audit_out = work / "o-audit-tiny"
        rows["quality-audit, running server"] = _flows(
            ["quality-audit", "--input", str(tiny[0]), "--out", str(audit_out), "--workers", "1", "--draws", "2000"],
            remote)
        rows["quality-audit, running server"]["stages"] = _manifest_stages(audit_out)
    return rows


def _flows_server_rows(work: Path, crawl: list[str]) -> dict[str, Any]:
    """`flows server start`, then `flows run` with no PREFECT_API_URL (it finds the recorded server), then stop."""
    env = env_with(PREFECT_HOME=str(work / "prefect-home-flows-server"))
    rows: dict[str, Any] = {"flows server start (returns when healthy)": _brief(run(
        [FLOWS, "server", "start", "--no-ui", "--port", str(free_port())], env=env, timeout=300))}
    try:
        for i in (1, 2):
            rows[f"flows server, no PREFECT_API_URL, #{i}"] = _flows([*crawl, "--out", str(work / f"o-fs{i}")], env)
    finally:
        rows["flows server stop"] = _brief(run([FLOWS, "server", "stop"], env=env, timeout=120))
    return rows


def _manifest_stages(out: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        return json.loads((out / "manifest.json").read_text()).get("stages", {})
    return {}


def section_audit(work: Path, args: argparse.Namespace, server: dict | None) -> dict:
    """quality-audit on the real pages with one worker; per-document CPU from the manifest's stage metrics."""
    out = work / "audit"
    extra: dict[str, str | None] = {**ONE_CORE, "PREFECT_HOME": str(work / "prefect-home-audit")}
    if server and server.get("startup_wall_s"):
        extra["PREFECT_API_URL"] = server["api_url"]
    result = _flows(["quality-audit", "--input", str(REAL_WARC), "--out", str(out), "--workers", "1", "--draws",
                     "20000"], env_with(**extra), timeout=1200)
    manifest: dict = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((out / "manifest.json").read_text())
    stages = manifest.get("stages", {})
    per_doc = {k: v for k, v in stages.items() if k in PER_DOC_STAGES}
    counts = manifest.get("counts", {})
    cpu = sum(v.get("cpu_seconds", 0.0) for v in per_doc.values())
    wall = sum(v.get("wall_seconds", 0.0) for v in per_doc.values())
    records = counts.get("records_read", 0)
    return {"run": result, "server": bool(extra.get("PREFECT_API_URL")), "stages": stages, "records": records,
            "documents": counts.get("documents"), "per_doc_cpu_s": cpu, "per_doc_wall_s": wall,
            "docs_per_cpu_s": records / cpu if cpu else None, "docs_per_wall_s": records / wall if wall else None}


def _span(out: Path) -> dict:
    """From the shard markers: when the first shard started, the last ended (wall span), summed shard seconds."""
    starts, ends, seconds, docs, records = [], [], 0.0, 0, 0
    for marker in sorted((out / "documents").glob("part-*.json")):
        data = json.loads(marker.read_text())
        end = marker.stat().st_mtime
        starts.append(end - data.get("seconds", 0.0))
        ends.append(end)
        seconds += data.get("seconds", 0.0)
        docs += data.get("documents", 0)
        records += data.get("records_read", 0)
    span = max(ends) - min(starts) if ends else None
    return {"span_s": span, "shard_seconds": seconds, "documents": docs, "records": records,
            "docs_per_span_s": docs / span if span else None}


def section_scaling(work: Path, args: argparse.Namespace, server: dict | None) -> dict:
    paths = write_demo(work / "scaling-input", args.scaling_records, args.scaling_files, seed=1)
    inputs = [x for p in paths for x in ("--input", str(p))]
    extra: dict[str, str | None] = {**ONE_CORE, "PREFECT_HOME": str(work / "prefect-home-scaling")}
    if server and server.get("startup_wall_s"):
        extra["PREFECT_API_URL"] = server["api_url"]
    rows = []
    for runner in ("threads", "processes"):
        for workers in (1, 2):
            out = work / f"scaling-{runner}-{workers}"
            result = _flows(["crawl-sample", *inputs, "--out", str(out), "--workers", str(workers), "--runner",
                             runner], env_with(**extra), timeout=900)
            rows.append({"runner": runner, "workers": workers, "run": result, **_span(out)})
    for row in rows:
        base = next(r for r in rows if r["runner"] == row["runner"] and r["workers"] == 1)
        row["speed_up"] = base["span_s"] / row["span_s"] if row["span_s"] and base["span_s"] else None
    pools = json_run(["benchmarks.pipeline", "scaling", "--input", *map(str, paths)], work, "pools", 900)
    return {"files": len(paths), "records": args.scaling_records, "mb": sum(p.stat().st_size for p in paths) / 1e6,
            "rows": rows, "pools": pools}


def stage_commands(args: argparse.Namespace) -> list[tuple[str, list[str], int]]:
    """The other issues' stage benchmarks, sized to keep `make bench` short (name, argv, time-out s)."""
    commands = [
        ("signals", [PY, "-m", "benchmarks.signals", "--docs", str(args.signals_docs)], 600),
        ("minhash", [PY, "-m", "benchmarks.minhash", "--docs", str(args.minhash_docs), "--datatrove-docs", "150"], 600),
        ("tokens", [PY, "-m", "benchmarks.tokens", "--repeat", "1"], 600),
        ("forecast", [PY, "benchmarks/forecast.py", "--repeat", "1"], 600),
        ("classifiers", [PY, "benchmarks/classifiers.py", "--embedding-docs", "64", "--devices", "cpu"], 600),
    ]
    return commands


def section_stages(work: Path, args: argparse.Namespace) -> dict:
    rows = {}
    for name, cmd, timeout in stage_commands(args):
        result = run(cmd, env=env_with(PYTHONPATH=str(REPO)), timeout=timeout)
        rows[name] = _brief(result) | {"stdout": result["stdout"][-12000:],
                                       "stderr": "" if result["rc"] == 0 else result["stderr"][-2000:]}
    return rows


# --- machine -------------------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu_model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024**2
    versions = {}
    for name in VERSIONED:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    commit = run(["git", "rev-parse", "--short", "HEAD"], timeout=30)["stdout"].strip()
    dirty = bool(run(["git", "status", "--porcelain"], timeout=30)["stdout"].strip())
    return {"cpu_model": cpu_model, "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "memory_gib": memory, "python": platform.python_version(), "os": platform.platform(),
            "versions": versions, "git": f"{commit}{' (uncommitted changes)' if dirty else ''}",
            "loadavg_start": os.getloadavg()}


# --- BENCHMARKS.md ------------------------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 0, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


def _failed(block: dict | None) -> str | None:
    if not block:
        return "not run"
    if block.get("ok") is False:
        run_info = block.get("run", {})
        return (f"failed (rc {run_info.get('rc')}, {'timed out' if run_info.get('timed_out') else 'error'}): "
                f"`{str(block.get('error', ''))[-600:].strip()}`")
    return None


def render(results: dict) -> str:
    """BENCHMARKS.md from the raw results."""
    m = results["machine"]
    sections = results["sections"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` (`benchmarks/run_all.py`) on {results['started']} "
        f"in {results['total_seconds'] / 60:.1f} min.",
        "",
        f"**Machine:** {m['cpu_model']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"{_f(m['memory_gib'], 1)} GiB memory; {m['os']}; Python {m['python']}; git {m['git']}.  ",
        f"Load average (1/5/15 min) at start {', '.join(f'{x:.1f}' for x in m['loadavg_start'])}, at end "
        f"{', '.join(f'{x:.1f}' for x in m.get('loadavg_end', ()))}.  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "",
        "**How to read this.** *Per core* figures are documents (or MB) per CPU-second: CPU time from `getrusage` "
        "(the process, its threads and its reaped child processes), with polars, Rayon and the token counters "
        "held to one thread. CPU time is the primary measure because this machine may be shared with other "
        "work (see the load average above: above the core count, wall time measures the others' load as much as "
        "ours); wall seconds are reported beside it and are noisy. Peak RSS is the high-water resident memory "
        "of the stage (reset before each stage with Linux `clear_refs`).",
        "",
    ]
    lines += _summary(sections)
    renderers = [("limits", "Physical limits of this machine", _limits),
                 ("pipeline", "peakdata vs a datatrove-only pipeline on the 1,033 real pages", _pipeline),
                 ("demo", "peakdata on a larger synthetic demo crawl", _demo),
                 ("audit", "`flows run quality-audit` per core, start-up excluded", _audit),
                 ("scaling", "Scaling with `--workers`", _scaling),
                 ("overhead", "Fixed overhead of `flows run` (Prefect start-up)", _overhead),
                 ("stages", "Stage benchmarks of the other issues", _stages)]
    for key, title, fn in renderers:
        if key not in sections:
            continue
        lines += [f"## {title}", "", f"_Section wall time: {results['seconds'].get(key, 0):.0f} s._", ""]
        failure = _failed(sections[key]) if key in ("limits", "demo") else None
        lines += [failure, ""] if failure else fn(sections[key], sections)
    lines += [line for kept in KEPT_RESULTS if kept.exists() for line in (kept.read_text("utf-8").rstrip(), "")]
    return "\n".join(lines).rstrip() + "\n"


def _e2e(sections: dict) -> tuple[dict | None, dict | None]:
    pipe = sections.get("pipeline", {})
    ours = pipe.get("peakdata", {}).get("data") if pipe.get("peakdata", {}).get("ok") else None
    theirs = pipe.get("datatrove", {}).get("data") if pipe.get("datatrove", {}).get("ok") else None
    return ours, theirs


def _like_for_like(ours: dict) -> tuple[float, float]:
    """CPU s of the stages that do datatrove's work (read, extract, signals, tokens, Parquet) and with LID."""
    names = ("read:", "extract + LID", "write documents", "read documents back", "quality signals", "tokens (",
             "write quality")
    cpu = sum(s["cpu_s"] for s in ours["stages"] if s["name"].startswith(names))
    lid = next((s["cpu_s"] for s in ours.get("extras", []) if "LID" in s["name"]), 0.0)
    return cpu - lid, cpu


def _summary(sections: dict) -> list[str]:
    lines = ["## Summary", ""]
    ours, theirs = _e2e(sections)
    if ours and theirs:
        a, b = ours["end_to_end"], theirs["end_to_end"]
        same, same_lid = _like_for_like(ours)
        rate = b["docs_per_cpu_s"]
        lines += [
            f"- **End to end per core on the 1,033 real pages** (in-process stage functions, no Prefect): peakdata "
            f"{_f(a['docs_per_cpu_s'])} docs/s ({a['cpu_s']:.1f} CPU s: read, extract, LID, dedup, signals, score, "
            f"tokens, Parquet), datatrove-only {_f(rate, 1)} docs/s ({b['cpu_s']:.1f} CPU s) → "
            f"**{a['docs_per_cpu_s'] / rate:.1f}x** (target ≥ 10x).",
            f"- The same work as the datatrove pipeline only (read, extract, quality signals, tokens, Parquet; no LID, "
            f"dedup or score): {same:.1f} CPU s → {a['docs'] / same:,.0f} docs/s per core, "
            f"**{a['docs'] / same / rate:.1f}x**; with LID {a['docs'] / same_lid / rate:.1f}x.",
            f"- For 10x with everything, peakdata's path must take at most {a['docs'] / rate / 10:.1f} CPU s on these "
            f"pages (now {a['cpu_s']:.1f} s); per stage see below.",
        ]
    audit = sections.get("audit")
    if audit and audit.get("docs_per_cpu_s"):
        lines.append(f"- `flows run quality-audit --workers 1` on the same pages: {_f(audit['docs_per_cpu_s'])} docs/s "
                     f"per core over its per-document stages ({audit['per_doc_cpu_s']:.1f} CPU s), whole command "
                     f"{audit['run']['cpu_s']:.1f} CPU s / {audit['run']['wall_s']:.0f} s wall.")
    scaling = sections.get("scaling", {})
    for row in scaling.get("rows", []):
        if row["workers"] == 2 and row.get("speed_up"):
            lines.append(f"- crawl-sample, 2 vs 1 workers ({row['runner']}): speed-up {row['speed_up']:.2f}x of the "
                         f"shard-reading span.")
    pools = scaling.get("pools", {})
    if pools.get("ok"):
        busy = [r["busy_cores"] for r in pools["data"]["rows"]]
        lines.append(f"- The scaling runs got {min(busy):.2f}–{max(busy):.2f} busy cores (CPU s / wall s) with 1 or 2 "
                     "workers: where that stays below the worker count, the machine had no free core to scale onto.")
    overhead = sections.get("overhead", {})
    if overhead:
        modes = ("ephemeral", "running server", "flows server,")
        parts = [f"{k}: {v['wall_s']:.1f} s wall / {v.get('cpu_s', 0):.1f} CPU s" for k, v in overhead.items()
                 if isinstance(v, dict) and "wall_s" in v and k.startswith(modes)]
        if parts:
            lines.append("- Fixed overhead of `flows run crawl-sample` on a 20-record file: " + "; ".join(parts) + ".")
    return [*lines, ""]


def _limits(block: dict, sections: dict) -> list[str]:
    from benchmarks.limits import markdown

    rows = block["data"]
    lines = [markdown(rows), ""]
    ours, _ = _e2e(sections)
    if ours:
        by_name = {r["limit"]: r for r in rows}
        read = next(s for s in ours["stages"] if s["name"].startswith("read:"))
        write = next(s for s in ours["stages"] if s["name"].startswith("write documents"))
        gz = next((r for n, r in by_name.items() if "ArchiveIterator" in n), None)
        zl = next((r for n, r in by_name.items() if "zlib" in n), None)
        pq = next((r for n, r in by_name.items() if "text column" in n), None)
        lines += ["How close peakdata's byte-moving stages are to these limits (per core, CPU time):", "",
                  "| stage | stage MB/s per core | limit | limit MB/s per core | stage / limit |",
                  "|---|---:|---|---:|---:|"]
        for stage, limit in ((read, gz), (read, zl), (write, pq)):
            if limit:
                lines.append(f"| {stage['name']} | {stage['mb_per_cpu_s']:.1f} | {limit['limit']} | "
                             f"{limit['mb_per_cpu_s']:.1f} | {stage['mb_per_cpu_s'] / limit['mb_per_cpu_s']:.0%} |")
        lines.append("")
    return lines


def _pipeline(block: dict, sections: dict) -> list[str]:
    from benchmarks.pipeline import comparison_table, profile_tables, stage_table

    lines: list[str] = []
    for side, title in (("peakdata", "peakdata (stage functions in one process)"),
                        ("datatrove", "datatrove-only: WarcReader → Trafilatura → GopherRepetition → GopherQuality → "
                                      "C4 → FineWeb → TokensCounter → ParquetWriter, LocalPipelineExecutor(tasks=1, "
                                      "workers=1)")):
        lines += [f"### {title}", ""]
        failure = _failed(block.get(side))
        if failure:
            lines += [failure, ""]
            continue
        data = block[side]["data"]
        lines += [stage_table(data), ""]
        if side == "datatrove":
            s = data["settings"]
            lines += [f"{data['records']:,} pages given, {data.get('documents_read', data['records']):,} returned by "
                      f"WarcReader (it skips pages whose MIME type python-magic does not call HTML, or that it cannot "
                      f"decode), {data['documents_written']:,} written after the filters; the end-to-end rate counts "
                      "every page given. "
                      f"Default filter settings; Trafilatura timeout {s['trafilatura_timeout_s']:.0f} s per page "
                      f"(datatrove's default 1 s would drop slow pages at random on a loaded machine); tokenizer "
                      f"`{Path(s['tokenizer']).name}` from a local file (datatrove would otherwise download `gpt2`). "
                      f"Each step's docs are the documents that reach it: the filters drop most pages before C4, "
                      f"FineWeb, the token counter and the writer. Unattributed CPU (executor, logging): "
                      f"{data['unattributed_cpu_s']:.1f} s.", ""]
    if block.get("comparison"):
        lines += ["### Side by side (docs/s per core; a stage's docs are those reaching it on each side)", "",
                  comparison_table(block["comparison"]), "",
                  "peakdata does more than datatrove here: it identifies the language of every document, computes "
                  "all signals of all four rule sets for every document (annotate, not filter), scores every "
                  "document and deduplicates (exact, URL, MinHash-LSH); datatrove's later steps only see the pages "
                  "its earlier filters let through.", ""]
    if not _failed(block.get("profile")):
        prof = block["profile"]["data"]
        lines += ["### Where the time goes (cProfile of peakdata's path on the real pages)", "",
                  f"Own time by library and the top functions; {prof['total_s']:.1f} s profiled in all (the "
                  f"profiler inflates Python-heavy code; shares, not seconds, are the point).", "",
                  profile_tables(prof), ""]
    if not _failed(block.get("parity")):
        p = block["parity"]["data"]
        acc = p["udhr_accuracy"]
        lines += ["### Hot path (extraction + LID): parity with the pre-issue-11 path and gain", "",
                  f"- Documents: reference {p['documents']['reference']}, current {p['documents']['current']}; "
                  f"identical texts {p['texts_identical']}, identical titles {p['titles_identical']}; language "
                  f"agreement {p['lang_agreement']:.2%}.",
                  "- Language agreement with LID over the whole text: " + ", ".join(
                      f"{k} {v:.2%}" for k, v in p["lang_agreement_with_full_text"].items()) + ".",
                  f"- Accuracy on {acc['documents']} labelled UDHR translations ({acc['languages']} languages) by "
                  "prefix: " + ", ".join(f"{k} chars {v:.3f}" if k != "full text" else f"full text {v:.3f}"
                                           for k, v in acc["by_prefix"].items()) + ".",
                  f"- CPU of extraction + LID (best of {p['repeat']}): reference {p['cpu_s']['reference']:.2f} s, "
                  f"current {p['cpu_s']['current']:.2f} s → {p['speed_up']:.2f}x; LID alone: " + ", ".join(
                      f"{k} chars {v:.2f} s" for k, v in p.get("lid_cpu_s", {}).items()) + ".", ""]
    return lines


def _demo(block: dict, sections: dict) -> list[str]:
    from benchmarks.pipeline import stage_table

    data = block["data"]
    return [f"{block['records']:,} response records in {block['files']} files ({data['input_mb']:.0f} MB gzip; "
            f"generated in {block['generate_wall_s']:.0f} s), {data['documents']:,} documents. Synthetic pages are "
            "small and regular, so per-document rates are higher than on the real pages.", "",
            stage_table(data), ""]


def _audit(block: dict, sections: dict) -> list[str]:
    if block["run"]["rc"] != 0:
        return [f"failed: `{block['run'].get('error', '')}`", ""]
    lines = [f"`{block['run']['cmd']}` ({'against a running Prefect server' if block['server'] else 'ephemeral'}; "
             f"polars and Rayon on one thread). Whole command: {block['run']['cpu_s']:.1f} CPU s, "
             f"{block['run']['wall_s']:.1f} s wall, peak RSS {block['run']['peak_rss_mb']:.0f} MB.", "",
             "| stage (from manifest.json) | wall s | CPU s | peak RSS MB (process so far) |", "|---|---:|---:|---:|"]
    for name, st in block["stages"].items():
        lines.append(f"| {name} | {st.get('wall_seconds', 0):.2f} | {st.get('cpu_seconds', 0):.2f} | "
                     f"{st.get('peak_rss_mb', 0):.0f} |")
    lines += ["", f"Per-document stages ({', '.join(PER_DOC_STAGES)}): {block['per_doc_cpu_s']:.1f} CPU s for "
              f"{block['records']:,} records → **{_f(block['docs_per_cpu_s'])} docs/s per core** "
              f"({_f(block['docs_per_wall_s'])} docs/s wall). These include each stage task's Prefect orchestration; "
              "the rest of the command is Prefect start-up, the forecast and the report (fixed per run).", ""]
    return lines


def _scaling(block: dict, sections: dict) -> list[str]:
    lines = [f"`flows run crawl-sample` on a demo crawl of {block['records']:,} records in {block['files']} files "
             f"({block['mb']:.0f} MB). Span = from the first shard's start to the last shard's end (shard markers), "
             "so Prefect start-up is excluded.", "",
             "| runner | workers | span s | docs/s (span) | speed-up | Σ shard s | command wall s | command CPU s | "
             "busy cores |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in block["rows"]:
        busy = r["run"]["cpu_s"] / r["run"]["wall_s"] if r["run"]["wall_s"] else None
        lines.append(f"| {r['runner']} | {r['workers']} | {_f(r['span_s'], 1)} | {_f(r['docs_per_span_s'])} | "
                     f"{_f(r['speed_up'], 2, 'x')} | {r['shard_seconds']:.1f} | {r['run']['wall_s']:.1f} | "
                     f"{r['run']['cpu_s']:.1f} | {_f(busy, 2)} |")
    lines.append("")
    pools = block.get("pools", {})
    failure = _failed(pools)
    if failure:
        return [*lines, f"Pools without Prefect: {failure}", ""]
    from benchmarks.pipeline import scaling_table

    data = pools["data"]
    lines += ["The same per-shard work (`read_into_shard`) on a thread pool and a spawned process pool without "
              "Prefect, with CPU time: *busy cores* = CPU s / wall s is how many cores the run actually got; "
              "docs/s per core is the parallel efficiency (it stays flat when adding workers costs no extra CPU). "
              f"Load average during the run: {', '.join(f'{x:.1f}' for x in data['loadavg'])}.", "",
              scaling_table(data), ""]
    return lines


def _overhead(block: dict, sections: dict) -> list[str]:
    lines = [f"`flows run crawl-sample --workers 1` on one demo file of {block['input']['records']} records "
             f"({block['input']['file_mb'] * 1000:.0f} kB); the work itself takes well under a second.", "",
             "| what | wall s | CPU s | peak RSS MB |", "|---|---:|---:|---:|"]
    for name, row in block.items():
        if name == "input" or not isinstance(row, dict):
            continue
        lines.append(f"| {name} | {_f(row.get('wall_s'), 1)} | {_f(row.get('cpu_s'), 1)} | "
                     f"{_f(row.get('peak_rss_mb'))} |" + (" failed" if row.get("rc") else ""))
    audit = block.get("quality-audit, running server", {})
    if audit.get("stages"):
        lines += ["", "quality-audit on the same file, against the running server; each stage is a task of the audit "
                  "flow, and on 20 records its wall time is mostly fixed costs (models, Plotly): " + ", ".join(
                      f"{k} {v.get('wall_seconds', 0):.1f} s" for k, v in audit["stages"].items()) + "."]
    return [*lines, ""]


def _stages(block: dict, sections: dict) -> list[str]:
    lines = []
    for name, row in block.items():
        lines += [f"### {name}", "", f"`{row['cmd']}` — {row['wall_s']:.0f} s wall, {row['cpu_s']:.0f} CPU s, "
                  f"peak RSS {row['peak_rss_mb']:.0f} MB" + (" — **timed out**" if row["timed_out"] else "") + ".", ""]
        if row["rc"] != 0:
            lines += ["```", row["stderr"].strip()[-1500:], "```", ""]
        lines += [row["stdout"].strip(), ""]
    return lines


# --- main ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None, help="run only these sections")
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[], help="leave these sections out")
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs: datatrove on 200 pages, a 4,000-record demo crawl, no stage benchmarks")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--datatrove-limit", type=int, default=-1, help="datatrove: at most N pages (default all)")
    parser.add_argument("--demo-records", type=int, default=12_000)
    parser.add_argument("--demo-files", type=int, default=4)
    parser.add_argument("--scaling-records", type=int, default=24_000)
    parser.add_argument("--scaling-files", type=int, default=4)
    parser.add_argument("--signals-docs", type=int, default=150)
    parser.add_argument("--minhash-docs", type=int, default=50_000)
    args = parser.parse_args(argv)
    if args.quick:
        args.datatrove_limit = args.datatrove_limit if args.datatrove_limit > 0 else 200
        args.demo_records = min(args.demo_records, 4_000)
        args.scaling_records = min(args.scaling_records, 4_000)
        args.skip = [*args.skip, "stages"]
    chosen = [s for s in (args.only or SECTIONS) if s not in args.skip]
    if not REAL_WARC.exists():
        print(f"run_all: {REAL_WARC} is missing (set PEAKDATA_SHARED_DATA)", file=sys.stderr)
        return 2
    given = list(sys.argv[1:] if argv is None else argv)
    command = ("make bench` (= `.venv/bin/python -m benchmarks.run_all" if not given else
               ".venv/bin/python -m benchmarks.run_all " + " ".join(shlex.quote(a) for a in given))
    results: dict[str, Any] = {"command": command, "started": dt.datetime.now(dt.timezone.utc).isoformat(
        timespec="seconds"), "machine": machine(), "sections": {}, "seconds": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="peakdata-bench-") as tmp:
        work = Path(tmp)
        needs_server = any(s in chosen for s in ("overhead", "audit", "scaling"))
        server_home = work / "server" / "prefect-home"
        server_home.mkdir(parents=True)
        with prefect_server(server_home) if needs_server else contextlib.nullcontext() as server:
            for name in chosen:
                section_start = time.perf_counter()
                print(f"run_all: {name} ...", file=sys.stderr, flush=True)
                folder = work / name
                folder.mkdir()
                try:
                    if name in ("overhead", "audit", "scaling"):
                        outcome = globals()[f"section_{name}"](folder, args, server)
                    else:
                        outcome = globals()[f"section_{name}"](folder, args)
                except Exception as exc:  # one broken section must not lose the others
                    outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                results["sections"][name] = outcome
                results["seconds"][name] = time.perf_counter() - section_start
                print(f"run_all: {name} done in {results['seconds'][name]:.0f} s", file=sys.stderr, flush=True)
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started
    args.out.write_text(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(f"run_all: wrote {args.out} in {results['total_seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
