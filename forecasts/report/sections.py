"""The report's sections, each from whatever part of the run directory exists.

A stage that did not run gets a plain sentence saying so instead of an empty chart, so a report of a
partial run is still honest about what it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from forecasts.report import figures, forecast_view
from forecasts.report.answer import exhaustion, sample_cards
from forecasts.report.figures import Stage
from forecasts.report.labels import (
    Cells,
    estimate,
    key_words,
    share,
    signal,
    size,
    tier_name,
    value_text,
    why_no_interval,
)
from forecasts.report.page import Charts, Html, Section, note, table
from forecasts.report.rundata import Cube, Quality, RunData, kept, tier_order
from forecasts.report.safe import esc, truncate, url_text
from forecasts.report.style import tier_color
from forecasts.units import si

MAX_INPUTS = 25
STOCK_STATES = ("raw", "dedup")


def missing(what: str, how: str) -> Html:
    """The sentence shown where a stage did not run."""
    return note(Html(f"<strong>{esc(what)}</strong> {esc(how)}"), "missing")


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def kv_table(mapping: Mapping[str, Any], headers: Sequence[str] = ("Name", "Value"), raw_keys: bool = False) -> Html:
    """Names and values as a two-column table: values as readable text (sizes, percentages, lists), never JSON.
    raw_keys keeps the keys as typed (parameters are typed on the command line by these names)."""
    return table(headers, [(Html(f"<code>{esc(k)}</code>") if raw_keys else key_words(k), value_text(k, v))
                           for k, v in mapping.items()])


def _records(value: Any) -> list[tuple[str, Mapping[str, Any]]] | None:
    """(row name, fields) when `value` is a dict of flat dicts or a list of flat dicts: a table's rows."""
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        rows = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        rows = [(str(i + 1), v) for i, v in enumerate(value)]
    else:
        return None
    flat = all(not isinstance(x, dict | list) for _, v in rows for x in v.values())
    return rows if flat else None


SUMMARY_CAPTIONS = {"kinds": "Duplicates by kind", "crawl_overlap": "Overlap with earlier crawls"}


def summary_tables(summary: Mapping[str, Any]) -> Html:
    """A stage's summary dict (e.g. manifest.dedup): scalars as one table, each dict/list of records as its own
    table with plain headers, anything deeper as name/value text behind a disclosure."""
    scalars = {k: v for k, v in summary.items() if not isinstance(v, dict | list)}
    parts = [kv_table(scalars, ("Item", "Value"))] if scalars else []
    rest = {}
    for key, value in summary.items():
        if key in scalars:
            continue
        if (rows := _records(value)) is not None:
            cols = list(dict.fromkeys(c for _, r in rows for c in r))
            numeric = [i + 1 for i, c in enumerate(cols) if all(_num(r.get(c)) is not None for _, r in rows)]
            first = "" if isinstance(value, list) else "Kind" if key == "kinds" else ""
            named = isinstance(value, dict)
            headers = ([first] if named else []) + [key_words(c) for c in cols]
            body = [((name,) if named else ()) + tuple(value_text(c, r.get(c)) for c in cols) for name, r in rows]
            parts.append(table(headers, body, numeric=[i if named else i - 1 for i in numeric],
                               caption=SUMMARY_CAPTIONS.get(key, key_words(key))))
        else:
            rest[key] = value
    if rest:
        parts.append(f"<details><summary>More ({esc(', '.join(key_words(k).lower() for k in rest))})</summary>"
                     f"{kv_table(rest)}</details>")
    return Html("".join(parts))


# ---------------------------------------------------------------------------------------------- funnel


