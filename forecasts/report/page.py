"""The HTML page: one self-contained file with plotly.js inline, figures as escaped JSON, and a strict CSP.

Only two scripts run: plotly.js and the small renderer below; the Content-Security-Policy allows exactly
those by SHA-256 hash, so even markup that slipped past escaping could not execute, and nothing may load
from the network (`default-src 'none'`). Figures travel in a `<script type="application/json">` block
that the browser never executes; the renderer parses it with JSON.parse.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import plotly.graph_objects as go
import plotly.offline

from forecasts.report.safe import esc, script_json
from forecasts.report.style import template_json


class Html(str):
    """Markup built by this package from escaped parts: inserted as is, where a plain str is escaped."""


def cell(value: Any) -> str:
    """A table cell or text value: Html passes through, anything else is escaped."""
    if value is None:
        return '<span class="muted">–</span>'
    return str(value) if isinstance(value, Html) else esc(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
          caption: str | None = None, cls: str | None = None) -> Html:
    """An HTML table that wraps to the page width; columns listed in `numeric` are right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell(v)}</td>' for i, v in enumerate(row))
        + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    klass = f' class="{esc(cls)}"' if cls else ""
    return Html(f'<div class="table-wrap"><table{klass}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
                "</table></div>")


def note(text: str | Html, kind: str = "info") -> Html:
    """A boxed remark (info, warn) that stays visible without interaction."""
    return Html(f'<p class="note note-{esc(kind)}">{cell(text)}</p>')


