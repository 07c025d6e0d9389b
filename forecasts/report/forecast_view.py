"""The forecast charts of forecasts.charts, fed from forecast.json and fitted to the report.

The chart builders are the forecast module's; this adapter gives them a copy of forecast.json whose every
string is HTML-escaped (Plotly renders a subset of HTML in labels, and tier, scenario and input names come
from user files), assembles the scenario comparison, and narrows the fan chart's y-axes to the stock's range
so the crossing with demand stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from forecasts import charts as forecast_charts
from forecasts.report.safe import esc
from forecasts.report.style import FONT, log_ticks


def escaped(obj: Any) -> Any:
    """A deep copy with every string (keys too) HTML-escaped; numbers and structure unchanged."""
    if isinstance(obj, dict):
        return {esc(k) if isinstance(k, str) else k: escaped(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [escaped(v) for v in obj]
    return esc(obj) if isinstance(obj, str) else obj


def valid(forecast: Any) -> bool:
    """Whether a forecast.json holds at least one tier with the bands the charts draw."""
    tiers = forecast.get("tiers") if isinstance(forecast, dict) else None
    return bool(tiers) and all(
        isinstance(t, dict) and isinstance((t.get("stock") or {}).get("effective"), dict)
        and isinstance(t.get("demand"), dict) and isinstance(t.get("p_exhausted_by"), dict)
        and isinstance(t.get("exhaustion_year"), dict) for t in tiers.values())


def tier_unit(forecast: Mapping[str, Any], tier: str) -> str:
    """The tier's stock unit (tokens, words, images) as forecast.json's inputs state it."""
    units = ((forecast.get("inputs") or {}).get("units") or {}).get("stock") or {}
    return str(units.get(tier) or "tokens") if isinstance(units, dict) else "tokens"


def _finish(fig: go.Figure) -> go.Figure:
    """The report's font on a chart built elsewhere."""
    fig.update_layout(font={"family": FONT, "size": 13, "color": "#1f2933"}, hoverlabel={"font": {"family": FONT}})
    return fig


def _focus(tier: Mapping[str, Any]) -> tuple[float, float] | None:
    """Values spanning the effective stock's 95% band, the raw median and demand's first median: where the
    curves cross. Demand's later, steeper growth may leave the top."""
    stock = tier.get("stock") or {}

    def values(block: Any, key: str) -> list[float]:
        return [q[key] for q in (block or {}).values() if isinstance(q, dict) and (q.get(key) or 0) > 0]

    low, high = values(stock.get("effective"), "p2.5"), values(stock.get("effective"), "p97.5")
    demand = [q["p50"] for _, q in sorted((tier.get("demand") or {}).items()) if (q.get("p50") or 0) > 0]
    if not low or not high:
        return None
    return min(low + demand[:1]) / 2, max(high + values(stock.get("raw"), "p50")) * 3


def fan(forecast: Mapping[str, Any]) -> go.Figure:
    """forecasts.charts.fan_chart, one panel per tier, each y-axis fitted to its stock."""
    fig = forecast_charts.fan_chart(escaped(forecast))
    for row, tier in enumerate(forecast["tiers"].values(), start=1):
        if focus := _focus(tier):
            fig.update_yaxes(range=[math.log10(focus[0]), math.log10(focus[1])], row=row, col=1,
                             **log_ticks(*focus))
    return _finish(fig)


def exhaustion(forecast: Mapping[str, Any]) -> go.Figure:
    return _finish(forecast_charts.exhaustion_chart(escaped(forecast)))


def comparison(forecast: Mapping[str, Any], extra: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """compare_scenarios' shape from forecast.json's `comparison` (if any), else this forecast as run, plus
    every forecast-*.json beside it."""
    variants = dict((forecast.get("comparison") or {}).get("variants") or {})
    if not variants:
        variants[f"{forecast.get('scenario') or 'forecast'} (as run)"] = {"tiers": forecast["tiers"]}
    for name, other in extra.items():
        variants[str(other.get("scenario") or name)] = {"tiers": other.get("tiers") or {}}
    return {"scenario": forecast.get("scenario") or "forecast", "variants": variants}


def scenarios(forecast: Mapping[str, Any], extra: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """forecasts.charts.scenario_comparison with one row per variant × tier: its tiers share a row per variant
    (Plotly's scattermode "group" does not offset horizontal dot plots), so the intervals overlapped."""
    fig = forecast_charts.scenario_comparison(escaped(comparison(forecast, extra)))
    rows = 0
    for trace in fig.data:
        if trace.type == "scatter" and trace.y is not None:
            trace.y = [list(trace.y), [trace.name] * len(trace.y)]
            rows += len(trace.y[0])
    fig.update_yaxes(categoryorder="trace", categoryarray=None, autorange="reversed")
    fig.update_layout(height=180 + 30 * rows)
    return _finish(fig)


def tornadoes(forecast: Mapping[str, Any]) -> list[go.Figure]:
    """One sensitivity tornado per tier that has rows."""
    sens = forecast.get("sensitivity") or {}
    safe = escaped(forecast)
    figures = []
    for tier, rows in (sens.get("tiers") or {}).items():
        if rows and (sens.get("baseline_p50") or {}).get(tier) is not None:
            fig = forecast_charts.tornado(safe, esc(tier))
            fig.update_yaxes(title_text="input")
            figures.append(_finish(fig))
    return figures