def funnel_stages(counts: Mapping[str, Any], cube: Cube | None) -> list[Stage]:
    """Documents and tokens left after each step: read → extracted → exact/URL/near dedup → tiers."""
    stages: list[Stage] = []
    if (records := _num(counts.get("records_read"))) is not None:
        stages.append(Stage("records read", int(records), None, "#9aa5b1"))
    if cube is None:
        if (docs := _num(counts.get("documents"))) is not None:
            stages.append(Stage("documents", int(docs), None, "#5b6770"))
        return stages
    frame, tok = cube.frame, cube.token_col is not None

    def total(expr: pl.Expr) -> tuple[int, int | None]:
        sub = frame.filter(expr)
        return int(sub["documents"].sum()), (int(sub["tokens"].sum()) if tok else None)

    stages.append(Stage("documents", *total(pl.lit(True)), "#5b6770"))
    steps = [("is_exact_duplicate", "after exact dedup"), ("is_url_duplicate", "after URL dedup"),
             ("is_near_duplicate", "after near dedup")]
    done: list[str] = []
    for flag, name in steps:
        if flag in cube.flags:
            done.append(flag)
            stages.append(Stage(name, *total(kept(cube, *done)), "#3e5c76"))
    if "is_duplicate" in cube.flags:
        everything = kept(cube, *done, "is_duplicate")
        if not done or total(everything) != (stages[-1].documents, stages[-1].tokens):
            stages.append(Stage("after all dedup", *total(everything), "#3e5c76"))
    dedup = kept(cube, *cube.flags)
    tiers = set(frame["tier"].unique().to_list())
    if cube.has_tiers and "medium" in tiers and "high" in tiers:
        stages.append(Stage("medium + high tier", *total(dedup & pl.col("tier").is_in(["high", "medium"])),
                            tier_color("medium")))
    if cube.has_tiers and "high" in tiers:
        stages.append(Stage("high tier", *total(dedup & (pl.col("tier") == "high")), tier_color("high")))
    return stages


