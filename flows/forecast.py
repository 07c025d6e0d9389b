"""forecast: when does training demand meet the stock of usable text, per quality tier?"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from prefect import flow

from flows import storage
from flows.crawl_sample import DEFAULT_OUT
from flows.lock import holds_run_dir
from flows.rundir import RunDir, write_table
from forecasts import forecast_table, run_forecast


@flow(name="forecast", log_prints=True)
@holds_run_dir
def forecast(
    out: str = DEFAULT_OUT,
    scenario: str = "measured",
    stocks: str | None = None,
    overtrain: float | None = None,
    epochs: float | None = None,
    draws: int = 100_000,
    seed: int = 0,
    storage_options: str | None = None,
    wait: bool = False,
) -> dict:
    """Monte Carlo depletion forecast; writes OUT/forecast.json and OUT/forecast.parquet.

    Args:
        out: Run directory (its stocks.json and stock_replicates.parquet feed the measured scenario).
        scenario: Scenario name (epoch2024, epoch2022, measured) or a path to a scenario YAML.
        stocks: A stocks.json to use instead of OUT/stocks.json.
        overtrain: Overtraining factor k (tokens per parameter = 20k).
        epochs: Epochs of reuse of the stock (multi-epoch training).
        draws: Monte Carlo draws.
        seed: Seed of the Monte Carlo draws.
        storage_options: JSON options of the --out file system, e.g. '{"endpoint_url": "http://h:9000"}'.
        wait: Wait for another writer of --out to finish instead of refusing to start.
    """
    run = RunDir(out)
    source = stocks or run.path("stocks.json")
    with tempfile.TemporaryDirectory(prefix="peakdata-forecast-") as scratch:
        stocks_path = _local_stocks(source, Path(scratch))
        result = run_forecast(scenario, stocks_path=stocks_path, overtrain=overtrain, epochs=epochs, draws=draws,
                              seed=seed, with_comparison=True)
    write_forecast(result, out)
    return result


def write_forecast(result: dict, out: str) -> None:
    """OUT/forecast.json (the whole result) and OUT/forecast.parquet (its numbers), through the storage layer."""
    run = RunDir(out)
    storage.write_text(run.path("forecast.json"), json.dumps(result, indent=1, allow_nan=False) + "\n")
    write_table(run.path("forecast.parquet"), forecast_table(result))


def _local_stocks(source: str, scratch: Path) -> Path | None:
    """stocks.json as a local file, with the replicates file it names beside it (copied from an object store)."""
    if not storage.exists(source):
        return None
    if not storage.is_url(source):
        return Path(storage.absolute(source))
    data = storage.read_bytes(source)
    (scratch / "stocks.json").write_bytes(data)
    supply = json.loads(data).get("supply") or {}
    replicates = storage.join(storage.parent(source), str(supply.get("replicates_file") or "stock_replicates.parquet"))
    if storage.exists(replicates):
        (scratch / storage.name(replicates)).write_bytes(storage.read_bytes(replicates))
    return scratch / "stocks.json"
