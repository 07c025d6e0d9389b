"""Shared look of every report chart: tier colours, fonts, number formats, so sections read as one document."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from forecasts import charts as forecast_charts
from forecasts.units import si

# Tier colours come from the forecast charts (forecasts.charts.TIER_COLORS) so a tier looks the same in
# every chart of the report; the report adds its own pseudo-tiers.
REPORT_COLORS = {"unscored": "#8d8d8d", "all tiers": "#2f3e55"}
NEUTRAL = "#52606d"
LIGHT = "#c5ccd3"
DEMAND = "#343a40"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def tier_color(tier: str) -> str:
    """A tier's colour, the same in every chart (the forecast charts' palette)."""
    return REPORT_COLORS.get(tier) or forecast_charts.tier_color(tier)


def rgba(hex_color: str, alpha: float) -> str:
    """`#rrggbb` with transparency, for bands and lighter 'raw' bars."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def figure(*traces: go.BaseTraceType) -> go.Figure:
    """A figure with an empty template: plotly.py deep-copies and validates a named template on every figure
    (most of a report's build time); the real one is added to the JSON once per chart (`template_json`)."""
    return go.Figure(data=list(traces), layout={"template": {}})


def subplots(**kwargs: Any) -> go.Figure:
    """make_subplots on a template-free figure (see `figure`)."""
    return make_subplots(figure=figure(), **kwargs)


@lru_cache(maxsize=1)
def template_json() -> dict[str, Any]:
    """plotly_white as plain JSON, for Charts to merge into every serialised figure."""
    return json.loads(pio.json.to_json_plotly(pio.templates["plotly_white"].to_plotly_json()))


def layout(fig: go.Figure, height: int, *, title: str | None = None, margin: dict[str, int] | None = None,
           legend_gap: int = 8, legend_below: bool = False, **kwargs: object) -> go.Figure:
    """The common layout: system font, title pinned top-left, horizontal legend `legend_gap` px above the plot
    area (clear of subplot titles) or below it; plotly_white is merged in at serialisation."""
    m = {"l": 70, "r": 30, "t": 60, "b": 60} | (margin or {})
    plot_h = max(1, height - m["t"] - m["b"])
    legend = {"orientation": "h", "xanchor": "left", "x": 0, "yanchor": "bottom", "y": 1 + legend_gap / plot_h}
    if legend_below:
        legend |= {"yanchor": "top", "y": -legend_gap / plot_h}
    fig.update_layout(
        height=height,
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        margin=m,
        legend=legend,
        hoverlabel={"font": {"family": FONT}},
        separators=".,",
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xref": "container", "xanchor": "left", "y": 1,
                                 "yref": "container", "yanchor": "top", "pad": {"t": 14, "l": 12},
                                 "font": {"size": 16}})
    fig.update_layout(**kwargs)
    return fig


def log_ticks(lo: float, hi: float) -> dict[str, Any]:
    """One labelled tick per decade on a log axis, in words readers of token counts use (100B, 1T, 2,000T…)."""
    first, last = math.floor(math.log10(max(lo, 1e-300))), math.ceil(math.log10(max(hi, 1e-300)))
    vals = [10.0 ** k for k in range(first, last + 1)]

    def text(k: int) -> str:
        if 15 <= k <= 16:
            return f"{10 ** (k - 12):,}T"
        return si(10.0 ** k) if 0 <= k < 15 else f"10<sup>{k}</sup>"

    return {"tickvals": vals, "ticktext": [text(k) for k in range(first, last + 1)]}