def funnel_section(run: RunData, cube: Cube | None, charts: Charts) -> Section:
    counts = run.manifest.get("counts") or {}
    parts: list[str] = []
    stages = funnel_stages(counts, cube)
    unit = f"tokens, {cube.token_col.removeprefix('tokens_')}" if cube and cube.token_col else None
    if stages:
        parts.append(charts.add(figures.funnel(stages, unit), "funnel",
                                "Each step keeps what the previous one left; percentages are of the first step. "
                                "Tiers are counted after deduplication."))
        parts.append(table(["step", "documents", "share of documents", "tokens"],
                           [(s.name, f"{s.documents:,}", f"{s.documents / max(1, stages[0].documents):.1%}",
                             f"{s.tokens:,}" if s.tokens is not None else None) for s in stages], numeric=(1, 2, 3)))
    if cube is None:
        parts.append(missing("No documents/ table:", "crawl-sample did not run (or wrote nothing) in this directory."))
    else:
        if not cube.flags:
            parts.append(missing("Deduplication did not run:", "no dedup/ table, so no duplicate is removed above."))
        if not cube.has_tiers:
            parts.append(missing("Quality tiers did not run:", "no tiers/ table, so the funnel stops at dedup."))
        if cube.token_col is None:
            parts.append(missing("Tokens were not counted:", "no tokens/ table (tally-stocks did not run)."))
    rows: list[tuple[str, str, int]] = []
    for key, kind in (("dropped", "dropped"), ("errors", "error"), ("file_errors", "file error")):
        for reason, n in (counts.get(key) or {}).items():
            if _num(n):
                rows.append((kind, str(reason), int(n)))
    if rows:
        parts.append(charts.add(figures.reasons(rows), "reasons",
                                "Records read that yielded no document. Dropped: not a text document by design "
                                "(e.g. non-HTML); errors: unreadable records; file errors: whole files."))
    parts.append(_accounting(counts))
    skipped = {str(k): int(v) for k, v in (counts.get("skipped_record_types") or {}).items() if _num(v)}
    if skipped:
        listed = ", ".join(f"{k} {v:,}" for k, v in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
        parts.append(f'<p class="muted">Skipped record types (not content records, so not counted as read): '
                     f"{esc(listed)}.</p>")
    dedup = run.manifest.get("dedup")
    if isinstance(dedup, dict) and dedup:
        parts.append(f"<h3>Deduplication summary</h3>{summary_tables(dedup)}")
    return Section("funnel", "Funnel: from records to quality tiers", Html("".join(parts)))


def _accounting(counts: Mapping[str, Any]) -> Html:
    """The manifest's accounting identity, checked: records_read = documents + dropped + errors."""
    read, docs = _num(counts.get("records_read")), _num(counts.get("documents"))
    if read is None or docs is None:
        return missing("No accounting:", "manifest.json has no counts.records_read / counts.documents.")
    dropped = sum(v for v in (counts.get("dropped") or {}).values() if _num(v))
    errors = sum(v for v in (counts.get("errors") or {}).values() if _num(v))
    ok = read == docs + dropped + errors
    text = (f"Accounting: {read:,.0f} records read = {docs:,.0f} documents + {dropped:,.0f} dropped + "
            f"{errors:,.0f} errors")
    if (files := _num(counts.get("files"))) is not None:
        text += f" · {files:,.0f} files"
    if (read_bytes := _num(counts.get("bytes_read"))) is not None:
        text += f" · {size(read_bytes)} read"
    return note(("✓ " if ok else "✗ does not balance: ") + text, "info" if ok else "warn")


# ---------------------------------------------------------------------------------------------- quality


def _thresholds(run: RunData) -> tuple[dict[str, float], dict[str, float]]:
    """(tier thresholds on quality_score, per-signal thresholds) from manifest.quality.thresholds."""
    raw = (run.manifest.get("quality") or {}).get("thresholds") or {}
    tiers = {k: float(v) for k, v in raw.items() if k in ("high", "low") and _num(v) is not None}
    signals = {k: float(v) for k, v in raw.items() if k not in ("high", "low") and _num(v) is not None}
    signals.update({k: float(v) for k, v in (raw.get("signals") or {}).items() if _num(v) is not None})
    return tiers, signals


def quality_section(run: RunData, q: Quality | None, cube: Cube | None, examples: pl.DataFrame | None,
                    langs: list[str], charts: Charts) -> Section:
    if q is None:
        return Section("quality", "Quality", missing(
            "Quality classification did not run:", "no quality/ or tiers/ table in this run directory."))
    info = run.manifest.get("quality") or {}
    tier_thr, signal_thr = _thresholds(run)
    parts: list[str] = []
    facts = [f"scorer {info['scorer']}" if info.get("scorer") else None,
             f"classifier device {info['device']}" if info.get("device") else None]
    facts += [f"{name} tier threshold {value:g}" for name, value in tier_thr.items()]
    if any(facts):
        parts.append(f'<p class="muted">{esc(" · ".join(f for f in facts if f))}</p>')
    if cube is not None and cube.has_tiers:
        parts.append(_tier_table(cube))
    if q.score_hist is not None:
        parts.append(charts.add(figures.score_histogram(q, tier_thr), "score-histogram",
                                "Stacked counts per score bin; dashed lines are the thresholds that cut tiers."))
    if q.tier_by_lang is not None and q.tier_by_lang.height:
        parts.append(charts.add(figures.score_by_language(q, langs), "score-by-language",
                                f"The {len(langs)} most frequent languages; the rest are 'other'."))
    if q.signals and q.signal_by_tier is not None and q.signal_by_tier.height:
        sample = f" of a seeded sample of {q.signal_sample:,} documents" if q.signal_sample else ""
        parts.append(charts.add(figures.signals_grid(q, signal_thr), "signals", figures.BOX_NOTE.capitalize()
                                + f" of the documents{sample}; dashed: a rule's threshold. One panel per signal "
                                "of quality/ that varies; the grey line under each title is its column name. "
                                "The buttons switch between tiers and languages."))
    elif not q.signals and not q.steady:
        parts.append(missing("No heuristic signals:", "quality/ has no numeric signal columns."))
    if q.steady:
        rows = [(signal(st.signal).name, Html(f"<code>{esc(st.signal)}</code>"), f"{st.typical:.4g}",
                 share(st.share_typical),
                 f"{st.low:.4g} – {st.high:.4g}" if st.high > st.low else "the same in every document",
                 signal(st.signal).unit)
                for st in q.steady]
        parts.append(f"<details><summary>{len(q.steady)} signals not drawn: the same value across the middle 90% "
                     "of every tier's and language's documents</summary>"
                     + table(["Signal", "Column", "Typical value", "Documents at that value", "Range in the sample",
                              "Unit"], rows, numeric=(2, 3, 4)) + "</details>")
    if q.rulesets is not None and q.rulesets.height:
        parts.append(charts.add(figures.rulesets(q), "rulesets",
                                "Rule sets annotate, they do not drop: these are the decisions each would make."))
    parts.append(_examples(examples))
    return Section("quality", "Quality", Html("".join(parts)))


def _tier_table(cube: Cube) -> Html:
    frame = cube.frame
    dedup = frame.filter(kept(cube, *cube.flags))
    rows = []
    total_docs = max(1, int(frame["documents"].sum()))
    for tier in tier_order(frame["tier"].unique().to_list()):
        mine, mine_d = frame.filter(pl.col("tier") == tier), dedup.filter(pl.col("tier") == tier)
        rows.append((Html(f'<span class="badge" style="background:{tier_color(tier)}">{esc(tier)}</span>'),
                     f"{int(mine['documents'].sum()):,}", f"{mine['documents'].sum() / total_docs:.1%}",
                     f"{int(mine_d['documents'].sum()):,}",
                     si(mine_d["tokens"].sum()) if cube.token_col else None))
    return table(["tier", "documents", "share", "documents after dedup", "tokens after dedup"], rows,
                 numeric=(1, 2, 3, 4))


def _examples(examples: pl.DataFrame | None) -> Html:
    """A few documents per tier: every field escaped, text cut, the URL as text (never a link)."""
    if examples is None or not examples.height:
        return Html("")
    cards = []
    for tier in tier_order(examples["tier"].unique().to_list()):
        for row in examples.filter(pl.col("tier") == tier).to_dicts():
            score = row.get("quality_score")
            meta = " · ".join(x for x in (
                f"score {score:.3g}" if isinstance(score, float) else None,
                f"lang {row['lang']}" if row.get("lang") else None,
                f"domain {row['domain']}" if row.get("domain") else None,
                f"crawl {row['crawl']}" if row.get("crawl") else None,
                f"doc_id {row['doc_id']}") if x)
            text = row.get("text")
            cards.append(
                f'<article class="example" style="--tier:{tier_color(tier)}">'
                f'<div><span class="badge" style="background:{tier_color(tier)}">{esc(tier)}</span> '
                f'<span class="title">{esc(truncate(row.get("title") or "(no title)", 160))}</span></div>'
                f'<div class="meta">{esc(truncate(meta, 300))}</div><div>{url_text(row.get("url"))}</div>'
                f'<pre>{esc(truncate(text, 600)) if text else "(no text)"}</pre></article>')
    return Html("<h3>Example documents per tier</h3><p class=\"muted\">Picked by a seeded hash of doc_id; text "
                f"cut to 600 characters and shown as plain text.</p><div class=\"examples\">{''.join(cards)}</div>")


# ---------------------------------------------------------------------------------------------- stocks


def _interval(block: Mapping[str, Any] | None, cells: Cells) -> str | None:
    if not block or block.get("estimate") is None:
        return None
    return cells(block["estimate"], block.get("ci90"))


def stock_table(stocks: Mapping[str, Any]) -> Html:
    """Per tier: raw and deduplicated tokens with 90% intervals, share of tokens, sample size."""
    tiers = dict(stocks.get("tiers") or {})
    cells = Cells(why_no_interval(stocks))
    rows = []
    for tier in [*tier_order(list(tiers)), "all tiers"]:
        block = tiers.get(tier) if tier != "all tiers" else stocks.get("total")
        if not isinstance(block, dict):
            continue
        tok = block.get("tokens") or {}
        frac = (block.get("fraction_of_tokens") or {}).get("dedup")
        sample = block.get("sample") or {}
        rows.append((tier, _interval(tok.get("raw"), cells), _interval(tok.get("dedup"), cells),
                     share(frac) if isinstance(frac, float) else None,
                     f"{sample['documents']:,}" if isinstance(sample.get("documents"), int) else None,
                     f"{sample['files']:,}" if isinstance(sample.get("files"), int) else None))
    unit = stocks.get("tokenizer") or "tokens"
    return table(["Tier", f"Raw tokens ({unit})", "Deduplicated tokens", "Share of dedup tokens",
                  "Sampled documents", "Sampled files"], rows, numeric=(1, 2, 3, 4, 5),
                 caption="Estimated token stock of the population above: estimate [90% interval]" + cells.note())


def factors_table(stocks: Mapping[str, Any]) -> Html | None:
    """stocks.json's measured supply factors per language group: what the forecast multiplies the web by."""
    supply = stocks.get("supply") or {}
    groups = {k: v for k, v in (supply.get("groups") or {}).items() if isinstance(v, dict)}
    if not groups:
        return None
    why = why_no_interval(stocks)
    cells = Cells(why)
    tiers = tier_order(list(dict.fromkeys(t for g in groups.values() for t in (g.get("tier_share") or {}))))

    def three(v: float) -> str:
        return f"{v:.3f}"

    def frac(block: Any) -> str:
        block = block if isinstance(block, dict) else {}
        return cells(block.get("estimate"), block.get("ci90"), three)

    rows = []
    for name, g in groups.items():
        survival = g.get("dedup_survival") or {}
        lang = "all languages" if name == "*" else name
        rows.append((lang, cells(g.get("lang_share"), g.get("lang_share_ci90"), three),
                     frac(survival), *[frac((g.get("tier_share") or {}).get(t)) for t in tiers],
                     f"{g['documents']:,}" if isinstance(g.get("documents"), int) else None))
    parts = [table(["Language", "Share of raw tokens", "Dedup survival", *[f"{t} share" for t in tiers],
                    "Sampled documents"], rows, numeric=tuple(range(1, 4 + len(tiers))),
                   caption="Measured factors (fractions, estimate [90% interval]): the language's share of the "
                           "sample's tokens, the share left after deduplication, and each tier's share of the "
                           "deduplicated tokens" + cells.note())]
    floor = supply.get("common_crawl_floor") or {}
    if floor.get("estimate") is not None:
        parts.append(f"<p>Common Crawl floor: {esc(estimate(floor['estimate'], floor.get('ci90'), si, why=why))} "
                     f"tokens ({esc(floor.get('tokenizer') or stocks.get('tokenizer') or '')}) of "
                     f"{esc(floor.get('population') or 'distinct deduplicated text')}.</p>")
    survival = (groups.get("*") or {}).get("dedup_survival") or {}
    if survival.get("method") or survival.get("scope"):
        parts.append(f'<p class="muted">Dedup survival: {esc(survival.get("scope") or "")}'
                     f'{" — " + esc(survival["method"]) if survival.get("method") else ""}.</p>')
    return Html("".join(parts))


def _language_frame(run: RunData, cube: Cube | None) -> tuple[pl.DataFrame, str, str] | None:
    """(crawl, lang, tier, dedup_state, value) tallies: population estimates from stocks.parquet when
    present, else the sample's token counts."""
    sf = run.stocks_frame
    if sf is not None and {"crawl", "lang", "tier", "dedup_state", "est_tokens"} <= set(sf.columns):
        frame = sf.filter(pl.col("dedup_state").is_in(STOCK_STATES)).select(
            pl.col("crawl").fill_null("(none)"), pl.col("lang").fill_null("unknown"),
            pl.col("tier").fill_null("unscored"), "dedup_state", pl.col("est_tokens").fill_null(0.0))
        return frame, "est_tokens", "tokens (population point estimate)"
    if cube is None or cube.token_col is None:
        return None
    raw = cube.frame.with_columns(dedup_state=pl.lit("raw"))
    dedup = cube.frame.filter(kept(cube, *cube.flags)).with_columns(dedup_state=pl.lit("dedup"))
    frame = pl.concat([raw, dedup]).select("crawl", "lang", "tier", "dedup_state", "tokens")
    return frame, "tokens", "tokens in the sample"


def stocks_section(run: RunData, cube: Cube | None, langs: list[str], charts: Charts) -> Section:
    stocks = run.stocks
    parts: list[str] = []
    unit = f"tokens ({stocks.get('tokenizer')})" if stocks and stocks.get("tokenizer") else "tokens"
    if stocks:
        if stocks.get("population"):
            parts.append(f"<p><strong>Population:</strong> {esc(stocks['population'])}</p>")
        design = stocks.get("design") or {}
        if design.get("estimator"):
            parts.append(f'<p class="muted">Estimator: {esc(design["estimator"])}; '
                         f'{esc(design.get("files_sampled", "?"))} files sampled.</p>')
        parts.append(stock_table(stocks))
        if (factors := factors_table(stocks)) is not None:
            parts.append(factors)
        if stocks.get("tiers") or stocks.get("total"):
            estimator = (stocks.get("design") or {}).get("estimator") or "design-based"
            parts.append(charts.add(figures.stock_by_tier(stocks, unit), "stock-by-tier",
                                    f"Estimates ({estimator}) of the stock of the population above; pale: raw, "
                                    "solid: after deduplication; whiskers: 90% bootstrap interval (none where it "
                                    f"is n/a: {why_no_interval(stocks)})."))
        if stocks.get("dedup_scope"):
            parts.append(note(f"Dedup scope: {stocks['dedup_scope']}"))
    else:
        parts.append(missing("No stocks.json:", "tally-stocks did not run, so there are no population estimates; "
                                                "the chart below shows the sample's own token counts."))
    lang = _language_frame(run, cube)
    if lang is not None:
        frame, value, title = lang
        parts.append(charts.add(figures.stock_by_language(frame, value, title, langs), "stock-by-language",
                                "Intervals are estimated per tier and crawl (above); the language split is a "
                                "point estimate. Use the menu to show one crawl."))
    refs = (stocks or {}).get("reference_sizes")
    if stocks and refs:
        ours = []
        for tier, data in ((run.forecast or {}).get("tiers") or {}).items():
            usable = ((data or {}).get("supply") or {}).get("usable") or {}
            if usable.get("median"):
                ours.append((f"web scale, usable: {tier_name(tier)}", usable["median"], usable.get("ci90"),
                             tier_color(tier)))
        for name, block, color in (("files read: all tiers, raw", (stocks.get("total") or {}), "#2f3e55"),
                                   ("files read: all tiers, dedup", (stocks.get("total") or {}), "#2f3e55"),
                                   ("files read: high tier, dedup", (stocks.get("tiers") or {}).get("high") or {},
                                    tier_color("high"))):
            est, ci = figures.point(block, "tokens", "raw" if name.endswith("raw") else "dedup")
            ours.append((name, est, ci, color))
        union = ((stocks.get("cross_crawl") or {}).get("union") or {}).get("tokens") or {}
        if len((stocks.get("cross_crawl") or {}).get("crawls") or []) > 1 and union.get("estimate"):
            ours.append(("files read: unique across crawls", union["estimate"], union.get("ci90"), "#0f8b8d"))
        parts.append(charts.add(figures.reference_sizes(refs, ours, unit), "reference-sizes",
                                "This run's web-scale usable stock (from the forecast's chain) and the stock of the "
                                "population its files represent, beside published sizes, which use their own "
                                "tokenizers and filters (see hover for the basis); intervals: 90% for this run, "
                                "as published for the references."))
    return Section("stocks", "Token stocks", Html("".join(parts)))


# ---------------------------------------------------------------------------------------------- forecast


def _supply_chain(fc: Mapping[str, Any], why: str) -> list[Html]:
    """The measured chain per tier as a table (web stock × dedup survival × tier share = usable; floor), the
    growth assumption and the warnings."""
    supply = fc.get("supply")
    if not isinstance(supply, dict):
        return []
    tiers = {t: v["supply"] for t, v in (fc.get("tiers") or {}).items() if isinstance((v or {}).get("supply"), dict)}

    cells = Cells(why)

    def cell(block: Any, fmt: Any) -> str:
        block = block if isinstance(block, dict) else {}
        return cells(block.get("median"), block.get("ci90"), fmt)

    def frac(v: float) -> str:
        return f"{v:.3f}"

    rows = [(tier_name(t), cell(c.get("web"), si), cell(c.get("dedup_survival"), frac),
             cell(c.get("tier_share"), frac), cell(c.get("usable"), si), cell(c.get("floor"), si),
             share((c.get("floor") or {}).get("p_binds"))) for t, c in tiers.items()]
    year = next((c.get("year") for c in tiers.values()), "")
    out = [table(["Tier", f"Web stock {year} (tokens)", "× dedup survival", "× tier share", "= usable (tokens)",
                  "Common Crawl floor (tokens)", "Floor lifts the stock"], rows, numeric=(1, 2, 3, 4, 5, 6),
                 caption="Supply chain per tier: medians of the Monte Carlo draws [90% intervals]" + cells.note())
           ] if rows else []
    if (supply.get("growth") or {}).get("text"):
        out.append(note(truncate(str(supply["growth"]["text"]), 600)))
    for warning in (supply.get("warnings") or [])[:8]:
        out.append(note(truncate(str(warning), 400), "warn"))
    if supply.get("replaces"):
        out.append(Html(f'<p class="muted">{esc(truncate(str(supply["replaces"]), 400))}.</p>'))
    return out


def forecast_section(run: RunData, charts: Charts) -> Section:
    fc = run.forecast
    if not fc:
        return Section("forecast", "Forecast", missing(
            "The forecast did not run:", "no forecast.json in this run directory (flows run forecast --out DIR)."))
    if not forecast_view.valid(fc):
        return Section("forecast", "Forecast", missing(
            "forecast.json is incomplete:", "it lacks tiers with stock, demand and exhaustion bands."))
    inputs = fc.get("inputs") or {}
    parts = [f"<p><strong>Scenario:</strong> {esc(fc.get('scenario') or '?')}"
             + (f" — {esc(inputs['title'])}" if inputs.get("title") else "") + "</p>"]
    if inputs.get("citation"):
        parts.append(f'<p class="muted">{esc(truncate(inputs["citation"], 400))}</p>')
    parts.extend(_supply_chain(fc, why_no_interval(run.stocks)))
    rows = []
    for tier, data in fc["tiers"].items():
        mid, ci80, remarks = exhaustion(data, fc)
        rows.append((tier_name(tier), mid, ci80, "; ".join(remarks) or None, forecast_view.tier_unit(fc, tier)))
    parts.append(table(["Tier", "Exhaustion year, median", "80% interval", "Tails", "Stock unit"], rows,
                       numeric=(1, 2), caption="When demand reaches the effective stock (decimal calendar years)"))
    parts.append(charts.add(forecast_view.fan(fc), "fan",
                            "Effective stock = stock usable after quality filtering, dedup and repetition; demand = "
                            "dataset size of the largest training run that year. Each y-axis shows its stock's "
                            "range, so demand may leave the top."))
    parts.append(charts.add(forecast_view.exhaustion(fc), "exhaustion",
                            "When demand first reaches the effective stock: per year (bars) and by 1 January of "
                            "each year (lines; dots: the 10%, 50% and 90% points, whose years the legend lists)."))
    parts.append(charts.add(forecast_view.scenarios(fc, run.extra_forecasts), "scenarios",
                            "Dots: median exhaustion year; bars: 10%–90% of draws."))
    if not (fc.get("comparison") or {}).get("variants") and not run.extra_forecasts:
        parts.append(missing("One scenario only:", "forecast.json holds no 'comparison' variants and no "
                                                   "forecast-*.json sits beside it."))
    tornadoes = forecast_view.tornadoes(fc)
    for fig in tornadoes:
        parts.append(charts.add(fig, "tornado", "Each bar: the median exhaustion year with one input pinned at one "
                                                "end of its interval while the others are drawn."))
    if not tornadoes:
        parts.append(missing("No sensitivity analysis:", "forecast.json has no 'sensitivity' block."))
    return Section("forecast", "Forecast", Html("".join(parts)))


# ---------------------------------------------------------------------------------------------- run facts


def _duration(manifest: Mapping[str, Any]) -> float | None:
    try:
        start = dt.datetime.fromisoformat(str(manifest["started_at"]))
        end = dt.datetime.fromisoformat(str(manifest["finished_at"]))
    except (KeyError, ValueError, TypeError):
        return None
    return (end - start).total_seconds()


def run_totals(manifest: Mapping[str, Any]) -> dict[str, float | None]:
    """Wall time, CPU-seconds and peak memory of the run (summed/maxed over stages)."""
    stages = [s for s in (manifest.get("stages") or {}).values() if isinstance(s, dict)]
    cpu = [v for s in stages if (v := _num(s.get("cpu_seconds"))) is not None]
    rss = [v for s in stages if (v := _num(s.get("peak_rss_mb"))) is not None]
    walls = [v for s in stages if (v := _num(s.get("wall_seconds"))) is not None]
    wall = _duration(manifest)
    return {"wall": wall if wall is not None else (sum(walls) if walls else None),
            "cpu": sum(cpu) if cpu else None, "rss": max(rss) if rss else None}


def _fact_rows(run: RunData, totals: Mapping[str, float | None], docs: float | None) -> list[tuple[str, Any]]:
    """(fact, value) rows of the run's facts table, None where the manifest does not say."""
    m = run.manifest
    quality = m.get("quality") or {}
    return [
        ("flow", m.get("flow")), ("peakdata version", m.get("peakdata_version")),
        ("run directory", str(run.root)), ("started", _when(m["started_at"]) if m.get("started_at") else None),
        ("finished", _when(m["finished_at"]) if m.get("finished_at") else None),
        ("wall time", f"{totals['wall']:,.1f} s" if totals["wall"] is not None else None),
        ("CPU-seconds (all stages)", f"{totals['cpu']:,.1f} s" if totals["cpu"] is not None else None),
        ("CPU-seconds per 1,000 documents", f"{1000 * totals['cpu'] / docs:,.2f} s"
         if totals["cpu"] is not None and docs else None),
        ("peak memory (RSS, largest stage)", f"{totals['rss']:,.0f} MB" if totals["rss"] is not None else None),
        ("classifier device", quality.get("device")), ("quality scorer", quality.get("scorer")),
        ("input", "synthetic demo crawl" if m.get("demo") else "user input"),
    ]


def _stage_costs(m: Mapping[str, Any], charts: Charts) -> str:
    """The cost-per-stage chart and table, or why there is none."""
    stages = {k: v for k, v in (m.get("stages") or {}).items() if isinstance(v, dict)}
    if not stages:
        return missing("No stage timings:", "manifest.json has no 'stages' block.")
    chart = charts.add(figures.stage_costs(stages), "stage-costs",
                       "CPU-seconds above wall seconds mean the stage ran in parallel.")
    return "<h3>Cost per stage</h3>" + chart + table(
        ["stage", "wall s", "CPU s", "CPU/wall", "peak RSS MB", "documents", "MB", "docs/s", "MB/s"],
        [(name, *[_fmt(s.get(k), d) for k, d in (("wall_seconds", 1), ("cpu_seconds", 1))],
          _fmt(s["cpu_seconds"] / s["wall_seconds"], 2) if _num(s.get("cpu_seconds")) and _num(
              s.get("wall_seconds")) else None,
          _fmt(s.get("peak_rss_mb"), 0), _fmt(s.get("documents"), 0),
          _fmt(s["bytes"] / 1e6, 1) if _num(s.get("bytes")) is not None else None,
          _fmt(s.get("docs_per_s"), 1), _fmt(s.get("mb_per_s"), 2)) for name, s in stages.items()],
        numeric=tuple(range(1, 9)))


def facts_section(run: RunData, cube: Cube | None, charts: Charts) -> Section:
    m = run.manifest
    totals = run_totals(m)
    counts = m.get("counts") or {}
    docs = _num(counts.get("documents"))
    cards = sample_cards(run, cube)
    if totals["wall"] is not None:
        cpu = f"{totals['cpu']:,.0f} CPU-seconds" if totals["cpu"] is not None else "all stages"
        cards.append((f"{totals['wall']:,.0f} s", "wall time", cpu))
    facts = _fact_rows(run, totals, docs)
    parts = [_cards(cards), "<div class=\"cols\"><div>",
             table(["Fact", "Value"], [f for f in facts if f[1] is not None]), "</div>"]
    inputs = [str(i) for i in (m.get("inputs") or [])]
    shown = "".join(f"<li><code>{esc(truncate(i, 200))}</code></li>" for i in inputs[:MAX_INPUTS])
    more = f"<li class=\"muted\">… and {len(inputs) - MAX_INPUTS:,} more</li>" if len(inputs) > MAX_INPUTS else ""
    parts.append(f"<div><h3>Inputs ({len(inputs):,})</h3><ul>{shown}{more}</ul></div></div>" if inputs
                 else "<div><h3>Inputs</h3><p class=\"muted\">none recorded</p></div></div>")
    parts.append(_stage_costs(m, charts))
    sampling = m.get("sampling") or {}
    strata = sampling.get("strata") or {}
    if strata:
        parts.append("<h3>Sampling design</h3>")
        parts.append(table(["stratum", "format", "files in population", "files sampled", "seed"],
                           [(k, v.get("format"), _fmt(v.get("population_files"), 0), _fmt(v.get("sampled_files"), 0),
                             v.get("seed")) for k, v in strata.items() if isinstance(v, dict)], numeric=(2, 3)))
    if m.get("parameters"):
        parts.append(f"<h3>Parameters</h3>{kv_table(m['parameters'], ('Parameter', 'Value'), raw_keys=True)}")
    if m.get("versions"):
        parts.append("<details><summary>Package versions</summary>"
                     f"{table(['package', 'version'], sorted(m['versions'].items()))}</details>")
    failures = m.get("failures") or []
    if failures:
        parts.append(f"<h3>Failures ({len(failures):,})</h3>" + table(
            ["Failure"], [(value_text("failure", f, 400),) for f in failures[:50]]))
    if run.notes:
        parts.append("<h3>Notes on this report</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in run.notes)
                     + "</ul>")
    return Section("run", "Run facts and cost", Html("".join(parts)))


def _when(stamp: object) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM:SS UTC' (as given when it does not parse)."""
    try:
        return dt.datetime.fromisoformat(str(stamp)).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(stamp)


def _fmt(value: Any, digits: int) -> str | None:
    v = _num(value)
    return None if v is None else f"{v:,.{digits}f}"


def _cards(cards: Sequence[tuple[str, str, str]]) -> Html:
    """Bookkeeping numbers as small cards: value, what it counts, and which population."""
    return Html('<div class="kpis facts-cards">' + "".join(
        f'<div class="kpi"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div><div class="d">{esc(d)}</div>'
        "</div>" for v, k, d in cards) + "</div>")


def demo_banner(run: RunData) -> Html:
    """The plain statement that a demo run shows synthetic data, on top of the page."""
    if not run.manifest.get("demo"):
        return Html("")
    return Html('<div class="banner banner-demo" role="alert">Synthetic demo data: made-up documents, not web '
                "pages; the numbers below show what the report looks like and say nothing about the web. Run with "
                "<code>--input</code> to audit real crawl files.</div>")

