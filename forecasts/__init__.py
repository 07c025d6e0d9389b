"""Depletion forecasts: when does training demand meet the stock of usable human text?

Public API (the `flows run forecast` flow calls run_forecast and writes through its storage layer):

- run_forecast(scenario, stocks_path=None, overtrain=None, epochs=None, draws=100_000, seed=0) -> dict
- forecast_table(result) -> pyarrow.Table  (forecast.parquet's rows)
- compare_scenarios(scenario, variants=None, ...) -> dict  (Chinchilla vs overtraining vs multi-epoch)
- forecasts.charts: fan_chart, exhaustion_chart, scenario_comparison, tornado, TIER_COLORS (imports plotly)
"""

from forecasts.io import forecast_table
from forecasts.model import DEFAULT_VARIANTS, compare_scenarios, run_forecast, sensitivity, simulate
from forecasts.scaling import chinchilla_compute, chinchilla_tokens, muennighoff_effective, muennighoff_multiplier
from forecasts.scenario import load_scenario
from forecasts.trends import fit_crawl_growth, fit_dataset_trend

__all__ = [
    "DEFAULT_VARIANTS",
    "chinchilla_compute",
    "chinchilla_tokens",
    "compare_scenarios",
    "fit_crawl_growth",
    "fit_dataset_trend",
    "forecast_table",
    "load_scenario",
    "muennighoff_effective",
    "muennighoff_multiplier",
    "run_forecast",
    "sensitivity",
    "simulate",
]
