"""Plotly figures of the run itself: funnel, drop reasons, quality, stocks, reference sizes, stage costs.

Inputs are the small aggregates from `rundata`; every data string reaching a figure goes through
`safe.label` (Plotly renders a subset of HTML in labels). Each figure carries its own title and axis units
so it reads without hovering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import polars as pl

from forecasts.report.labels import Signal, signal
from forecasts.report.rundata import QUANTILES, Quality, tier_order
from forecasts.report.safe import label
from forecasts.report.style import DEMAND, LIGHT, NEUTRAL, figure, layout, log_ticks, rgba, subplots, tier_color
from forecasts.units import si

_Q = [f"q{round(q * 100):02d}" for q in QUANTILES]  # q05 q25 q50 q75 q95
BOX_NOTE = "boxes: 25–75%, line: median, whiskers: 5–95%"


@dataclass(frozen=True)
class Stage:
    """One funnel step: what is left after it, in documents (and tokens when counted)."""

    name: str
    documents: int
    tokens: int | None
    color: str


def funnel(stages: Sequence[Stage], token_unit: str | None) -> go.Figure:
    """Documents (and tokens) left after each pipeline step, with the share of the first step kept."""
    with_tokens = token_unit is not None and any(s.tokens is not None for s in stages)
    cols = 2 if with_tokens else 1
    titles = ["documents left after each step"] + ([f"tokens left ({label(token_unit)})"] if with_tokens else [])
    fig = subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.2)
    names = [label(s.name) for s in stages]
    fig.add_trace(go.Funnel(
        y=names, x=[s.documents for s in stages], marker={"color": [s.color for s in stages]},
        texttemplate="%{value:,} (%{percentInitial:.1%})", textposition="inside",
        hovertemplate="%{y}<br>%{x:,} documents<br>%{percentInitial:.1%} of the first step<extra></extra>",
        connector={"fillcolor": "#eef1f4"}, name="documents"), row=1, col=1)
    if with_tokens:
        tok = [s for s in stages if s.tokens is not None]
        fig.add_trace(go.Funnel(
            y=[label(s.name) for s in tok], x=[s.tokens for s in tok], marker={"color": [s.color for s in tok]},
            customdata=[si(s.tokens) for s in tok],
            texttemplate="%{customdata} (%{percentInitial:.1%})", textposition="inside",
            hovertemplate="%{y}<br>%{x:,} tokens<br>%{percentInitial:.1%} of the documents' tokens<extra></extra>",
            connector={"fillcolor": "#eef1f4"}, name="tokens"), row=1, col=2)
        fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_xaxes(title_text="documents", row=1, col=1)
    fig.update_yaxes(title_text="step", row=1, col=1)
    if with_tokens:
        fig.update_xaxes(title_text=f"tokens ({label(token_unit)})", row=1, col=2)
    return layout(fig, 120 + 55 * len(stages), showlegend=False, margin={"l": 170, "r": 30, "t": 50, "b": 50})


def reasons(rows: Sequence[tuple[str, str, int]]) -> go.Figure:
    """Records that yielded no document, by kind (dropped, error, …) and reason, largest first."""
    kinds = {"dropped": "#8d8d8d", "error": "#c8472d", "file error": "#8b1e12"}
    rows = sorted(rows, key=lambda r: r[2])
    fig = figure()
    for kind, color in kinds.items():
        mine = [r for r in rows if r[0] == kind]
        if mine:
            fig.add_trace(go.Bar(
                y=[f"{label(kind)}: {label(r[1])}" for r in mine], x=[r[2] for r in mine], orientation="h",
                marker={"color": color}, name=kind, text=[f"{r[2]:,}" for r in mine], textposition="outside",
                cliponaxis=False, hovertemplate="%{y}<br>%{x:,} records<extra></extra>"))
    fig.update_xaxes(title_text="records", rangemode="tozero")
    fig.update_yaxes(title_text="kind: reason", categoryorder="array",
                     categoryarray=[f"{label(r[0])}: {label(r[1])}" for r in rows])
    return layout(fig, 130 + 26 * len(rows), title="Records without a document, by reason",
                  margin={"l": 230, "r": 60, "t": 80, "b": 50})


def score_histogram(q: Quality, thresholds: Mapping[str, float]) -> go.Figure:
    """quality_score distribution stacked by tier, with the tier thresholds drawn where they cut."""
    hist = q.score_hist
    assert hist is not None
    fig = figure()
    for tier in tier_order(hist["tier"].unique().to_list()):
        part = hist.filter(pl.col("tier") == tier)
        lo, hi = part["bin_lo"].to_list(), part["bin_hi"].to_list()
        fig.add_trace(go.Bar(
            x=[(a + b) / 2 for a, b in zip(lo, hi)], y=part["documents"].to_list(),
            width=[b - a for a, b in zip(lo, hi)],
            name=label(tier), marker={"color": tier_color(tier), "line": {"width": 0}},
            customdata=list(zip(lo, hi)),
            hovertemplate=f"{label(tier)}<br>score %{{customdata[0]:.3g}} to %{{customdata[1]:.3g}}"
                          "<br>%{y:,} documents<extra></extra>"))
    # the lowest threshold's label extends left of its line, the others' right: close thresholds never overlap
    for k, (name, value) in enumerate(sorted(thresholds.items(), key=lambda kv: kv[1])):
        fig.add_vline(x=value, line={"dash": "dash", "color": "#1f2933", "width": 1.5},
                      annotation={"text": f"{label(name)} threshold = {value:.3g}", "font": {"size": 12},
                                  "bgcolor": "rgba(255,255,255,0.8)"},
                      annotation_position="top left" if k == 0 and len(thresholds) > 1 else "top right")
    fig.update_xaxes(title_text="quality_score (higher = better; unitless)")
    fig.update_yaxes(title_text="documents")
    return layout(fig, 380, barmode="stack", bargap=0, title="Distribution of quality_score by tier",
                  legend_traceorder="normal",
                  margin={"l": 70, "r": 30, "t": 110, "b": 60})


def score_by_language(q: Quality, langs: list[str]) -> go.Figure:
    """Per language: the spread of quality_score, and what share of its documents lands in each tier."""
    fig = subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.12,
                        subplot_titles=[f"quality_score by language ({BOX_NOTE})", "tier mix by language"])
    order = [lang for lang in [*langs, "other", "unknown"]
             if q.tier_by_lang is not None and lang in q.tier_by_lang["lang"].to_list()]
    if q.score_by_lang is not None:
        by = {r["lang"]: r for r in q.score_by_lang.to_dicts()}
        present = [lang for lang in order if lang in by]
        fig.add_trace(go.Box(
            x=[label(lang) for lang in present], q1=[by[lang]["quality_score__q25"] for lang in present],
            median=[by[lang]["quality_score__q50"] for lang in present],
            q3=[by[lang]["quality_score__q75"] for lang in present],
            lowerfence=[by[lang]["quality_score__q05"] for lang in present],
            upperfence=[by[lang]["quality_score__q95"] for lang in present],
            marker={"color": NEUTRAL}, fillcolor=rgba(NEUTRAL, 0.25), line={"color": NEUTRAL}, showlegend=False,
            name="quality_score", hoverinfo="x+y"), row=1, col=1)
    fig.update_yaxes(title_text="quality_score (unitless)", row=1, col=1)
    fig.update_xaxes(title_text="language (ISO 639-1)", row=1, col=1)
    if q.tier_by_lang is not None:
        mix = q.tier_by_lang.with_columns(share=pl.col("documents") / pl.col("documents").sum().over("lang"))
        for tier in tier_order(mix["tier"].unique().to_list()):
            part = {r["lang"]: r for r in mix.filter(pl.col("tier") == tier).to_dicts()}
            fig.add_trace(go.Bar(
                y=[label(lang) for lang in order], x=[part.get(lang, {}).get("share", 0) for lang in order],
                customdata=[part.get(lang, {}).get("documents", 0) for lang in order], orientation="h",
                name=label(tier), marker={"color": tier_color(tier)},
                hovertemplate=f"%{{y}} · {label(tier)}<br>%{{x:.1%}} of documents (%{{customdata:,}})<extra></extra>"),
                row=1, col=2)
        fig.update_xaxes(title_text="share of the language's documents", tickformat=".0%", range=[0, 1],
                         row=1, col=2)
        fig.update_yaxes(title_text="language", autorange="reversed", row=1, col=2)
    return layout(fig, 420, barmode="stack", legend_gap=32, legend_traceorder="normal",
                  margin={"l": 70, "r": 30, "t": 90, "b": 60})


def _axis_range(values: list[float], bounds: Signal) -> list[float] | None:
    """A y-range around the drawn quantiles (and thresholds), padded, never past a true bound by more than the
    padding: a fraction's axis stays near 0–1, a count's does not go far below 0."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 0.05)
    lo, hi = lo - pad, hi + pad
    if bounds.low is not None:
        lo = max(lo, bounds.low - pad)
    if bounds.high is not None:
        hi = min(hi, bounds.high + pad)
    return [lo, hi]


