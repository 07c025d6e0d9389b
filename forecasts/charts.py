"""Plotly figures for a forecast result (the dict `run_forecast` returns; forecast.json reloaded works too).

Each builder returns a `plotly.graph_objects.Figure`; the report embeds them. Colours are fixed per
tier (TIER_COLORS) so the same tier looks the same in every chart.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

TIER_COLORS: dict[str, str] = {
    "public_text": "#1f77b4",
    "high": "#2ca02c",
    "medium": "#ff7f0e",
    "low": "#d62728",
    "medium_or_better": "#ff7f0e",
    "low_or_better": "#d62728",
    "total": "#7f7f7f",
    "high_quality_language": "#2ca02c",
    "low_quality_language": "#d62728",
    "images": "#9467bd",
}
DEMAND_COLOR = "#444444"
LOW_END_COLOR = "#4c78a8"  # tornado: input at the low end of its interval
HIGH_END_COLOR = "#f58518"  # tornado: input at the high end
_FALLBACK = ("#17becf", "#bcbd22", "#8c564b", "#e377c2", "#1f77b4", "#ff7f0e")


def tier_label(tier: str) -> str:
    """Cumulative tiers in words ("medium or better"), other names with spaces for underscores."""
    return {"medium_or_better": "medium or better", "low_or_better": "low or better"}.get(tier, tier.replace("_", " "))


def tier_color(tier: str) -> str:
    """The tier's colour; unknown tiers get a stable colour from their name."""
    return TIER_COLORS.get(tier, _FALLBACK[zlib.crc32(tier.encode()) % len(_FALLBACK)])


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _unit(result: Mapping[str, Any], tier: str) -> str:
    return str(result.get("inputs", {}).get("units", {}).get("stock", {}).get(tier, "tokens"))


def _band_traces(series: Mapping[str, Mapping[str, float]], color: str, name: str, group: str,
                 show_legend: bool) -> list[go.Scatter]:
    """Median line with 80% (p10-p90) and 95% (p2.5-p97.5) bands of a {YEAR: Q} series."""
    years = [int(y) for y in series]
    col = {k: [series[y][k] for y in series] for k in ("p2.5", "p10", "p50", "p90", "p97.5")}
    traces: list[go.Scatter] = []
    for lo, hi, alpha, label in (("p2.5", "p97.5", 0.12, "95%"), ("p10", "p90", 0.25, "80%")):
        traces.append(go.Scatter(x=years, y=col[lo], mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=group))
        traces.append(go.Scatter(x=years, y=col[hi], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(color, alpha), name=f"{name} ({label} interval)",
                                 legendgroup=group, showlegend=False, hoverinfo="skip"))
    traces.append(go.Scatter(x=years, y=col["p50"], mode="lines", line={"color": color, "width": 2},
                             name=f"{name} (median, bands 80%/95%)", legendgroup=group, showlegend=show_legend))
    return traces


def fan_chart(result: Mapping[str, Any], tiers: list[str] | None = None) -> go.Figure:
    """Effective stock and demand bands by year, one panel per tier, with the exhaustion interval shaded."""
    names = tiers or list(result["tiers"])
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[f"{tier_label(t)} ({_unit(result, t)})" for t in names])
    for row, tier in enumerate(names, start=1):
        t = result["tiers"][tier]
        color, unit = tier_color(tier), _unit(result, tier)
        for trace in _band_traces(t["stock"]["effective"], color, f"{tier_label(tier)}: effective stock",
                                  f"stock-{tier}", True):
            fig.add_trace(trace, row=row, col=1)
        for trace in _band_traces(t["demand"], DEMAND_COLOR, f"{tier_label(tier)}: largest training dataset",
                                  f"demand-{tier}", True):
            fig.add_trace(trace, row=row, col=1)
        raw = t["stock"]["raw"]
        fig.add_trace(go.Scatter(x=[int(y) for y in raw], y=[q["p50"] for q in raw.values()], mode="lines",
                                 line={"color": color, "dash": "dot"}, name=f"{tier_label(tier)}: raw stock (median)",
                                 legendgroup=f"stock-{tier}"), row=row, col=1)
        ex = t["exhaustion_year"]
        if ex.get("p10") is not None and ex.get("p90") is not None:
            fig.add_vrect(x0=ex["p10"], x1=ex["p90"], fillcolor=_rgba(color, 0.08), line_width=0, row=row, col=1)
        if ex.get("p50") is not None:
            fig.add_vline(x=ex["p50"], line={"color": color, "dash": "dash"}, row=row, col=1,
                          annotation_text=f"median exhaustion {ex['p50']:.1f}", annotation_position="top left")
        fig.update_yaxes(type="log", title_text=f"{unit} (log scale)", row=row, col=1)
    fig.update_xaxes(title_text="year (1 January)", row=len(names), col=1)
    fig.update_layout(title=f"{result['scenario']}: effective stock vs. largest training dataset",
                      height=max(420, 340 * len(names)), template="plotly_white", hovermode="x unified")
    return fig


