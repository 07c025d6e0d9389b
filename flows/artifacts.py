"""Prefect artifacts of a run: a markdown summary, a table of the tallies and a link to report.html, so the
Prefect UI shows results without opening files.

Artifacts belong to a flow run: outside one, `publish_artifacts` does nothing (rather than starting an API
server to store orphans). Every part is optional: a run without stocks, forecast or report still publishes
what it has. Strings from the data are escaped for markdown, which the UI renders.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext, TaskRunContext

from forecasts.report.answer import exhaustion
from forecasts.report.builder import REPORT_NAME
from forecasts.report.labels import estimate, tier_name, why_no_interval
from forecasts.report.rundata import RunData, load_run, tier_order
from forecasts.report.safe import clean, truncate
from forecasts.report.sections import run_totals
from forecasts.units import si

log = logging.getLogger(__name__)
MAX_TABLE_ROWS = 500
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def md(value: Any, limit: int = 120) -> str:
    """A data string as inert markdown text: one line, HTML and markdown syntax escaped."""
    text = truncate(" ".join(clean(value).split()), limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def artifact_key(*parts: str) -> str:
    """A valid artifact key (lowercase letters, digits, dashes) from name parts."""
    key = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    return key or "peakdata"


def _cell(value: Any) -> Any:
    """A JSON-safe table cell: NaN/inf become None, strings are cleaned and cut."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return truncate(clean(value), 200)
    return value


def tallies_table(run_dir: Path, stocks: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], str]:
    """Rows for the table artifact and what they are: stocks.parquet by crawl × lang × tier × dedup state,
    else stocks.json's per-tier estimates; empty when tally-stocks did not run."""
    path = run_dir / "stocks.parquet"
    if path.exists():
        frame = pl.read_parquet(path)
        keys = [c for c in ("crawl", "lang", "tier", "dedup_state") if c in frame.columns]
        values = [c for c in ("documents", "tokens", "bytes", "est_tokens") if c in frame.columns]
        if keys and values:
            order = "tokens" if "tokens" in values else values[0]
            agg = frame.group_by(keys).agg(pl.col(values).sum()).sort([order, *keys],
                                                                    descending=[True] + [False] * len(keys))
            rows = [{k: _cell(v) for k, v in r.items()} for r in agg.head(MAX_TABLE_ROWS).to_dicts()]
            more = f" (the {MAX_TABLE_ROWS} largest of {agg.height})" if agg.height > MAX_TABLE_ROWS else ""
            return rows, f"Token tallies by {' × '.join(keys)} from stocks.parquet (summed over TLDs){more}."
    rows = []
    for tier, block in ((stocks or {}).get("tiers") or {}).items():
        for state, est in ((block.get("tokens") or {}) if isinstance(block, dict) else {}).items():
            if isinstance(est, dict) and "estimate" in est:
                ci = est.get("ci90") or [None, None]
                rows.append({"tier": _cell(tier), "dedup_state": state, "tokens": _cell(est["estimate"]),
                             "ci90_low": _cell(ci[0]), "ci90_high": _cell(ci[1])})
    if rows:
        return rows, "Estimated token stock per tier and dedup state, with 90% intervals (stocks.json)."
    return [], "No tallies: tally-stocks did not run."


def _load(run_dir: Path) -> RunData | None:
    """The run's files, or None when manifest.json is missing or unreadable (artifacts then use `summary`)."""
    try:
        return load_run(run_dir)
    except (OSError, ValueError) as exc:
        log.warning("artifacts of %s without its manifest: %s", run_dir, exc)
        return None


