"""Cost per run: wall time, CPU-seconds, peak memory and throughput of each stage."""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections.abc import Iterator


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # Linux reports kilobytes


@contextlib.contextmanager
def measure(stages: dict, name: str, **known: int) -> Iterator[dict]:
    """Record a stage's wall and CPU seconds and the peak RSS so far; documents/bytes given or added by the caller."""
    entry: dict = dict(known)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        yield entry
    finally:
        entry["wall_seconds"] = round(time.perf_counter() - wall, 3)
        entry["cpu_seconds"] = round(_cpu_seconds() - cpu, 3)
        entry["peak_rss_mb"] = _peak_rss_mb()
        seconds = max(entry["wall_seconds"], 1e-9)
        if "documents" in entry:
            entry["docs_per_s"] = round(entry["documents"] / seconds, 1)
        if "bytes" in entry:
            entry["mb_per_s"] = round(entry["bytes"] / seconds / 1e6, 2)
        stages[name] = entry
        sys.stderr.write(stage_line(name, entry) + "\n")  # not print: a flow with log_prints turns it into a log
        sys.stderr.flush()


def stage_line(name: str, entry: dict) -> str:
    """One plain line per finished stage, the same in a terminal and in a log: what it did and how fast."""
    documents = f"{entry['documents']:,} documents" if "documents" in entry else ""
    size = f"{entry['bytes'] / 1e6:,.1f} MB" if entry.get("bytes") else ""
    rate = f"{entry['docs_per_s']:,.0f} docs/s" if "docs_per_s" in entry else ""
    return f"{name:<16} {documents:>17} {size:>10} {rate:>13} {entry['wall_seconds']:>7.1f} s"