def signals_grid(q: Quality, thresholds: Mapping[str, float], cols: int = 3) -> go.Figure:
    """Small multiples: each varying heuristic signal's distribution by tier (buttons switch to by language),
    titled in words, its y-axis in the signal's unit and fitted to what is drawn."""
    assert q.signal_by_tier is not None and q.signal_by_lang is not None
    rows = math.ceil(len(q.signals) / cols)
    meta = {s: signal(s) for s in q.signals}
    titles = [f"{label(meta[s].name, 48)}<br><span style=\"font-size:10px;color:#7b8794\">{label(s, 48)}</span>"
              for s in q.signals]
    fig = subplots(rows=rows, cols=cols, subplot_titles=titles,
                   vertical_spacing=min(0.14, 0.45 / rows), horizontal_spacing=0.09)
    tiers = {r["tier"]: r for r in q.signal_by_tier.to_dicts()}
    tier_names = tier_order(list(tiers))
    langs = {r["lang"]: r for r in q.signal_by_lang.sort(["documents", "lang"], descending=[True, False])
             .to_dicts()}
    by_tier: list[bool] = []
    for i, signal_name in enumerate(q.signals):
        row, col = i // cols + 1, i % cols + 1
        drawn: list[float] = []
        for tier in tier_names:
            stats = [tiers[tier][f"{signal_name}__{k}"] for k in _Q]
            if None in stats:  # no finite value of this signal in this tier
                stats = [None] * len(_Q)
            drawn += [v for v in stats if v is not None]
            fig.add_trace(go.Box(
                x=[label(tier)], lowerfence=[stats[0]], q1=[stats[1]], median=[stats[2]], q3=[stats[3]],
                upperfence=[stats[4]], name=label(tier), legendgroup=tier, showlegend=i == 0,
                marker={"color": tier_color(tier)}, line={"color": tier_color(tier)},
                fillcolor=rgba(tier_color(tier), 0.35), hoverinfo="y"), row=row, col=col)
            by_tier.append(True)
        lang_names = [lang for lang in langs if None not in [langs[lang][f"{signal_name}__{k}"] for k in _Q]]
        lang_stats = {k: [langs[lang][f"{signal_name}__{k}"] for lang in lang_names] for k in _Q}
        drawn += [v for k in ("q05", "q95") for v in lang_stats[k]]
        fig.add_trace(go.Box(
            x=[label(lang) for lang in lang_names], lowerfence=lang_stats["q05"], q1=lang_stats["q25"],
            median=lang_stats["q50"], q3=lang_stats["q75"], upperfence=lang_stats["q95"],
            name="by language", legendgroup="lang", showlegend=i == 0, visible=False,
            marker={"color": NEUTRAL}, line={"color": NEUTRAL}, fillcolor=rgba(NEUTRAL, 0.25), hoverinfo="x+y"),
            row=row, col=col)
        by_tier.append(False)
        if signal_name in thresholds:
            drawn.append(thresholds[signal_name])
            fig.add_hline(y=thresholds[signal_name], line={"dash": "dash", "color": "#1f2933", "width": 1},
                          row=row, col=col)
        fig.update_yaxes(title_text=label(meta[signal_name].unit, 30), title_standoff=2,
                         range=_axis_range(drawn, meta[signal_name]), row=row, col=col)
        fig.update_xaxes(title_text="tier", title_standoff=4, row=row, col=col)
    fig.update_annotations(font_size=12)
    height, margin = 120 + 235 * rows, {"l": 60, "r": 20, "t": 110, "b": 40}
    menu_y = 1 + 40 / (height - margin["t"] - margin["b"])
    menu = {"type": "buttons", "direction": "right", "x": 1, "xanchor": "right", "y": menu_y, "yanchor": "bottom",
            "showactive": True,
            "buttons": [{"label": name, "method": "update", "args": [
                {"visible": [v == show for v in by_tier]},
                {f"xaxis{k if k > 1 else ''}.title.text": title for k in range(1, len(q.signals) + 1)}]}
                for name, show, title in (("by tier", True, "tier"), ("by language", False, "language"))]}
    return layout(fig, height, updatemenus=[menu], boxmode="overlay", legend_gap=40, margin=margin,
                  title="Heuristic signals by tier")


