"""The report's first screen: the answer in words and numbers, before any evidence.

Per tier: the usable token stock at web scale with its 90% interval, and the exhaustion year (median and 80%
interval); the estimand chain in one sentence; the warnings that qualify it; then the same answer per
language. Every number names its unit, interval level and population. An interval that could not be
estimated reads "n/a (why)"; a date that falls outside the forecast's years reads "already exhausted by
YEAR (P=…)" or "after YEAR".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from forecasts.report.labels import JUDGED_GOOD, estimate, flat, interval, num, share, tier_name, why_no_interval
from forecasts.report.page import Html, Section, note, table
from forecasts.report.rundata import Cube, RunData, kept, tier_order
from forecasts.report.safe import esc, truncate
from forecasts.units import si

SMALL_LANGUAGE = 100  # sampled documents below which a language's answer is flagged (stats.supply's rule)
MAX_WARNINGS = 6


def _start(fc: Mapping[str, Any]) -> int | None:
    years = (fc.get("meta") or {}).get("years") or []
    return int(years[0]) if years else None


def _horizon(fc: Mapping[str, Any]) -> int | None:
    h = (fc.get("meta") or {}).get("horizon")
    return int(h) if num(h) is not None else None


def exhaustion(tier: Mapping[str, Any], fc: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """(median, 80% interval, remarks) of a tier's exhaustion year, in words where a quantile has no year."""
    ex = tier.get("exhaustion_year") or {}
    answer = tier.get("answer") or {}
    ci = answer.get("ci80") or [ex.get("p10"), ex.get("p90")]
    median = answer.get("median", ex.get("p50"))
    already = tier.get("already_exhausted") or {}
    by = already.get("by") or _start(fc)
    p_already = num(already.get("probability")) or 0.0
    p_never = num(tier.get("p_not_within_horizon")) or 0.0
    horizon = _horizon(fc)

    def word(value: Any, q: float) -> str:
        if num(value) is not None:
            return f"{value:.1f}"
        if p_already >= q:
            return f"{by} or earlier"
        return f"after {horizon}" if horizon else "beyond the horizon"

    if num(median) is not None:
        mid = f"{median:.1f}"
    elif p_already >= 0.5:
        mid = f"already exhausted by {by} (P={p_already:.2f})"
    else:
        mid = f"not by {horizon} (P={p_never:.2f})" if horizon else "beyond the horizon"
    lo, hi = (ci + [None, None])[:2]
    remarks = []
    if p_already >= 0.005 and not mid.startswith("already"):
        remarks.append(f"already exhausted by {by} (P={p_already:.2f})")
    if p_never >= 0.005 and not mid.startswith("not by"):
        remarks.append(f"not by {horizon} (P={p_never:.2f})")
    return mid, f"{word(lo, 0.1)} – {word(hi, 0.9)}", remarks


def _stock(tier: Mapping[str, Any], fc: Mapping[str, Any]) -> tuple[float | None, list | None]:
    """The tier's usable stock at the first year: the measured chain's, else the scenario's effective stock."""
    usable = (tier.get("supply") or {}).get("usable") or {}
    if num(usable.get("median")) is not None:
        return usable["median"], usable.get("ci90")
    start = _start(fc)
    band = ((tier.get("stock") or {}).get("effective") or {}).get(str(start)) or {}
    if num(band.get("p50")) is not None:
        return band["p50"], [band.get("p5"), band.get("p95")] if "p5" in band else None
    return None, None


def _unit(fc: Mapping[str, Any], tier: str) -> str:
    units = ((fc.get("inputs") or {}).get("units") or {}).get("stock") or {}
    return str(units.get(tier) or "tokens") if isinstance(units, dict) else "tokens"


