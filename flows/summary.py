"""The few lines a person reads at the end of a run: where the report is and what the answer is.

They come from the run directory's forecast.json and stocks.json (the same numbers as the report's first
screen), so the terminal never says something the report does not.
"""

from __future__ import annotations

from typing import Any

from flows import storage
from forecasts.report.labels import tier_name
from forecasts.units import si_brief


def _usable(tier: dict[str, Any]) -> str:
    supply = tier.get("supply") or {}
    usable = supply.get("usable") or {}
    median, ci = usable.get("median"), usable.get("ci90")
    if median is None:
        return "stock n/a"
    if not ci or ci[0] is None or ci[1] is None:
        return f"{si_brief(median)} tokens (90% interval n/a)"
    return f"{si_brief(median)} tokens [90%: {si_brief(ci[0])}-{si_brief(ci[1])}]"


def _exhaustion(tier: dict[str, Any]) -> str:
    answer = tier.get("answer") or {}
    if answer.get("text"):
        return f"exhaustion {answer['text']}"
    year = (tier.get("exhaustion_year") or {}).get("mixture") or {}
    return f"exhaustion median {year.get('p50')}" if year.get("p50") else "exhaustion n/a"


def summary_lines(out: str) -> list[str]:
    """Report location, the per-tier answer and the run's warnings, as plain lines."""
    report = storage.join(storage.absolute(out), "report.html")
    lines = [f"Report: {report}"]
    forecast_path = storage.join(storage.absolute(out), "forecast.json")
    if not storage.exists(forecast_path):
        return lines
    forecast = storage.read_json(forecast_path)
    supply = forecast.get("supply") or {}
    years = (forecast.get("meta") or {}).get("years") or []
    when = f" in {years[0]}" if years else ""
    lines.append(f"Answer ({forecast.get('scenario', 'forecast')} scenario): usable tokens on the web{when} "
                 "(median, 90% interval) and the year demand exceeds them (median, 80% interval):")
    width = max((len(tier_name(t)) for t in forecast.get("tiers", {})), default=0)
    for name, tier in (forecast.get("tiers") or {}).items():
        lines.append(f"  {tier_name(name):<{width}}  {_usable(tier)}; {_exhaustion(tier)}")
    languages = forecast.get("languages") or {}
    if languages:
        lines.append("High tier per language (every tier: forecast.json and the report):")
        for lang, block in languages.items():
            high = (block.get("tiers") or {}).get("high")
            if high:
                lines.append(f"  {lang:<{width}}  {_usable(high)}; {_exhaustion(high)}")
    manifest_path = storage.join(storage.absolute(out), "manifest.json")
    if storage.exists(manifest_path) and storage.read_json(manifest_path).get("demo"):
        lines.append("Note: the input was the synthetic demo crawl; the answer shows the output, not a finding.")
    for warning in supply.get("warnings") or []:
        lines.append(f"Warning: {warning}")
    return lines
