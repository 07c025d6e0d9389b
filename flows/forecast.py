"""forecast: when does training demand meet the stock of usable text, per quality tier?"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.crawl_sample import DEFAULT_OUT
from forecasts import run_forecast, write_forecast


@flow(name="forecast", log_prints=True)
def forecast(
    out: str = DEFAULT_OUT,
    scenario: str = "measured",
    stocks: str | None = None,
    overtrain: float | None = None,
    epochs: float | None = None,
    draws: int = 100_000,
    seed: int = 0,
) -> dict:
    """Monte Carlo depletion forecast; writes OUT/forecast.json and OUT/forecast.parquet.

    Args:
        out: Run directory (its stocks.json feeds the measured scenario).
        scenario: Scenario name (epoch2024, epoch2022, measured) or a path to a scenario YAML.
        stocks: A stocks.json to use instead of OUT/stocks.json.
        overtrain: Overtraining factor k (tokens per parameter = 20k).
        epochs: Epochs of reuse of the stock (multi-epoch training).
        draws: Monte Carlo draws.
        seed: Seed of the Monte Carlo draws.
    """
    stocks_path = Path(stocks) if stocks else Path(out) / "stocks.json"
    result = run_forecast(scenario, stocks_path=stocks_path if stocks_path.exists() else None,
                          overtrain=overtrain, epochs=epochs, draws=draws, seed=seed, with_comparison=True)
    write_forecast(result, Path(out))
    return result