def _tier_rows(fc: Mapping[str, Any], tiers: Mapping[str, Any], why: str) -> list[tuple[Any, ...]]:
    rows = []
    for name, data in tiers.items():
        if not isinstance(data, dict):
            continue
        value, ci = _stock(data, fc)
        mid, ci80, remarks = exhaustion(data, fc)
        stock = (f"{si(value)} {_unit(fc, name)}" if value is not None else "n/a")
        stock_ci = interval(ci, si, why) if value is not None else "–"
        rows.append((Html(f"<strong>{esc(tier_name(name))}</strong>"), stock, stock_ci, Html(f"<strong>{esc(mid)}"
                     "</strong>"), ci80, "; ".join(remarks) or None))
    return rows


def chain_sentence(fc: Mapping[str, Any], stocks: Mapping[str, Any] | None, why: str) -> Html | None:
    """web × dedup survival × tier share = usable, and the Common Crawl floor, in one sentence with numbers."""
    tiers = {k: v for k, v in (fc.get("tiers") or {}).items() if isinstance((v or {}).get("supply"), dict)}
    if not tiers:
        return None
    first = next(iter(tiers.values()))["supply"]
    year = first.get("year") or _start(fc)
    tokenizer = (stocks or {}).get("tokenizer") or "the run's tokenizer"
    flat_seen: list[bool] = []

    def factor(block: Any, fmt: Any = lambda v: f"{v:.3g}") -> str:
        """`median [90%: lo – hi]`; a factor without an interval shows its median and is explained once."""
        block = block if isinstance(block, dict) else {}
        value, ci = block.get("median"), block.get("ci90")
        if num(value) is None:
            return "n/a"
        if not ci or flat(ci):
            flat_seen.append(True)
            return fmt(value)
        return estimate(value, ci, fmt)

    shares = ", ".join(f"{tier_name(t)} {factor(v['supply'].get('tier_share'))}" for t, v in tiers.items()
                       if t != JUDGED_GOOD)
    web = first.get("web") or {}
    sentence = (
        f"<strong>How the stock is estimated:</strong> web text ({esc(estimate(web.get('median'), web.get('ci90')))} "
        f"tokens on the indexed web in {esc(year)}, published by Villalobos et al. 2024) × <em>dedup survival</em> "
        f"{esc(factor(first.get('dedup_survival')))} × <em>tier share</em> ({esc(shares)}) = <em>usable stock</em>")
    floor = first.get("floor") or {}
    if num(floor.get("median")) is not None:
        binds = num(floor.get("p_binds"))
        sentence += (f"; never below the <em>Common Crawl floor</em>, the {esc(factor(floor, si))} distinct "
                     "deduplicated tokens counted in the crawl files read"
                     + (f" (it lifts the stock in {binds:.1%} of draws)" if binds is not None else ""))
    sentence += (f". Dedup survival (share of tokens left after removing duplicates) and tier shares (of the "
                 f"deduplicated tokens) are measured in this run's documents with {esc(tokenizer)}")
    sentence += f"; intervals n/a ({esc(why)})." if flat_seen else "; intervals: 90%."
    return Html(f'<p class="chain">{sentence}</p>')


def _warnings(fc: Mapping[str, Any], stocks: Mapping[str, Any] | None) -> list[str]:
    found = list(((fc.get("supply") or {}).get("warnings")) or [])
    found += list(((stocks or {}).get("supply") or {}).get("warnings") or [])
    return list(dict.fromkeys(str(w) for w in found))


def _lang_cell(tier: Mapping[str, Any] | None, fc: Mapping[str, Any], why: str) -> Html | None:
    if not isinstance(tier, dict):
        return None
    value, ci = _stock(tier, fc)
    mid, ci80, _ = exhaustion(tier, fc)
    stock = si(value) + (f" [{interval(ci, si, why)}]" if value is not None else "")
    return Html(f'<span class="stock">{esc(stock)}</span><br><strong>{esc(mid)}</strong> '
                f'<span class="muted">({esc(ci80)})</span>')


