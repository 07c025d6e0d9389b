"""Forecast charts drawn from forecast.json alone (docs/readme/forecast.md's format), so a report can be
rebuilt from any run directory without re-running the Monte Carlo.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from forecasts.report.safe import label
from forecasts.report.style import DEMAND, figure, layout, log_ticks, rgba, si, subplots, tier_color

BANDS = (("p2.5", "p97.5", 0.12, "95%"), ("p10", "p90", 0.28, "80%"))


def tier_unit(forecast: Mapping[str, Any], tier: str) -> str:
    """The tier's stock unit (tokens, words, images) as forecast.json's inputs state it."""
    units = ((forecast.get("inputs") or {}).get("units") or {}).get("stock") or {}
    return str(units.get(tier) or "tokens") if isinstance(units, dict) else "tokens"


def _series(block: Mapping[str, Any] | None, key: str) -> tuple[list[int], list[float | None]]:
    """Years and one quantile of a {YEAR: {p..: value}} block, in year order."""
    items = sorted(((int(y), q) for y, q in (block or {}).items() if isinstance(q, dict)), key=lambda t: t[0])
    return [y for y, _ in items], [q.get(key) for _, q in items]


def _band(fig: go.Figure, block: Mapping[str, Any], color: str, name: str, row: int, col: int,
          group: str, legend: bool) -> None:
    for lo_key, hi_key, alpha, level in BANDS:
        years, lo = _series(block, lo_key)
        _, hi = _series(block, hi_key)
        if not years or all(v is None for v in lo):
            continue
        fig.add_trace(go.Scatter(x=years, y=lo, mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False, legendgroup=group), row=row, col=col)
        fig.add_trace(go.Scatter(x=years, y=hi, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=rgba(color, alpha), name=f"{name}, {level} band", legendgroup=group,
                                 showlegend=legend, hoverinfo="skip"), row=row, col=col)


def _focus(data: Mapping[str, Any]) -> tuple[float, float] | None:
    """The y range (values) that shows the stock band and where demand enters it; demand may leave the top."""
    stock = data.get("stock") or {}
    lows = [v for v in _series(stock.get("effective"), "p2.5")[1] if v]
    highs = [v for v in _series(stock.get("effective"), "p97.5")[1] + _series(stock.get("raw"), "p50")[1] if v]
    demand = [v for v in _series(data.get("demand"), "p50")[1] if v]
    if not lows or not highs:
        return None
    return min(lows + demand[:1]) / 2, max(highs) * 3


def fan(forecast: Mapping[str, Any], cols: int = 3) -> go.Figure:
    """Per tier: effective stock and demand by year (median and 80%/95% bands), exhaustion year shaded."""
    tiers = list((forecast.get("tiers") or {}).items())
    cols = min(cols, len(tiers))
    rows = math.ceil(len(tiers) / cols)
    margin = {"l": 80, "r": 30, "t": 80, "b": 140}
    height = margin["t"] + margin["b"] + 330 * rows + 100 * (rows - 1)
    fig = subplots(rows=rows, cols=cols, subplot_titles=[f"tier: {label(t)}" for t, _ in tiers],
                   horizontal_spacing=0.1, vertical_spacing=100 / (height - margin["t"] - margin["b"]))
    for i, (tier, data) in enumerate(tiers):
        row, col = i // cols + 1, i % cols + 1
        color, unit, first = tier_color(tier, i), tier_unit(forecast, tier), i == 0
        stock = (data.get("stock") or {})
        _band(fig, stock.get("effective") or {}, color, "effective stock", row, col, f"stock-{tier}", first)
        _band(fig, data.get("demand") or {}, DEMAND, "demand", row, col, "demand", first)
        for block, name, dash, c in ((stock.get("effective"), "effective stock (median)", "solid", color),
                                     (stock.get("raw"), "raw stock (median)", "dot", color),
                                     (data.get("demand"), "demand: largest training run (median)", "dash", DEMAND)):
            years, mid = _series(block, "p50")
            if years:
                fig.add_trace(go.Scatter(
                    x=years, y=mid, mode="lines", name=name, line={"color": c, "dash": dash, "width": 2.2},
                    legendgroup=name, showlegend=first, customdata=[si(v) for v in mid],
                    hovertemplate=f"{label(tier)} · {name}<br>%{{x}}: %{{customdata}} {label(unit)}<extra></extra>"),
                    row=row, col=col)
        ex = data.get("exhaustion_year") or {}
        if ex.get("p10") is not None and ex.get("p90") is not None:
            fig.add_vrect(x0=ex["p10"], x1=ex["p90"], fillcolor=rgba(color, 0.10), line_width=0, row=row, col=col)
        if ex.get("p50") is not None:
            fig.add_vline(x=ex["p50"], line={"color": color, "dash": "dash", "width": 1.5}, row=row, col=col,
                          annotation={"text": f"median {ex['p50']:.1f}", "font": {"size": 11},
                                      "bgcolor": "rgba(255,255,255,0.85)"},
                          annotation_position="bottom right")
        focus = _focus(data)
        ticks = log_ticks(*focus) if focus else {}
        fig.update_yaxes(type="log", title_text=f"{label(unit)} (log scale)", row=row, col=col,
                         range=[math.log10(focus[0]), math.log10(focus[1])] if focus else None, **ticks)
        fig.update_xaxes(title_text="year (1 January)", tickformat="d", row=row, col=col)
    return layout(fig, height, title="Stock and demand by year (bands: 80% and 95% of draws; shaded: 80% interval "
                  "of the exhaustion year)", margin=margin, legend_below=True, legend_gap=62)


def exhaustion(forecast: Mapping[str, Any]) -> go.Figure:
    """P(demand has reached the effective stock) by year, per tier: the exhaustion-year distribution."""
    fig = figure()
    for i, (tier, data) in enumerate((forecast.get("tiers") or {}).items()):
        p = sorted(((int(y), v) for y, v in (data.get("p_exhausted_by") or {}).items() if v is not None))
        if not p:
            continue
        ex = data.get("exhaustion_year") or {}
        fig.add_trace(go.Scatter(
            x=[y for y, _ in p], y=[v for _, v in p], mode="lines+markers", name=label(tier),
            line={"color": tier_color(tier, i), "width": 2.5, "shape": "linear"}, marker={"size": 5},
            hovertemplate=f"{label(tier)}<br>P(exhausted by 1 Jan %{{x}}) = %{{y:.0%}}<extra></extra>"))
        quantiles = [(k, ex.get(k)) for k in ("p10", "p50", "p90") if ex.get(k) is not None]
        if quantiles:
            fig.add_trace(go.Scatter(
                x=[v for _, v in quantiles], y=[float(k[1:]) / 100 for k, _ in quantiles], mode="markers+text",
                marker={"symbol": "diamond", "size": 10, "color": tier_color(tier, i),
                        "line": {"color": "white", "width": 1}},
                text=[f"{v:.1f}" for _, v in quantiles], textposition="middle right", showlegend=False,
                hovertemplate=f"{label(tier)}: %{{y:.0%}} by %{{x:.1f}}<extra></extra>"))
    for level in (0.1, 0.5, 0.9):
        fig.add_hline(y=level, line={"dash": "dot", "color": "#9aa5b1", "width": 1})
    fig.update_xaxes(title_text="year (1 January)", tickformat="d")
    fig.update_yaxes(title_text="probability demand ≥ effective stock", tickformat=".0%", range=[0, 1.02])
    return layout(fig, 400, title="Exhaustion-year distribution (diamonds: 10%, 50%, 90% points)",
                  margin={"l": 80, "r": 30, "t": 100, "b": 60})


def comparison_rows(forecast: Mapping[str, Any], extra: Mapping[str, Mapping[str, Any]]
                    ) -> list[tuple[str, str, dict[str, Any]]]:
    """(variant, tier, exhaustion_year) for this forecast, its `comparison` variants and forecast-*.json files."""
    rows = [(f"{forecast.get('scenario') or 'this forecast'} (as run)", t, d.get("exhaustion_year") or {})
            for t, d in (forecast.get("tiers") or {}).items()]
    variants = ((forecast.get("comparison") or {}).get("variants") or {})
    for name, v in variants.items():
        rows += [(name, t, d.get("exhaustion_year") or {}) for t, d in (v.get("tiers") or {}).items()]
    for name, other in extra.items():
        rows += [(f"{other.get('scenario') or name}", t, d.get("exhaustion_year") or {})
                 for t, d in (other.get("tiers") or {}).items()]
    return rows


def scenarios(rows: Sequence[tuple[str, str, Mapping[str, Any]]], horizon: int | None) -> go.Figure:
    """Median exhaustion year and its 80% interval per scenario and tier, side by side."""
    fig = figure()
    tiers = list(dict.fromkeys(t for _, t, _ in rows))
    beyond = f"after {horizon}" if horizon else "beyond the horizon"
    for i, tier in enumerate(tiers):
        mine = [(v, ex) for v, t, ex in rows if t == tier]
        x, lo, hi, text = [], [], [], []
        for _, ex in mine:
            p10, p50, p90 = ex.get("p10"), ex.get("p50"), ex.get("p90")
            x.append(p50)
            lo.append(p50 - p10 if p50 is not None and p10 is not None else None)
            hi.append((p90 if p90 is not None else (horizon or p50)) - p50 if p50 is not None else None)
            text.append(f"{p50:.1f}" if p50 is not None else beyond)
        fig.add_trace(go.Scatter(
            y=[[label(v, 40) for v, _ in mine], [label(tier)] * len(mine)], x=x, mode="markers+text",
            name=label(tier), marker={"color": tier_color(tier, i), "size": 11, "symbol": "circle"},
            error_x={"type": "data", "array": hi, "arrayminus": lo, "color": tier_color(tier, i), "thickness": 2},
            text=text, textposition="top center",
            customdata=[[ex.get("p10"), ex.get("p90")] for _, ex in mine],
            hovertemplate="%{y}<br>median %{x:.1f}; 80% interval %{customdata[0]:.1f} – %{customdata[1]:.1f}"
                          "<extra></extra>"))
    fig.update_xaxes(title_text="exhaustion year (median; bars: 10%–90%)", tickformat="d")
    fig.update_yaxes(title_text="scenario · tier", autorange="reversed")
    return layout(fig, 140 + 48 * max(1, len(rows)), title="Scenarios side by side",
                  margin={"l": 240, "r": 40, "t": 90, "b": 60})


def tornado(sensitivity: Mapping[str, Any], max_inputs: int = 10) -> go.Figure | None:
    """How far the median exhaustion year moves when each input goes to either end of its interval."""
    base = sensitivity.get("baseline_p50") or {}
    panels = []
    for tier, rows in (sensitivity.get("tiers") or {}).items():
        rows = [r for r in rows or [] if r.get("p50_at_low") is not None or r.get("p50_at_high") is not None]
        if rows and base.get(tier) is not None:
            panels.append((tier, rows[:max_inputs], float(base[tier])))
    if not panels:
        return None
    margin, gap = {"l": 360, "r": 40, "t": 100, "b": 50}, 90
    px = [30 * len(rows) + 20 for _, rows, _ in panels]
    height = margin["t"] + margin["b"] + sum(px) + gap * (len(panels) - 1)
    fig = subplots(rows=len(panels), cols=1, row_heights=[p / sum(px) for p in px],
                   vertical_spacing=gap / (height - margin["t"] - margin["b"]),
                   subplot_titles=[f"tier: {label(t)} · baseline median {b:.1f}" for t, _, b in panels])
    for i, (_, rows, b) in enumerate(panels):
        names = [f"{label(r.get('label') or r.get('input'), 44)} ({_fmt(r.get('low'))} – {_fmt(r.get('high'))})"
                 for r in rows]
        for key, end, color in (("p50_at_low", "low", "#2f6db5"), ("p50_at_high", "high", "#c8472d")):
            fig.add_trace(go.Bar(
                y=names, x=[(r[key] - b) if r.get(key) is not None else None for r in rows], base=b,
                orientation="h", name=f"input at the {end} end of its interval", marker={"color": color},
                showlegend=i == 0, legendgroup=end, customdata=[[_fmt(r.get(end)), r.get(key)] for r in rows],
                hovertemplate="%{y} = %{customdata[0]}<br>median year %{customdata[1]:.2f}<extra></extra>"),
                row=i + 1, col=1)
        fig.add_vline(x=b, line={"color": "#1f2933", "width": 1.5}, row=i + 1, col=1)
        fig.update_yaxes(title_text="input", autorange="reversed", row=i + 1, col=1)
        fig.update_xaxes(title_text="median exhaustion year", tickformat=".1~f", row=i + 1, col=1)
    return layout(fig, height, barmode="overlay", title="Sensitivity of the median exhaustion year (tornado)",
                  margin=margin, legend_gap=32)


def _fmt(value: Any) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return si(value) if abs(value) >= 10_000 else f"{value:.3g}"
    return label(value, 30)