@dataclass
class Charts:
    """The report's figures in page order; each gets a div id and a caption."""

    figures: dict[str, str] = field(default_factory=dict)
    demo: bool = False
    _ids: itertools.count = field(default_factory=itertools.count)

    def add(self, fig: go.Figure, name: str, caption: str | Html | None = None) -> Html:
        chart_id = f"chart-{next(self._ids)}-{name}"
        spec = json.loads(fig.to_json())
        spec["layout"]["template"] = template_json()
        if self.demo:
            demo_label(spec["layout"])
        self.figures[chart_id] = json.dumps(spec, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        cap = f"<figcaption>{cell(caption)}</figcaption>" if caption else ""
        return Html(f'<figure class="chart-box"><div class="chart" id="{esc(chart_id)}" role="img" '
                    f'aria-label="{esc(name)} chart"></div>{cap}</figure>')

    def payload(self) -> str:
        """All figures as one JSON object, safe inside <script>: {div id: figure}."""
        parts = ",".join(f'"{chart_id}":{fig}' for chart_id, fig in self.figures.items())
        return script_json("{" + parts + "}")


DEMO_LABEL = "SYNTHETIC DEMO DATA"


def demo_label(layout: dict[str, Any]) -> None:
    """Mark a figure as synthetic in its own layout (a watermark and a title suffix), so the label survives
    Plotly's "download as PNG" and any copy of the figure taken out of the page."""
    height = layout.get("height") or 450
    layout.setdefault("annotations", []).append({
        "text": DEMO_LABEL, "name": "demo-label", "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
        "xanchor": "center", "yanchor": "middle", "showarrow": False, "textangle": -12,
        "font": {"size": max(18, min(44, int(height / 9))), "color": "rgba(190,90,0,0.18)"}})
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        title["text"] = f"{title['text']} · synthetic demo data"


@dataclass
class Section:
    """One report section: anchor id, heading, and its body markup."""

    id: str
    title: str
    body: Html


RENDERER = """
(function () {
  "use strict";
  var specs = JSON.parse(document.getElementById("peakdata-figures").textContent);
  var root = document.documentElement, ids = Object.keys(specs), drawn = 0, failed = 0;
  root.setAttribute("data-charts-expected", String(ids.length));
  var config = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"]};
  function fail(el, err) {
    failed += 1;
    el.classList.add("chart-error");
    el.textContent = "This chart could not be drawn: " + (err && err.message ? err.message : String(err));
  }
  var jobs = ids.map(function (id) {
    var el = document.getElementById(id), fig = specs[id];
    try {
      return Promise.resolve(Plotly.newPlot(el, fig.data, fig.layout || {}, config)).then(
        function () { drawn += 1; }, function (err) { fail(el, err); });
    } catch (err) { fail(el, err); return Promise.resolve(); }
  });
  Promise.all(jobs).then(function () {
    root.setAttribute("data-charts-drawn", String(drawn));
    root.setAttribute("data-charts-failed", String(failed));
  });
})();
""".strip()

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --card: #fff; --accent: #2f6db5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); }
header.top { background: #1f2d3d; color: #fff; padding: 22px 32px 18px; }
header.top h1 { margin: 0 0 4px; font-size: 24px; font-weight: 650; letter-spacing: .2px; }
header.top .sub { color: #c9d4df; font-size: 14px; overflow-wrap: anywhere; }
nav.toc { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line);
  padding: 8px 32px; display: flex; gap: 18px; flex-wrap: wrap; font-size: 14px; }
nav.toc a { color: var(--accent); text-decoration: none; font-weight: 550; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 24px 60px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px;
  margin: 18px 0; box-shadow: 0 1px 2px rgba(31,41,51,.05); }
section.card > h2 { margin: 0 0 10px; font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 6px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.banner { margin: 18px 0 0; padding: 14px 18px; border-radius: 10px; font-size: 15px; font-weight: 550; }
.banner-demo { background: #fff4d6; border: 2px solid #d99a00; color: #5c4100; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(185px, 1fr)); gap: 12px; margin: 18px 0 4px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi .v { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.kpi .k { color: var(--muted); font-size: 13px; }
.kpi .d { color: var(--muted); font-size: 12px; }
figure.chart-box { margin: 10px 0 18px; }
.chart { width: 100%; min-height: 120px; }
.chart-error { padding: 20px; background: #fdecea; color: #8b1e12; border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
.table-wrap { overflow-x: auto; margin: 8px 0 14px; max-width: 100%; }
table { border-collapse: collapse; font-size: 13.5px; min-width: 50%; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
th { background: #f0f4f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
@media (max-width: 1100px) { td.num { white-space: normal; } th, td { padding: 4px 6px; } }
section.answer { border: 2px solid var(--accent); }
section.answer .lead { font-size: 17px; margin: 4px 0 10px; }
.answer-table { width: 100%; font-size: 15px; }
.answer-table td { padding: 7px 10px; }
.answer-langs { width: 100%; font-size: 13.5px; }
.answer-langs { table-layout: fixed; }
.answer-langs th:nth-child(1) { width: 10%; } .answer-langs th:nth-child(2) { width: 10%; }
.answer-langs th:nth-child(3) { width: 13%; }
.answer-langs td:nth-child(n+4) { white-space: normal; }
p.chain { font-size: 14px; margin: 8px 0; }
.small { font-size: 13px; }
.warn-text { color: #b45309; font-weight: 600; }
.facts-cards { margin-top: 0; }
.muted { color: var(--muted); }
.note { padding: 10px 14px; border-radius: 8px; font-size: 14px; margin: 10px 0; }
.note-info { background: #eef4fb; border-left: 4px solid var(--accent); }
.note-warn { background: #fdf3e7; border-left: 4px solid #d97706; }
.note-missing { background: #f0f2f4; border-left: 4px solid #9aa5b1; color: #3e4c59; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f0f4f8;
  padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.example { border: 1px solid var(--line); border-left: 5px solid var(--tier, #8d8d8d); border-radius: 8px;
  padding: 10px 12px; background: #fcfdfe; }
.example .title { font-weight: 600; overflow-wrap: anywhere; }
.example .meta { color: var(--muted); font-size: 12.5px; margin: 2px 0 6px; overflow-wrap: anywhere; }
.example pre { white-space: pre-wrap; overflow-wrap: anywhere; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; margin: 0; max-height: 14em; overflow: auto; background: #f7f9fb; padding: 6px 8px;
  border-radius: 6px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
details > summary { cursor: pointer; color: var(--accent); font-weight: 550; margin: 6px 0; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; padding: 20px; }
@media print { nav.toc { display: none; } section.card, figure.chart-box { break-inside: avoid; } }
""".strip()


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as bundled with plotly.py (about 4.8 MB), normalised the way the HTML parser will see it."""
    return plotly.offline.get_plotlyjs().replace("\r\n", "\n").replace("\r", "\n")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def csp() -> str:
    """Nothing loads from anywhere; only this page's two scripts (by hash) run; inline styles for Plotly."""
    return ("default-src 'none'; "
            f"script-src {_sha256(plotly_js())} {_sha256(RENDERER)}; "
            "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
            "base-uri 'none'; form-action 'none'")


def render(title: str, subtitle: str, banner: Html, sections: Sequence[Section], charts: Charts,
           footer: str) -> str:
    """The whole page as one string."""
    toc = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(f'<section class="card{" answer" if s.id == "answer" else ""}" id="{esc(s.id)}">'
                   f"<h2>{esc(s.title)}</h2>{s.body}</section>" for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
        f'<header class="top"><h1>{esc(title)}</h1><div class="sub">{esc(subtitle)}</div></header>\n'
        f'<nav class="toc">{toc}</nav>\n<main>\n{banner}\n{body}\n</main>\n'
        f"<footer>{esc(footer)}</footer>\n"
        f'<script type="application/json" id="peakdata-figures">{charts.payload()}</script>\n'
        f"<script>{plotly_js()}</script>\n<script>{RENDERER}</script>\n</body>\n</html>\n"
    )