def language_table(fc: Mapping[str, Any], stocks: Mapping[str, Any] | None, why: str) -> Html | None:
    """Per language: share of the web's tokens, sample size, and each tier's stock and exhaustion year."""
    langs = {k: v for k, v in (fc.get("languages") or {}).items() if isinstance(v, dict)}
    if not langs:
        return None
    groups = ((stocks or {}).get("supply") or {}).get("groups") or {}
    main = [t for t in (fc.get("tiers") or {}) if t != JUDGED_GOOD]  # judged good: all languages only

    def lang_share(lang: str, block: Mapping[str, Any]) -> float:
        first = next((t.get("supply") for t in (block.get("tiers") or {}).values() if isinstance(t, dict)), {})
        value = ((first or {}).get("lang_share") or {}).get("median")
        return num(value) if num(value) is not None else num((groups.get(lang) or {}).get("lang_share")) or 0.0

    order = sorted(langs, key=lambda lang: (-lang_share(lang, langs[lang]), lang))
    rows = []
    for lang in order:
        block = langs[lang]
        docs = num(block.get("documents"))
        small = docs is not None and docs < SMALL_LANGUAGE
        sample = (f"{docs:,.0f} documents" if docs is not None else "–") + (" · small sample" if small else "")
        rows.append((Html(f"<strong>{esc(truncate(lang, 20))}</strong>"), share(lang_share(lang, block)),
                     Html(f'<span class="{"warn-text" if small else ""}">{esc(sample)}</span>'),
                     *[_lang_cell((block.get("tiers") or {}).get(t), fc, why) for t in main]))
    headers = ["Language", "Share of tokens", "Sampled", *[f"{tier_name(t)}" for t in main]]
    cap = ("Per language: usable stock in tokens (median [90% interval]) and exhaustion year (median, bold; "
           "80% interval in brackets). The language's share of the tokens is measured in this run's documents "
           "and applied to the web; '–': the language has no documents in that tier.")
    return table(headers, rows, numeric=(1,), caption=cap, cls="answer-langs")


def judged_good_line(stocks: Mapping[str, Any] | None, fc: Mapping[str, Any] | None = None) -> Html | None:
    """"Tokens people would judge good: X [a, b] (90%, population; agreement on N development labels)", or why
    there is no such number; with a forecast, also its web-scale line. None when tally-stocks did not run."""
    supply = (stocks or {}).get("supply")
    if not isinstance(supply, Mapping):
        return None
    block = supply.get("judged_good")
    if not isinstance(block, Mapping):
        return Html(f"<p class=\"judged\"><strong>Tokens people would judge good:</strong> not available "
                    f"({esc('stocks.json predates the judged-good estimate: re-run tally-stocks')}).</p>")
    if not block.get("available"):
        return Html(f"<p class=\"judged\"><strong>Tokens people would judge good:</strong> not available: "
                    f"{esc(block.get('reason') or 'no human labels')}.</p>")
    labels = block.get("labels") or {}
    share_block = block.get("share_of_dedup_tokens") or {}
    tokenizer = block.get("tokenizer") or (stocks or {}).get("tokenizer") or "tokens"
    text = (f"<strong>Tokens people would judge good:</strong> "
            f"{esc(estimate(block.get('estimate'), block.get('ci90'), si))} {esc(tokenizer)} tokens, "
            f"{esc(estimate(share_block.get('estimate'), share_block.get('ci90'), share))} of the deduplicated "
            f"tokens (90% intervals; {esc(block.get('population') or 'deduplicated tokens of the sampled strata')}; "
            f"agreement measured on {esc(labels.get('documents'))} development labels"
            f"{' (' + esc(labels.get('source')) + ')' if labels.get('source') else ''}, so optimistic). "
            "Both the sampling error and the error of the tiers' agreement with people are in the interval.")
    web = (((fc or {}).get("tiers") or {}).get(JUDGED_GOOD) or {}).get("supply") or {}
    usable = web.get("usable") or {}
    if num(usable.get("median")) is not None:
        text += (f" At web scale in {esc(web.get('year') or _start(fc or {}))}: "
                 f"{esc(estimate(usable['median'], usable.get('ci90'), si))} tokens on the indexed web (median, 90% "
                 "interval; web × dedup survival × judged-good share, drawn with the same replicates as the tiers: "
                 "the “judged good by people” row above).")
    return Html(f'<p class="judged">{text}</p>')