def exhaustion_chart(result: Mapping[str, Any]) -> go.Figure:
    """Distribution of the exhaustion year per tier: yearly probability (bars) and cumulative (lines)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.45, 0.55],
                        subplot_titles=["probability that demand first reaches the stock during the year",
                                        "probability of exhaustion by 1 January"])
    for tier, t in result["tiers"].items():
        color = tier_color(tier)
        years = [int(y) for y in t["p_exhausted_by"]]
        cdf = list(t["p_exhausted_by"].values())
        per_year = [b - a for a, b in zip(cdf[:-1], cdf[1:], strict=True)]
        ex = t["exhaustion_year"]
        marks = [(ex.get(k), p) for k, p in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)) if ex.get(k) is not None]
        # The 10/50/90% years go into the legend, not next to the markers: the tiers' markers sit close
        # together and their labels would overlap.
        quantiles = ", ".join(f"{round(p * 100)}%: {x:.1f}" for x, p in marks)
        name = f"{tier_label(tier)} ({quantiles})" if quantiles else tier_label(tier)
        fig.add_trace(go.Bar(x=years[:-1], y=per_year, marker_color=color, name=name, legendgroup=tier,
                             offsetgroup=tier, hovertemplate="%{x}: %{y:.1%}<extra>" + tier + "</extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=years, y=cdf, mode="lines", line={"color": color}, name=tier, legendgroup=tier,
                                 showlegend=False), row=2, col=1)
        if marks:
            fig.add_trace(go.Scatter(x=[m[0] for m in marks], y=[m[1] for m in marks], mode="markers",
                                     marker={"color": color, "size": 8}, legendgroup=tier, showlegend=False,
                                     hovertemplate="p%{y:.0%}: %{x:.2f}<extra>" + tier + "</extra>"), row=2, col=1)
    fig.update_yaxes(title_text="probability", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text="cumulative probability", tickformat=".0%", range=[0, 1.02], row=2, col=1)
    fig.update_xaxes(title_text="year", row=2, col=1)
    fig.update_layout(title=f"{result['scenario']}: when demand reaches the effective stock", barmode="group",
                      template="plotly_white", height=620)
    return fig


def scenario_comparison(comparison: Mapping[str, Any]) -> go.Figure:
    """Median exhaustion year and 80% interval per variant (Chinchilla, overtraining, epochs) and tier."""
    fig = go.Figure()
    variants = list(comparison["variants"])
    tiers = list(dict.fromkeys(t for v in comparison["variants"].values() for t in v["tiers"]))
    for tier in tiers:
        xs, ys, lo, hi = [], [], [], []
        for label in variants:
            ex = comparison["variants"][label]["tiers"].get(tier, {}).get("exhaustion_year", {})
            if ex.get("p50") is None:
                continue
            xs.append(ex["p50"])
            ys.append(label)
            lo.append(ex["p50"] - ex["p10"] if ex.get("p10") is not None else 0.0)
            hi.append(ex["p90"] - ex["p50"] if ex.get("p90") is not None else 0.0)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=tier_label(tier), marker={"color": tier_color(tier), "size": 10},
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "thickness": 2},
            hovertemplate="%{y}: median %{x:.1f}<extra>" + tier + "</extra>"))
    fig.update_layout(title=f"{comparison['scenario']}: exhaustion year by training regime (median, 80% interval)",
                      xaxis_title="year of full use of the effective stock", yaxis_title="variant",
                      yaxis={"categoryorder": "array", "categoryarray": variants[::-1]},
                      template="plotly_white", height=160 + 60 * len(variants), scattermode="group")
    return fig


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def tornado(result: Mapping[str, Any], tier: str | None = None, top: int = 12) -> go.Figure:
    """How far the median exhaustion year moves when each input sits at either end of its interval."""
    sens = result["sensitivity"]
    tier = tier or next(iter(sens["tiers"]))
    base = sens["baseline_p50"][tier]
    rows = [r for r in sens["tiers"][tier] if r["p50_at_low"] is not None and r["p50_at_high"] is not None][:top]
    rows = rows[::-1]  # plotly draws the first category at the bottom; the widest bar goes on top
    labels = [r["label"] for r in rows]
    fig = go.Figure()
    for end, color, key in (("low", LOW_END_COLOR, "p50_at_low"), ("high", HIGH_END_COLOR, "p50_at_high")):
        fig.add_trace(go.Bar(
            y=labels, x=[r[key] - base for r in rows], base=base, orientation="h", marker_color=color,
            name=f"input at {end} end of its interval", customdata=[[_fmt(r[end]), r[key]] for r in rows],
            hovertemplate="%{y}<br>input = %{customdata[0]}<br>median year %{customdata[1]:.2f}<extra></extra>"))
    fig.add_vline(x=base, line={"color": "#333333"}, annotation_text=f"baseline median {base:.2f}")
    fig.update_layout(title=f"{result['scenario']} / {tier}: sensitivity of the median exhaustion year",
                      xaxis_title="median exhaustion year", barmode="overlay", template="plotly_white",
                      height=200 + 32 * len(rows), margin={"l": 320})
    return fig