def summary_markdown(run_dir: Path, summary: Mapping[str, Any], run: RunData | None) -> str:
    """The run at a glance: counts, stock headline, forecast headline, cost, and where the report is."""
    manifest = run.manifest if run else {}
    counts = summary.get("counts") or manifest.get("counts") or {}
    stocks = (run.stocks if run else None) or summary.get("stocks") or {}
    forecast = (run.forecast if run else None) or summary.get("forecast") or {}
    flow = manifest.get("flow") or summary.get("flow") or "run"
    out = [f"# peakdata: {md(flow)}", ""]
    if manifest.get("demo"):
        out += ["> **Synthetic demo data**: this run read the generated demo crawl, not real web pages.", ""]
    out += [f"Run directory: `{md(run_dir, 300)}`", ""]
    if counts:
        out += ["## Counts", "", "| count | value |", "|---|---:|"]
        for key in ("records_read", "documents", "files", "bytes_read"):
            if isinstance(counts.get(key), int | float):
                out.append(f"| {key.replace('_', ' ')} | {counts[key]:,.0f} |")
        for key in ("dropped", "errors", "file_errors"):
            reasons = counts.get(key) or {}
            if reasons:
                top = ", ".join(f"{md(r, 40)} {n:,}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])[:5])
                out.append(f"| {key.replace('_', ' ')} | {sum(reasons.values()):,} ({top}) |")
        out.append("")
    if stocks.get("tiers") or stocks.get("total"):
        unit = md(stocks.get("tokenizer") or "tokens")
        population = md(stocks.get("population") or "the population the files represent", 300)
        out += [f"## Token stock of {population} (estimate, 90% interval)", "",
                f"| tier | raw ({unit}) | deduplicated |", "|---|---:|---:|"]
        tiers = dict(stocks.get("tiers") or {})
        why = why_no_interval(stocks)
        for tier in [*tier_order(list(tiers)), "all tiers"]:
            block = tiers.get(tier) if tier != "all tiers" else stocks.get("total")
            tokens = (block or {}).get("tokens") or {}
            out.append(f"| {md(tier)} | {_estimate(tokens.get('raw'), why)} | {_estimate(tokens.get('dedup'), why)} |")
        out.append("")
    if forecast.get("tiers"):
        out += [f"## Forecast: {md(forecast.get('scenario') or '?')}", "",
                "| tier | usable stock (tokens on the web, 90% interval) | median exhaustion year | 80% interval |",
                "|---|---:|---:|---:|"]
        for tier, data in forecast["tiers"].items():
            mid, ci80, _ = exhaustion(data or {}, forecast)
            usable = (((data or {}).get("supply") or {}).get("usable")) or {}
            stock = estimate(usable.get("median"), usable.get("ci90")) if usable.get("median") else "–"
            out.append(f"| {md(tier_name(tier))} | {md(stock)} | {md(mid)} | {md(ci80)} |")
        if (forecast.get("supply") or {}).get("text"):
            out += ["", md(forecast["supply"]["text"], 2000)]
        out.append("")
    totals = run_totals(manifest)
    cost = [f"wall {totals['wall']:,.1f} s" if totals["wall"] is not None else None,
            f"{totals['cpu']:,.1f} CPU-s" if totals["cpu"] is not None else None,
            f"peak RSS {totals['rss']:,.0f} MB" if totals["rss"] is not None else None,
            f"classifier device {md((manifest.get('quality') or {}).get('device'))}"
            if (manifest.get("quality") or {}).get("device") else None]
    if any(cost):
        out += ["## Cost", "", " · ".join(c for c in cost if c), ""]
    report = run_dir / REPORT_NAME
    out.append(f"Report: `{md(report.resolve(), 300)}`" if report.exists()
               else f"Report: not built yet (`flows run report --out {md(run_dir, 300)}`).")
    return "\n".join(out) + "\n"


def _estimate(block: Any, why: str) -> str:
    if not isinstance(block, dict) or block.get("estimate") is None:
        return "–"
    return md(estimate(block["estimate"], block.get("ci90"), si, why=why))


def publish_artifacts(run_dir: Path, summary: dict, report_url: str | None = None) -> None:
    """Publish the summary, tallies and report link of `run_dir` to the current Prefect flow run.

    `report_url` is the report's location where `run_dir` is a local copy of an object-store run.
    """
    context = FlowRunContext.get() or TaskRunContext.get()
    if context is None:
        log.info("not in a Prefect flow run: no artifacts published for %s", run_dir)
        return
    run_dir, summary = Path(run_dir), summary or {}
    run = _load(run_dir)
    flow = str(summary.get("flow") or getattr(getattr(context, "flow", None), "name", "") or "run")
    create_markdown_artifact(markdown=summary_markdown(run_dir, summary, run),
                             key=artifact_key("peakdata", flow, "summary"),
                             description=f"peakdata {flow}: counts, stock and forecast headlines")
    rows, description = tallies_table(run_dir, run.stocks if run and run.stocks else summary.get("stocks"))
    if rows:
        create_table_artifact(table=rows, key=artifact_key("peakdata", flow, "tallies"), description=description)
    report = run_dir / REPORT_NAME
    if report_url or report.exists():
        create_link_artifact(link=report_url or report.resolve().as_uri(), link_text=REPORT_NAME,
                             key=artifact_key("peakdata", flow, "report"),
                             description="The self-contained HTML report (opens offline)")