def measured_stock_table(stocks: Mapping[str, Any] | None, why: str) -> Html | None:
    """The measured tier totals of the sampled population (not the web), each with its variance flag, and the
    tokens people would judge good beside them."""
    stocks = stocks or {}
    tiers = dict(stocks.get("tiers") or {})
    if not (tiers or stocks.get("total")):
        return None
    rows = []
    for tier in [*tier_order(list(tiers)), "all tiers"]:
        block = tiers.get(tier) if tier != "all tiers" else stocks.get("total")
        point = ((block or {}).get("tokens") or {}).get("dedup") or {}
        if num(point.get("estimate")) is not None:
            variance = str((block or {}).get("variance") or "–")
            flag = Html(f'<span class="{"" if variance in ("estimable", "–") else "warn-text"}">{esc(variance)}'
                        "</span>")
            rows.append((tier_name(tier), si(point["estimate"]), interval(point.get("ci90"), si, why), flag))
    judged = ((stocks.get("supply") or {}).get("judged_good")) or {}
    if judged.get("available") and num(judged.get("estimate")) is not None:
        rows.append((Html("<em>judged good by people</em>"), si(judged["estimate"]),
                     interval(judged.get("ci90"), si, why), "estimable (sampling + agreement error)"))
    population = stocks.get("population") or "the population the sample represents"
    tokenizer = str(stocks.get("tokenizer") or "tokens")
    population += "" if tokenizer in population else f" ({tokenizer})"
    return table(["Tier", "Deduplicated tokens (estimate)", "90% interval", "Variance"], rows, numeric=(1, 2),
                 caption=f"Token stock of {population}, measured: "
                         "after deduplication among the sampled documents; Variance: whether the sample could "
                         "estimate the interval")


def _no_forecast(run: RunData, cube: Cube | None, why: str) -> list[Html | str]:
    """Without forecast.json: the population estimate if tally-stocks ran, else the sample's own counts."""
    parts: list[Html | str] = [note(Html("<strong>No exhaustion year:</strong> the forecast did not run in this "
                                         "run directory (<code>flows run forecast --out DIR</code>)."), "missing")]
    stocks = run.stocks or {}
    if (measured := measured_stock_table(stocks, why)) is not None:
        parts.append(measured)
        if (judged := judged_good_line(stocks)) is not None:
            parts.append(judged)
        warnings = [str(w) for w in ((stocks.get("supply") or {}).get("warnings") or [])]
        parts += [note(truncate(w, 400), "warn") for w in warnings[:MAX_WARNINGS]]
    elif cube is not None and cube.token_col:
        tokens = int(cube.frame.filter(kept(cube, *cube.flags))["tokens"].sum())
        parts.append(Html(f"<p>This sample's documents hold {esc(si(tokens))} tokens after deduplication "
                          f"({esc(cube.token_col.removeprefix('tokens_'))}); no population estimate was made "
                          "(tally-stocks did not run).</p>"))
    return parts


