"""forecast.json / forecast.parquet writers (atomic: temp file in the target folder, then os.replace)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temp file in the same folder and rename over `path`, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def write_forecast(result: dict[str, Any], out_dir: Path) -> None:
    """Write `out_dir/forecast.json` (the whole result) and `out_dir/forecast.parquet` (its numbers)."""
    out_dir = Path(out_dir)
    text = json.dumps(result, indent=1, allow_nan=False) + "\n"
    _atomic(out_dir / "forecast.json", lambda p: p.write_text(text, encoding="utf-8"))
    table = forecast_table(result)
    _atomic(out_dir / "forecast.parquet", lambda p: pq.write_table(table, p))
