"""Speed of the depletion forecast: Monte Carlo core, summaries and the tornado, by draws and scenario.

Run: .venv/bin/python -m benchmarks.forecast [--repeat 3]
Prints a Markdown table (best of --repeat runs, seconds) to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date

from forecasts.model import sensitivity, simulate, summarize
from forecasts.scenario import load_scenario


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {date.today()}")
    print("| scenario | tiers x years | draws | simulate (s) | + summaries (s) | tornado (s) |")
    print("|---|---|---|---|---|---|")
    for name in ("epoch2024", "epoch2022"):
        scn = load_scenario(name)
        shape = f"{len(scn.tiers)} x {scn.years[1] - scn.years[0] + 1}"
        for draws in (10_000, 100_000, 1_000_000):
            sim_s = best(lambda scn=scn, draws=draws: simulate(scn, draws, 0), args.repeat)

            def full(scn=scn, draws=draws) -> None:
                sims, sampler = simulate(scn, draws, 0)
                summarize(scn, sims, sampler, draws, 0, 0.0)

            full_s = best(full, args.repeat)
            tor = f"{best(lambda scn=scn: sensitivity(scn), 1):.2f}" if draws == 100_000 else ""
            print(f"| {name} | {shape} | {draws:,} | {sim_s:.3f} | {full_s:.3f} | {tor} |")


if __name__ == "__main__":
    main()
