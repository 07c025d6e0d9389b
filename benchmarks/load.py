"""Load benchmark: a large synthetic demo crawl through `flows run crawl-sample` (optionally the whole
`quality-audit`), sampling memory and throughput over time.

What it shows: peak memory is set by configuration (workers × batch size × payload limit), not by the size
of the input, and throughput is steady from start to end (no slow-down as the run grows). It samples, every
0.5 s, the RSS of the flow's process tree (the CLI process and any worker processes; the temporary Prefect
API server it starts is reported apart), and counts documents as shards finish (their marker JSON appears).

    .venv/bin/python -m benchmarks.load --records 1000000 --files 100 --workers 2 --work /tmp/peakdata-load

Writes WORK/load-result.json and benchmarks/results/load.md (which `make bench` appends to BENCHMARKS.md); after
`--then-only`, also WORK/then-result.json. `--report` rewrites the Markdown from WORK's results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def generate(folder: Path, records: int, files: int, seed: int, workers: int) -> float:
    """Write the demo crawl unless the same one is there already; returns seconds spent."""
    truth = folder / f"DEMO-CRAWL-{seed}.truth"
    if truth.exists():
        meta = json.loads(truth.read_text())
        if meta.get("n_records") == records and meta.get("n_files") == files:
            return 0.0
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flows.demo", str(folder), "--records", str(records), "--files",
                    str(files), "--seed", str(seed), "--workers", str(workers)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(RSS of the flow's processes, RSS of the Prefect API server) in bytes."""
    flow = server = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss = p.memory_info().rss
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if "uvicorn" in cmd or "prefect.server" in cmd or "server start" in cmd:
            server += rss
        else:
            flow += rss
    return flow, server


def run_and_sample(cmd: list[str], out: Path, log: Path, interval: float = 0.5) -> dict:
    """Run the flow; sample RSS and finished shards until it exits."""
    samples: list[dict] = []
    seen: dict[str, dict] = {}
    reading_from: float | None = None
    started = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            now = time.perf_counter() - started
            try:
                flow, server = _tree_rss(ps)
            except psutil.Error:
                flow = server = 0
            folder = out / "documents"
            if reading_from is None and folder.is_dir() and any(folder.glob(".part-*.tmp")):
                reading_from = now  # the first shard is being written: Prefect's start-up is over
            for marker in folder.glob("part-*.json") if folder.is_dir() else []:
                if marker.name not in seen:
                    try:
                        data = json.loads(marker.read_text())
                    except (OSError, ValueError):
                        continue
                    seen[marker.name] = {"t": now, "documents": data.get("documents", 0),
                                         "records": data.get("records_read", 0)}
            samples.append({"t": round(now, 2), "flow_rss_mb": round(flow / 2**20, 1),
                            "server_rss_mb": round(server / 2**20, 1), "shards_done": len(seen)})
            time.sleep(interval)
    wall = time.perf_counter() - started
    return {"returncode": proc.returncode, "wall_s": round(wall, 1), "samples": samples,
            "reading_from": reading_from or 0.0, "shards": sorted(seen.values(), key=lambda s: s["t"])}


def slices(shards: list[dict], samples: list[dict], reading_from: float, n: int = 10) -> list[dict]:
    """Documents/s and peak RSS in each tenth of the reading phase (from the first shard being written to
    the last one finishing: Prefect's start-up is excluded)."""
    if not shards:
        return []
    end = shards[-1]["t"]
    width = (end - reading_from) / n or 1.0
    rows = []
    for i in range(n):
        lo, hi = reading_from + i * width, reading_from + (i + 1) * width
        done = [s for s in shards if lo < s["t"] <= hi or (i == 0 and s["t"] <= lo)]
        docs, records = sum(s["documents"] for s in done), sum(s["records"] for s in done)
        rss = [s["flow_rss_mb"] for s in samples if lo <= s["t"] <= hi]
        rows.append({"slice": i + 1, "from_s": round(lo, 1), "to_s": round(hi, 1), "shards": len(done),
                     "records": records, "documents": docs, "docs_per_s": round(docs / width, 1),
                     "peak_flow_rss_mb": max(rss, default=0.0)})
    return rows


