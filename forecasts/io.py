"""forecast.parquet's long table of a forecast result (the flows' storage layer writes it and forecast.json)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

SCHEMA = pa.schema([
    ("scenario", pa.string()),
    ("tier", pa.string()),
    ("quantity", pa.string()),  # stock_raw | stock_effective | stock_usable | demand | p_exhausted_by | exhaustion_year
    ("method", pa.string()),  # exhaustion_year only: mixture | historical | compute
    ("year", pa.int32()),  # null for exhaustion_year rows
    ("stat", pa.string()),  # p2.5 .. p97.5 quantile key, or "p" for a probability
    ("value", pa.float64()),  # null where the quantile lies beyond the horizon
    ("unit", pa.string()),
])



def _rows(result: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    scenario = result["scenario"]
    units = result["inputs"]["units"]["stock"]
    for tier, t in result["tiers"].items():
        unit = units.get(tier, "tokens")
        bands = [("stock_raw", t["stock"]["raw"]), ("stock_effective", t["stock"]["effective"]),
                 ("stock_usable", t["stock"].get("usable")), ("demand", t["demand"])]
        for quantity, series in ((q, b) for q, b in bands if b is not None):
            for year, q in series.items():
                for stat, value in q.items():
                    yield scenario, tier, quantity, None, int(year), stat, value, unit
        for year, p in t["p_exhausted_by"].items():
            yield scenario, tier, "p_exhausted_by", None, int(year), "p", p, "probability"
        methods = result.get("exhaustion", {}).get(tier) or {"mixture": t["exhaustion_year"]}
        for method, qs in methods.items():
            for stat, value in qs.items():
                if stat.startswith("p") and stat[1:].replace(".", "").isdigit():
                    yield scenario, tier, "exhaustion_year", method, None, stat, value, "year"
    for lang, block in (result.get("languages") or {}).items():  # measured: per-language tiers as "zh:high"
        for tier, t in (block.get("tiers") or {}).items():
            for year, p in t["p_exhausted_by"].items():
                yield scenario, f"{lang}:{tier}", "p_exhausted_by", None, int(year), "p", p, "probability"
            for stat, value in t["exhaustion_year"].items():
                yield scenario, f"{lang}:{tier}", "exhaustion_year", "mixture", None, stat, value, "year"


def forecast_table(result: dict[str, Any]) -> pa.Table:
    """The forecast's numbers as one long table (one row per tier, quantity, year and statistic)."""
    cols = list(zip(*_rows(result), strict=True)) or [[] for _ in SCHEMA]
    return pa.Table.from_arrays([pa.array(list(c), type=f.type) for c, f in zip(cols, SCHEMA, strict=True)],
                                schema=SCHEMA)