def rulesets(q: Quality) -> go.Figure:
    """Per rule set: the share of documents it would keep, and its most frequent rejection reasons."""
    assert q.rulesets is not None
    has_reasons = q.reasons is not None and q.reasons.height > 0
    fig = subplots(rows=1, cols=2 if has_reasons else 1, horizontal_spacing=0.38,
                        subplot_titles=["share of documents each rule set keeps"]
                        + (["most frequent rejection reasons"] if has_reasons else []))
    rs = q.rulesets.with_columns(share=pl.col("kept") / pl.col("documents")).sort("ruleset")
    fig.add_trace(go.Bar(
        y=[label(r) for r in rs["ruleset"]], x=rs["share"].to_list(), orientation="h", marker={"color": NEUTRAL},
        customdata=rs.select("kept", "documents").rows(), text=[f"{s:.0%}" for s in rs["share"]],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: keeps %{customdata[0]:,} of %{customdata[1]:,} documents<extra></extra>"),
        row=1, col=1)
    fig.update_xaxes(title_text="share of documents kept", tickformat=".0%", range=[0, 1.15], row=1, col=1)
    fig.update_yaxes(title_text="rule set", row=1, col=1)
    height = 140 + 30 * rs.height
    if has_reasons:
        top = q.reasons.sort(["documents", "ruleset", "reason"], descending=[True, False, False]).head(15).reverse()
        names = [f"{label(a, 20)}: {label(b, 40)}" for a, b in top.select("ruleset", "reason").rows()]
        fig.add_trace(go.Bar(
            y=names, x=top["documents"].to_list(), orientation="h", marker={"color": "#c8472d"},
            text=[f"{v:,}" for v in top["documents"]], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}<br>%{x:,} documents<extra></extra>"), row=1, col=2)
        fig.update_xaxes(title_text="documents rejected", rangemode="tozero", row=1, col=2)
        fig.update_yaxes(title_text="rule set: reason", row=1, col=2)
        height = max(height, 140 + 26 * top.height)
    return layout(fig, height, showlegend=False, margin={"l": 130, "r": 50, "t": 60, "b": 60})


def point(block: Mapping[str, Any] | None, metric: str, state: str) -> tuple[float | None, list | None]:
    est = ((block or {}).get(metric) or {}).get(state) or {}
    return est.get("estimate"), est.get("ci90")


def stock_by_tier(stocks: Mapping[str, Any], unit: str, max_crawls: int = 6) -> go.Figure:
    """Estimated token stock per tier, raw vs deduplicated, with the 90% interval, over all crawls and per crawl."""
    groups: list[tuple[str, Mapping[str, Any]]] = [("all crawls", stocks)]
    crawls = stocks.get("crawls") or {}
    if len(crawls) > 1:
        groups += list(crawls.items())[:max_crawls]
    fig = figure()
    for state, name, alpha in (("raw", "raw (before dedup, pale)", 0.25), ("dedup", "deduplicated (solid)", 1.0)):
        xs: list[list[str]] = [[], []]
        ys, lo, hi, colors, edges, hover = [], [], [], [], [], []
        for group, block in groups:
            tiers = dict((block.get("tiers") or {}).items())
            tiers["all tiers"] = block.get("total") or {}
            for tier in [*tier_order([t for t in tiers if t != "all tiers"]), "all tiers"]:
                est, ci = point(tiers[tier], "tokens", state)
                if est is None:
                    continue
                xs[0].append(label(group, 24))
                xs[1].append(label(tier))
                ys.append(est)
                lo.append(est - ci[0] if ci else None)
                hi.append(ci[1] - est if ci else None)
                colors.append(rgba(tier_color(tier), alpha))
                edges.append(tier_color(tier))
                hover.append(f"{label(group)} · {label(tier)} · {name}<br>{si(est)} {label(unit)}"
                             + (f"<br>90% interval {si(ci[0])} – {si(ci[1])}" if ci else "<br>no interval"))
        if ys:
            fig.add_trace(go.Bar(
                x=xs, y=ys, name=name, marker={"color": colors, "line": {"color": edges, "width": 1.5}},
                error_y={"type": "data", "array": hi, "arrayminus": lo, "color": "#1f2933", "thickness": 1.2},
                hovertext=hover, hoverinfo="text"))
    fig.update_yaxes(title_text=f"{label(unit)} (population estimate)", rangemode="tozero", exponentformat="B")
    fig.update_xaxes(title_text="crawl · tier")
    return layout(fig, 440, barmode="group", title="Token stock by tier: raw vs deduplicated (bars: 90% interval)",
                  margin={"l": 80, "r": 30, "t": 100, "b": 80})


def stock_by_language(frame: pl.DataFrame, value: str, unit_title: str, langs: list[str]) -> go.Figure:
    """Tokens per language stacked by tier (deduplicated), the raw total marked; buttons pick a crawl.

    `frame` has crawl, lang, tier, dedup_state ('raw'/'dedup') and the `value` column.
    """
    frame = frame.with_columns(pl.when(pl.col("lang").is_in(langs)).then(pl.col("lang")).otherwise(pl.lit("other")))
    crawls = sorted(frame["crawl"].unique().to_list())
    options = [("all crawls", frame)] + ([(c, frame.filter(pl.col("crawl") == c)) for c in crawls[:8]]
                                         if len(crawls) > 1 else [])
    order = [lang for lang in [*langs, "other"] if lang in frame["lang"].to_list()]
    tiers = tier_order(frame["tier"].unique().to_list())
    fig = figure()
    for k, (_, part) in enumerate(options):
        cells = part.group_by("lang", "tier", "dedup_state").agg(pl.col(value).sum())
        for tier in tiers:
            mine = {r["lang"]: r[value] for r in cells.filter(pl.col("tier") == tier, pl.col("dedup_state") == "dedup")
                    .to_dicts()}
            fig.add_trace(go.Bar(
                x=[label(lang) for lang in order], y=[mine.get(lang, 0) for lang in order], name=label(tier),
                legendgroup=tier, showlegend=k == 0, visible=k == 0, marker={"color": tier_color(tier)},
                customdata=[si(mine.get(lang, 0)) for lang in order],
                hovertemplate=f"%{{x}} · {label(tier)} · deduplicated<br>%{{customdata}} {label(unit_title)}"
                              "<extra></extra>"))
        raw = {r["lang"]: r[value] for r in cells.filter(pl.col("dedup_state") == "raw").group_by("lang")
               .agg(pl.col(value).sum()).to_dicts()}
        fig.add_trace(go.Scatter(
            x=[label(lang) for lang in order], y=[raw.get(lang, 0) for lang in order], mode="markers",
            name="raw total (before dedup)", legendgroup="raw", showlegend=k == 0, visible=k == 0,
            marker={"symbol": "line-ew", "size": 26, "line": {"width": 3, "color": DEMAND}},
            customdata=[si(raw.get(lang, 0)) for lang in order],
            hovertemplate="%{x} · raw, all tiers<br>%{customdata} " + label(unit_title) + "<extra></extra>"))
    n = len(fig.data)
    per = n // len(options)
    buttons = [{"label": label(name, 24), "method": "restyle",
                "args": [{"visible": [k * per <= j < (k + 1) * per for j in range(n)]}]}
               for k, (name, _) in enumerate(options)]
    menus = [{"type": "dropdown", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom", "buttons": buttons,
              "showactive": True}] if len(options) > 1 else []
    fig.update_xaxes(title_text="language (ISO 639-1)")
    fig.update_yaxes(title_text=label(unit_title), exponentformat="B", rangemode="tozero")
    return layout(fig, 420, barmode="stack", updatemenus=menus,
                  title="Tokens by language and tier (bars: deduplicated; dash: raw total)",
                  margin={"l": 80, "r": 30, "t": 100, "b": 60})


def reference_sizes(refs: Mapping[str, Mapping[str, Any]], ours: Sequence[tuple[str, float, list | None, str]],
                    unit: str) -> go.Figure:
    """This run's estimates beside published corpus and stock sizes, on a log axis (they span many decades)."""
    rows = [(name, est, ci, color, "this run", "90%") for name, est, ci, color in ours if est]
    for key, ref in refs.items():
        value = ref.get("tokens") or ref.get("estimate")
        if isinstance(value, int | float) and value > 0:
            ci = ref.get("ci95") or ref.get("ci90")
            level = "95%" if ref.get("ci95") else "90%"
            rows.append((key.replace("_", " "), float(value), ci, LIGHT, ref.get("source") or "published", level))
    rows.sort(key=lambda r: r[1])
    lo = min(min(r[1], *(r[2] or [r[1]])) for r in rows)
    hi = max(max(r[1], *(r[2] or [r[1]])) for r in rows)
    fig = figure(go.Bar(
        y=[f"{label(r[0], 40)} · {si(r[1])}" for r in rows], x=[r[1] for r in rows], orientation="h",
        marker={"color": [r[3] for r in rows], "line": {"color": "#1f2933", "width": 0.5}},
        error_x={"type": "data", "array": [(r[2][1] - r[1]) if r[2] else None for r in rows],
                 "arrayminus": [(r[1] - r[2][0]) if r[2] else None for r in rows], "color": "#1f2933"},
        hovertext=[f"{label(r[0])}: {si(r[1])} {label(unit)}"
                   + (f"<br>{r[5]} interval {si(r[2][0])} – {si(r[2][1])}" if r[2] else "")
                   + f"<br>{label(r[4], 80)}" for r in rows], hoverinfo="text"))
    fig.update_xaxes(type="log", title_text=f"{label(unit)} (log scale)", range=[math.log10(lo) - 0.3,
                                                                                 math.log10(hi) + 0.2],
                     **log_ticks(lo / 2, hi * 2))
    fig.update_yaxes(title_text="corpus or estimate")
    return layout(fig, 150 + 30 * len(rows), showlegend=False,
                  title="This run's stock beside published sizes (dark: this run; grey: published)",
                  margin={"l": 260, "r": 40, "t": 60, "b": 60})


def stage_costs(stages: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Wall and CPU seconds per stage, and each stage's peak memory: the cost of a run at a glance."""
    names = list(stages)
    fig = subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.08, shared_yaxes=True,
                        subplot_titles=["time per stage", "peak memory (RSS) per stage"])
    for key, name, color in (("wall_seconds", "wall-clock seconds", "#2f6db5"),
                             ("cpu_seconds", "CPU-seconds (all processes)", "#9bb8dc")):
        values = [stages[n].get(key) for n in names]
        fig.add_trace(go.Bar(y=[label(n) for n in names], x=values, orientation="h", name=name,
                             marker={"color": color}, text=[si(v) if v is not None else "" for v in values],
                             textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: %{x:,.1f} s<extra>" + name + "</extra>"), row=1, col=1)
    rss = [stages[n].get("peak_rss_mb") for n in names]
    fig.add_trace(go.Bar(y=[label(n) for n in names], x=rss, orientation="h", name="peak RSS",
                         marker={"color": "#7b4fa6"}, text=[f"{v:,.0f}" if v is not None else "" for v in rss],
                         textposition="outside", cliponaxis=False, showlegend=False,
                         hovertemplate="%{y}: %{x:,.0f} MB peak RSS<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="seconds", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="MB", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_yaxes(title_text="stage", row=1, col=1)
    return layout(fig, 150 + 50 * len(names), barmode="group", legend_gap=32,
                  margin={"l": 140, "r": 50, "t": 90, "b": 60})