RESULT_MD = REPO / "benchmarks" / "results" / "load.md"


def _by_tenth(samples: list[dict]) -> str:
    n = len(samples)
    peaks = [max((x["flow_rss_mb"] for x in samples[i * n // 10:(i + 1) * n // 10]), default=0.0) for i in range(10)]
    return " · ".join(f"{p:,.0f}" for p in peaks)


def write_markdown(work: Path, target: Path = RESULT_MD) -> str:
    """BENCHMARKS.md's load section from WORK's results (`make bench` appends this file)."""
    run = json.loads((work / "load-result.json").read_text())
    then_path = work / "then-result.json"
    stages = {s["flow"]: s for s in run["then"] if s["returncode"] == 0}
    if then_path.exists():  # a later --then-only run re-ran stages on the same folder: its results replace them
        stages |= {f"{s['flow']} (re-run by `--then-only`)": s for s in json.loads(then_path.read_text())
                   if s["returncode"] == 0}
    m = run["machine"]
    lines = [
        "## Load: a million-record demo crawl (`benchmarks/load.py`, run on its own)", "",
        f"`{' '.join(['python', 'benchmarks/load.py', *run.get('argv', [])])}` on {run['date']}: {m['cpus']} CPUs "
        f"({m['affinity']} usable), {m['memory_gb']} GB RAM, Python {m['python']}, load average at the end of the "
        f"crawl {', '.join(f'{x:.1f}' for x in m['load_average_at_end'])}.", "",
        f"{run['flow']} (`{run['runner']}` runner, workers {run['workers'] or 'default'}): {run['records_read']:,} "
        f"records → {run['documents']:,} documents in {run['reading_s']:,} s of reading, "
        f"{run['docs_per_s_overall']:,} docs/s ({run['wall_s']:,} s wall with Prefect's start-up; generating the crawl "
        f"{run['generate_s']:,} s). Peak RSS of the flow {run['peak_flow_rss_mb']:,} MB, of the temporary Prefect "
        f"server {run['peak_server_rss_mb']:,} MB. Slowest tenth of the reading phase / fastest: "
        f"{run['slowest_to_fastest_slice']}.", "",
        "| tenth | seconds | shards done | documents | docs/s | peak flow RSS (MB) |", "|---|---|---|---|---|---|",
        *[f"| {r['slice']} | {r['from_s']:,.0f}–{r['to_s']:,.0f} | {r['shards']} | {r['documents']:,} | "
          f"{r['docs_per_s']:,.0f} | {r['peak_flow_rss_mb']:,.0f} |" for r in run["slices"]], "",
    ]
    if stages:
        lines += ["Later flows on the same run folder (peak RSS of the flow in each tenth of its run):", "",
                  "| flow | wall s | docs/s | peak RSS (MB) | by tenth (MB) |", "|---|---:|---:|---:|---|",
                  *[f"| {name} | {s['wall_s']:,.0f} | {s['docs_per_s']:,.0f} | {s['peak_flow_rss_mb']:,.0f} | "
                    f"{_by_tenth(s['samples'])} |" for name, s in stages.items()], ""]
    text = "\n".join(lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return text


def _scale_options(flow: str, args: argparse.Namespace) -> list[str]:
    """`--runner`/`--workers` for a flow that takes them (deduplicate, for one, runs in one process)."""
    import inspect

    from flows.registry import load_flow

    params = inspect.signature(load_flow(flow).fn).parameters
    options = ["--runner", args.runner] if "runner" in params else []
    return options + (["--workers", str(args.workers)] if args.workers and "workers" in params else [])


def run_then(names: list[str], out: Path, documents: int, args: argparse.Namespace) -> list[dict]:
    """Run later flows on the same run folder, each sampled like the first (their RSS over time)."""
    stages = []
    for name in names:
        cmd = [sys.executable, "-m", "flows.cli", "run", name, "--out", str(out)] + _scale_options(name, args)
        stage = run_and_sample(cmd, out / f".{name}-none", args.work / f"{name}.log")
        stages.append({"flow": name, "returncode": stage["returncode"], "wall_s": stage["wall_s"],
                       "docs_per_s": round(documents / stage["wall_s"], 1),
                       "peak_flow_rss_mb": max((s["flow_rss_mb"] for s in stage["samples"]), default=0.0),
                       "samples": stage["samples"]})
        print(f"then {name}: {stage['wall_s']} s wall (rc {stage['returncode']}), "
              f"{stages[-1]['docs_per_s']} docs/s, peak flow RSS {stages[-1]['peak_flow_rss_mb']} MB", flush=True)
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="flow workers (default: the flow's, = cores)")
    parser.add_argument("--runner", default="threads", choices=["threads", "processes"])
    parser.add_argument("--audit", action="store_true", help="run the whole quality-audit, not only crawl-sample")
    parser.add_argument("--then", default="", help="comma-separated flows to run next on the same --out, each "
                        "sampled alike (e.g. deduplicate,quality-classify,tally-stocks)")
    parser.add_argument("--then-only", action="store_true", help="run only the --then flows, on WORK/out as a "
                        "previous run left it (results in WORK/then-result.json)")
    parser.add_argument("--report", action="store_true", help=f"only rewrite {RESULT_MD.relative_to(REPO)} from "
                        "WORK's result files")
    parser.add_argument("--work", type=Path, default=Path("/tmp/peakdata-load"))
    args = parser.parse_args()
    if args.report:
        print(write_markdown(args.work))
        return 0
    crawl, out = args.work / "crawl", args.work / "out"
    then = [n for n in args.then.split(",") if n]
    if args.then_only:
        documents = sum(json.loads(m.read_text())["documents"] for m in (out / "documents").glob("part-*.json"))
        stages = run_then(then, out, documents, args)
        (args.work / "then-result.json").write_text(json.dumps(stages, indent=1))
        write_markdown(args.work)
        return max((s["returncode"] for s in stages), default=0)
    args.work.mkdir(parents=True, exist_ok=True)
    gen_s = generate(crawl, args.records, args.files, args.seed, args.workers or os.cpu_count() or 1)
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    flow = "quality-audit" if args.audit else "crawl-sample"
    cmd = [sys.executable, "-m", "flows.cli", "run", flow, "--input", str(crawl), "--out", str(out)]
    cmd += _scale_options(flow, args)
    run = run_and_sample(cmd, out, args.work / "flow.log")
    table = slices(run["shards"], run["samples"], run["reading_from"])
    documents = sum(s["documents"] for s in run["shards"])
    records = sum(s["records"] for s in run["shards"])
    rates = [r["docs_per_s"] for r in table]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
        "command": " ".join(cmd), "argv": sys.argv[1:], "flow": flow, "records": args.records, "files": args.files,
        "workers": args.workers, "runner": args.runner, "generate_s": round(gen_s, 1), "returncode": run["returncode"],
        "wall_s": run["wall_s"], "records_read": records, "documents": documents,
        "reading_s": round(run["shards"][-1]["t"] - run["reading_from"], 1) if table else 0.0,
        "docs_per_s_overall": round(documents / max(run["shards"][-1]["t"] - run["reading_from"], 1e-9), 1)
        if table else 0.0,
        "peak_flow_rss_mb": max((s["flow_rss_mb"] for s in run["samples"]), default=0.0),
        "peak_server_rss_mb": max((s["server_rss_mb"] for s in run["samples"]), default=0.0),
        "slowest_to_fastest_slice": round(min(rates) / max(rates), 3) if rates and max(rates) else None,
        "slices": table, "samples": run["samples"],
    }
    result["then"] = run_then(then, out, documents, args)
    (args.work / "load-result.json").write_text(json.dumps(result, indent=1))
    (args.work / "then-result.json").unlink(missing_ok=True)  # from an earlier run folder
    print(write_markdown(args.work))
    return run["returncode"] or max((s["returncode"] for s in result["then"]), default=0)


if __name__ == "__main__":
    sys.exit(main())