def answer_section(run: RunData, cube: Cube | None) -> Section:
    """The first screen: what the run concludes, with its uncertainty, before the evidence."""
    fc = run.forecast or {}
    why = why_no_interval(run.stocks)
    tiers = {k: v for k, v in (fc.get("tiers") or {}).items() if isinstance(v, dict)}
    if not tiers:
        return Section("answer", "The answer", Html("".join(_no_forecast(run, cube, why))))
    parts: list[str] = []
    names = [t for t in tiers if t != JUDGED_GOOD] or list(tiers)  # the lead speaks of tiers, not judged good
    mids = {t: exhaustion(tiers[t], fc) for t in tiers}
    first, last = names[0], names[-1]
    def when(tier: str) -> str:
        mid, ci80, _ = mids[tier]
        word = f"in <strong>{esc(mid)}</strong>" if mid[:1].isdigit() else f": <strong>{esc(mid)}</strong>"
        return f"{word} (median; 80% interval {esc(ci80)})"

    lead = (f"In the <strong>{esc(fc.get('scenario') or 'forecast')}</strong> scenario, the dataset of the largest "
            f"training run reaches the web's usable <strong>{esc(tier_name(first))}</strong> text {when(first)}")
    if last != first:
        lead += f", and all <strong>{esc(tier_name(last))}</strong> text {when(last)}"
    parts.append(f'<p class="lead">{lead}.</p>')
    start = _start(fc)
    measured = any(isinstance(v.get("supply"), dict) for v in tiers.values())
    stock_head = (f"Usable stock, {start}: tokens on the indexed web, median" if measured
                  else f"Effective stock, {start} (scenario input), median")
    cumulative = any(t in ("medium_or_better", "low_or_better") for t in names)
    parts.append(table(
        ["Tier (cumulative)" if cumulative else "Tier", stock_head, "90% interval", "Exhaustion year, median",
         "80% interval", f"Outside {start}–{_horizon(fc)}" if _horizon(fc) else "Tails"],
        _tier_rows(fc, tiers, why), numeric=(1, 2, 3, 4), cls="answer-table"))
    if (chain := chain_sentence(fc, run.stocks, why)) is not None:
        parts.append(chain)
    if (measured := measured_stock_table(run.stocks, why)) is not None:
        parts.append(measured)
    if (judged := judged_good_line(run.stocks, fc)) is not None:
        parts.append(judged)
    parts.append('<p class="muted small">Exhaustion year: when the dataset of the largest training run (demand, '
                 "Epoch's projection) first exceeds the usable stock; decimal years (2029.6 = during 2029). "
                 f"Cumulative tiers: “medium or better” counts high + medium text. Intervals: 90% for stocks, 80% "
                 f"for years; “n/a ({esc(why)})” where the data cannot estimate one.</p>")
    warnings = _warnings(fc, run.stocks)
    for w in warnings[:MAX_WARNINGS]:
        parts.append(note(truncate(w, 400), "warn"))
    if len(warnings) > MAX_WARNINGS:
        parts.append(f'<p class="muted">… and {len(warnings) - MAX_WARNINGS} more warnings in the Forecast '
                     "section.</p>")
    if (langs := language_table(fc, run.stocks, why)) is not None:
        parts.append(langs)
    return Section("answer", "The answer", Html("".join(parts)))


def sample_cards(run: RunData, cube: Cube | None) -> list[tuple[str, str, str]]:
    """Bookkeeping figures of the run (value, what, population), for the run-facts section."""
    counts = run.manifest.get("counts") or {}
    cards: list[tuple[str, str, str]] = []
    if (read := num(counts.get("records_read"))) is not None:
        cards.append((f"{read:,.0f}", "records read", "input records"))
    if cube is not None:
        docs = int(cube.frame["documents"].sum())
        dedup = cube.frame.filter(kept(cube, *cube.flags))
        cards.append((f"{docs:,}", "documents", "this sample's documents"))
        if cube.flags:
            cards.append((f"{int(dedup['documents'].sum()):,}", "documents after deduplication",
                          f"{dedup['documents'].sum() / max(1, docs):.1%} of this sample's documents"))
        if cube.token_col:
            tokens = int(dedup["tokens"].sum())
            cards.append((si(tokens), f"tokens in this sample after dedup ({cube.token_col.removeprefix('tokens_')})",
                          "the sample, not the web's stock"))
            if cube.has_tiers and tokens:
                high = int(dedup.filter(pl.col("tier") == "high")["tokens"].sum())
                cards.append((f"{high / tokens:.1%}", "high-tier share of tokens", "after dedup, this sample"))
    return cards


__all__ = ["answer_section", "exhaustion", "judged_good_line", "measured_stock_table", "sample_cards"]
