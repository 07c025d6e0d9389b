"""The HTML report: built from a realistic run directory written here, self-contained, escaped, partial-run safe.

`write_run_dir` writes every table and JSON file the report reads, following docs/contracts.md and the
forecast.json format of issue 7; the browser and artifact tests reuse it.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.report import write_report
from forecasts.report.labels import Cells, estimate, interval, key_words, signal, size, value_text, why_no_interval
from forecasts.report.page import plotly_js
from forecasts.report.safe import esc, label, script_json, url_text

CRAWLS = ("CC-MAIN-2024-22", "CC-MAIN-2024-26")
LANGS = ("en", "en", "en", "de", "de", "fr", "zh", "es")
TIERS = ("high", "medium", "low")
STAGES = ("crawl-sample", "deduplicate", "quality-classify", "tally-stocks", "forecast")

# Each payload would leave a trace in the DOM if it ever ran: a <pwned-…> element or a changed title.
HOSTILE = [
    "</script><script>document.body.appendChild(document.createElement('pwned-script'))</script>",
    "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned-img'))\">",
    "\"><svg onload=\"document.title='PWNED'\"><b>bold</b>",
    "<a href=\"javascript:document.title='PWNED'\">click</a> & ' \" \u2028 \u2029 <!-- -->",
    "]]></style><style>body{display:none}</style>",
]
HOSTILE_URL = "javascript:document.body.appendChild(document.createElement('pwned-url'))"


def _forecast(tiers: dict[str, tuple[float, float]], years: range) -> dict:
    """A forecast.json like forecasts.run_forecast writes: {tier: (stock in base year, median exhaustion)}."""
    out: dict = {"scenario": "measured", "tiers": {}, "meta": {"years": list(years), "horizon": years[-1]},
                 "inputs": {"title": "Measured stocks", "citation": "Villalobos et al. 2024",
                            "units": {"stock": {t: "tokens" for t in tiers}}}}
    spread = {"p2.5": 0.35, "p5": 0.45, "p10": 0.6, "p50": 1.0, "p90": 1.7, "p95": 2.2, "p97.5": 2.8}
    for tier, (stock, p50) in tiers.items():
        def band(base: float, growth: float) -> dict:
            return {str(y): {k: base * growth ** (y - years[0]) * f for k, f in spread.items()} for y in years}
        demand0 = stock * 10 ** (-0.38 * (p50 - years[0]))
        p_by = {str(y): round(min(1.0, max(0.0, 0.5 + (y - p50) / 6)), 3) for y in years}
        p90 = p50 + 3.4 if p50 + 3.4 <= years[-1] else None
        share = round(stock / 2.5e15, 3)
        out["tiers"][tier] = {
            "stock": {"raw": band(stock * 3, 1.06), "effective": band(stock, 1.06)},
            "demand": band(demand0, 10 ** 0.38),
            "exhaustion_year": {"p10": p50 - 2.1, "p50": p50, "p90": p90},
            "p_exhausted_by": p_by,
            "p_not_within_horizon": 0.0 if p90 is not None else 0.12,
            "already_exhausted": {"by": years[0], "probability": 0.0},
            "answer": {"median": p50, "ci80": [p50 - 2.1, p90], "text": f"median {p50:.1f}"},
            "supply": {"year": years[0], "unit": "tokens", "level": "ci90", "members": [tier],
                       "web": {"median": 5.1e14, "ci90": [1.6e14, 1.7e15]},
                       "dedup_survival": {"median": 0.8, "ci90": [0.8, 0.8]},
                       "tier_share": {"median": share, "ci90": [share, share]},
                       "usable": {"median": stock, "ci90": [stock * 0.32, stock * 3.3]},
                       "floor": {"median": 1.7e12, "ci90": [1.7e12, 1.7e12], "p_binds": 0.0}},
        }
    out["supply"] = {"level": "ci90", "warnings": ["Small sample: fewer than 5 files read in local."],
                     "growth": {"source": "published", "text": "web stock growth: published rate"},
                     "chain": {}, "small_sample": True}
    zh = {"already_exhausted": {"by": years[0], "probability": 0.84}, "p_not_within_horizon": 0.0,
          "exhaustion_year": {"p10": None, "p50": None, "p90": years[0] + 0.3},
          "answer": {"median": None, "ci80": [None, years[0] + 0.3], "text": "Already exhausted"},
          "supply": {"year": years[0], "lang_share": {"median": 0.007, "ci90": [0.007, 0.007]},
                     "usable": {"median": 1.5e12, "ci90": [4.8e11, 4.9e12]}}}
    out["languages"] = {"zh": {"tiers": {t: zh for t in tiers}, "documents": 4, "files": 1}}
    out["sensitivity"] = {
        "draws": 10000, "seed": 0, "measure": "median exhaustion year (decimal year)",
        "baseline_p50": {t: p50 for t, (_, p50) in tiers.items()},
        "tiers": {t: [{"input": f"tiers.{t}.stock", "label": f"{t} stock", "low": s / 3, "high": s * 3,
                       "p50_at_low": p50 - 1.8, "p50_at_high": p50 + 2.0, "swing_years": 3.8},
                      {"input": "demand.historical.growth_oom", "label": "demand historical growth oom",
                       "low": 0.27, "high": 0.48, "p50_at_low": p50 + 1.2, "p50_at_high": p50 - 0.9,
                       "swing_years": 2.1}] for t, (s, p50) in tiers.items()},
    }
    out["comparison"] = {"scenario": "measured", "variants": {
        name: {"overtrain": k, "epochs": None, "tiers": {
            t: {"exhaustion_year": {"p10": p50 - shift - 2, "p50": p50 - shift, "p90": p50 - shift + 3}}
            for t, (_, p50) in tiers.items()}}
        for name, k, shift in (("Chinchilla-optimal", None, 0.0), ("5x overtraining", 5.0, 1.0),
                               ("100x overtraining", 100.0, 3.0))}}
    return out


def write_run_dir(root: Path, n_docs: int = 64, hostile: bool = False) -> Path:
    """A complete run directory of `n_docs` documents over 2 crawls, 4 shards; hostile strings when asked."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_docs):
        crawl = CRAWLS[i % 2]
        lang = LANGS[i % len(LANGS)]
        bad = HOSTILE[i % len(HOSTILE)] if hostile else ""
        text = (f"Document {i} in {lang}. " + "Some words about data and supply. " * (3 + i % 17)
                + ("\n" + bad if hostile else ""))
        rows.append({
            "doc_id": f"{crawl}-{i:05d}",
            "url": HOSTILE_URL if hostile and i % 3 == 0 else f"https://site{i % 9}.example.{lang}/p/{i}?q=1&x=<b>",
            "domain": (bad[:30] if hostile and i % 4 == 0 else f"site{i % 9}.example.{lang}"),
            "tld": lang,
            "crawl": (HOSTILE[0] if hostile and i % 8 == 7 else crawl),
            "source_file": f"{crawl}/segment-{i % 4}.warc.gz",
            "record_index": i,
            "fetch_date": dt.datetime(2024, 5, 20, tzinfo=dt.timezone.utc),
            "content_type": "text/html",
            "title": (bad if hostile else f"Page {i}: a title") if i % 10 else None,
            "lang": (HOSTILE[1] if hostile and i % 16 == 5 else lang),
            "lang_score": 0.9,
            "text": text,
            "n_bytes": len(text.encode()),
        })
    docs = pl.DataFrame(rows).with_columns(pl.col("record_index").cast(pl.Int64),
                                           pl.col("lang_score").cast(pl.Float32))
    ids = docs["doc_id"]
    exact = [i % 9 == 4 for i in range(n_docs)]
    url = [i % 11 == 6 for i in range(n_docs)]
    near = [i % 7 == 3 for i in range(n_docs)]
    dedup = pl.DataFrame({
        "doc_id": ids, "exact_cluster": [f"e{i // 9}" for i in range(n_docs)],
        "url_cluster": [f"u{i // 11}" for i in range(n_docs)], "near_cluster": [f"n{i // 7}" for i in range(n_docs)],
        "is_exact_duplicate": exact, "is_url_duplicate": url, "is_near_duplicate": near,
        "is_duplicate": [a or b or c for a, b, c in zip(exact, url, near)],
    })
    score = [round(((i * 37) % 100) / 100, 2) for i in range(n_docs)]
    quality = pl.DataFrame({
        "doc_id": ids,
        "gopher_mean_word_length": [4.0 + (i % 5) * 0.4 for i in range(n_docs)],
        "gopher_quality_hash_ratio": [0.0] * n_docs,  # a rule that never fires: no panel, listed instead
        "zstd_ratio": [1.0 + (i % 11) / 2 for i in range(n_docs)],  # a ratio that exceeds 1, not a fraction
        "fraction_alpha_words": [0.5 + (i % 10) / 20 for i in range(n_docs)],
        "line_count": [1 + i % 12 for i in range(n_docs)],
        "frac_duplicate_lines": [(i % 6) / 10 for i in range(n_docs)],
        "gopher_keep": [s > 0.3 for s in score],
        "gopher_reason": [None if s > 0.3 else ("gopher_short_doc" if i % 2 else (HOSTILE[2] if hostile else
                                                                                    "gopher_below_alpha_threshold"))
                          for i, s in enumerate(score)],
        "c4_keep": [s > 0.2 for s in score],
        "c4_reason": [None if s > 0.2 else "c4_lorem_ipsum" for s in score],
        "quality_score": score,
    })
    tiers = pl.DataFrame({"doc_id": ids, "quality_score": score,
                          "tier": ["high" if s >= 0.7 else "medium" if s >= 0.4 else "low" for s in score]})
    tokens = pl.DataFrame({"doc_id": ids, "tokens_cl100k_base": [len(t) // 4 for t in docs["text"]]})
    for table, frame in (("documents", docs), ("dedup", dedup), ("quality", quality), ("tiers", tiers),
                         ("tokens", tokens)):
        (root / table).mkdir(exist_ok=True)
        half = n_docs // 2
        frame.head(half).write_parquet(root / table / "part-00000-a.parquet")
        frame.tail(n_docs - half).write_parquet(root / table / "part-00001-b.parquet")

    def point(x: float) -> dict:
        return {"estimate": x, "ci90": [x * 0.7, x * 1.4], "unit": "tokens"}

    def block(raw: float, share: float) -> dict:
        return {"tokens": {"raw": point(raw), "dedup": point(raw * 0.8)},
                "fraction_of_tokens": {"raw": share, "dedup": share, "unit": "fraction"},
                "documents": {"raw": point(raw / 500), "dedup": point(raw / 600)},
                "sample": {"documents": n_docs // 3, "files": 8}}

    shares = {"high": 0.3, "medium": 0.45, "low": 0.25}
    stocks = {
        "unit": "tokens", "tokenizer": "cl100k_base", "population": "text documents of 2 crawls' WARC files",
        "design": {"files_sampled": 8, "estimator": "horvitz-thompson; bootstrap over files, B=1000"},
        "tiers": {t: block(2e12 * s, s) for t, s in shares.items()}, "total": block(2e12, 1.0),
        "crawls": {c: {"tiers": {t: block(1e12 * s, s) for t, s in shares.items()}, "total": block(1e12, 1.0)}
                   for c in CRAWLS},
        "cross_crawl": {"crawls": list(CRAWLS), "union": {"tokens": point(1.7e12)}},
        "dedup_scope": "within crawl, among sampled documents",
        "reference_sizes": {
            "fineweb": {"tokens": 1.5e13, "unit": "tokens", "source": "Penedo et al. 2024"},
            "indexed_web_epoch2024": {"tokens": 5.1e14, "ci95": [1.3e14, 2.1e15], "unit": "tokens",
                                      "source": "Villalobos et al. 2024"},
            "dclm_baseline": {"tokens": 3.8e12, "unit": "tokens", "source": "Li et al. 2024"},
        },
    }
    (root / "stocks.json").write_text(json.dumps(stocks))
    cells = (docs.join(tiers, on="doc_id").join(tokens, on="doc_id").join(dedup, on="doc_id")
             .with_columns(pl.col("crawl").alias("crawl"), pl.col("tokens_cl100k_base").alias("tokens")))
    stock_rows = pl.concat([
        cells.group_by("crawl", "lang", "tier", "tld").agg(documents=pl.len(), tokens=pl.col("tokens").sum())
        .with_columns(dedup_state=pl.lit("raw")),
        cells.filter(~pl.col("is_duplicate")).group_by("crawl", "lang", "tier", "tld")
        .agg(documents=pl.len(), tokens=pl.col("tokens").sum()).with_columns(dedup_state=pl.lit("dedup")),
    ]).with_columns(est_tokens=pl.col("tokens") * 1e9, est_tokens_ci90_low=pl.col("tokens") * 0.7e9,
                    est_tokens_ci90_high=pl.col("tokens") * 1.4e9)
    stock_rows.write_parquet(root / "stocks.parquet")
    forecast = _forecast({"high": (6e14, 2026.4), "medium": (9e14, 2029.8), "low": (2e15, 2034.5)},
                         range(2024, 2041))
    if hostile:  # a user's scenario file names the tiers and inputs: the forecast charts get them too
        forecast["scenario"] = HOSTILE[0]
        forecast["inputs"]["citation"] = HOSTILE[1]
        for block in (forecast["tiers"], forecast["sensitivity"]["tiers"], forecast["sensitivity"]["baseline_p50"]):
            block[HOSTILE[1]] = block.pop("low")
        forecast["languages"][HOSTILE[2]] = forecast["languages"].pop("zh")
        forecast["supply"]["warnings"].append(HOSTILE[0])
        forecast["sensitivity"]["tiers"][HOSTILE[1]][0]["label"] = HOSTILE[3]
        forecast["comparison"]["variants"][HOSTILE[2]] = forecast["comparison"]["variants"].pop("5x overtraining")
    (root / "forecast.json").write_text(json.dumps(forecast))
    dropped = {"non_html": 21, "http_status": 7, "empty_text": 3}
    errors = {"corrupt_gzip": 1, "malformed_record": 2}
    if hostile:
        dropped[HOSTILE[3]] = 1
    manifest = {
        "peakdata_version": "0.1.0", "flow": "quality-audit", "demo": not hostile,
        "started_at": "2024-06-01T10:00:00+00:00", "finished_at": "2024-06-01T10:03:12.5+00:00",
        "parameters": {"out": str(root), "workers": 2, "seed": 1, "tokenizer": "cl100k_base",
                       "note": HOSTILE[0] if hostile else "demo run"},
        "versions": {"polars": pl.__version__, "plotly": "6", "peakdata": "0.1.0"},
        "inputs": [HOSTILE[1] if hostile else "demo://crawl"] + [f"{c}/segment-{k}.warc.gz" for c in CRAWLS
                                                                 for k in range(4)],
        "counts": {"records_read": n_docs + sum(dropped.values()) + sum(errors.values()), "documents": n_docs,
                   "dropped": dropped, "errors": errors, "file_errors": {"truncated_file": 1},
                   "skipped_record_types": {"request": 40, "metadata": 40}, "bytes_read": 9_800_000, "files": 8},
        "sampling": {"strata": {c: {"format": "warc", "population_files": 90000, "sampled_files": 4, "seed": 1}
                                for c in CRAWLS}, "files": []},
        "stages": {s: {"wall_seconds": 10.0 + 7 * k, "cpu_seconds": 14.0 + 11 * k, "peak_rss_mb": 300 + 90 * k,
                       "documents": n_docs, "bytes": 9_800_000, "docs_per_s": n_docs / (10.0 + 7 * k),
                       "mb_per_s": 9.8 / (10.0 + 7 * k)} for k, s in enumerate(STAGES)},
        "dedup": {"documents": n_docs, "representative_rule": HOSTILE[2] if hostile else "earliest crawl",
                  "kinds": {k: {"documents": n_docs, "duplicates": sum(v)} for k, v in (("exact", exact), ("url", url),
                                                                                       ("near", near))},
                  "crawl_overlap": [{"crawl": c, "seen_documents": k} for k, c in enumerate(CRAWLS)],
                  "params": {"exact": True, "url_tracking_params": ["utm_*"]}},
        "quality": {"thresholds": {"high": 0.7, "low": 0.4, "frac_duplicate_lines": 0.3}, "scorer": "heuristic",
                    "device": "cpu"},
        "failures": [{"shard": HOSTILE[4], "error": "ValueError: bad"}] if hostile else [],
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run = write_run_dir(tmp_path_factory.mktemp("run"))
    path = build_report(run)
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run = write_run_dir(tmp_path_factory.mktemp("hostile"), hostile=True)
    path = build_report(run)
    return path, path.read_text(encoding="utf-8")


def chart_ids(page: str) -> list[str]:
    return re.findall(r'<div class="chart" id="([^"]+)"', page)


def figures_json(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="peakdata-figures">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_report_has_every_section_and_chart(full_report: tuple[Path, str]) -> None:
    path, page = full_report
    assert path.name == "report.html" and not list(path.parent.glob(".report.html.*"))
    assert '<section class="card answer" id="answer">' in page
    for section in ("funnel", "quality", "stocks", "forecast", "run"):
        assert f'<section class="card" id="{section}">' in page
    assert page.index('id="answer"') < page.index('id="funnel"') < page.index('id="run"')
    ids = chart_ids(page)
    names = {i.split("-", 2)[2] for i in ids}
    assert names == {"funnel", "reasons", "score-histogram", "score-by-language", "signals", "rulesets",
                     "stock-by-tier", "stock-by-language", "reference-sizes", "fan", "exhaustion", "scenarios",
                     "tornado", "stage-costs"}
    assert sorted(figures_json(page)) == sorted(ids)
    assert "did not run" not in page
    assert "Synthetic demo data" in page  # manifest.demo is true


def test_report_is_self_contained(full_report: tuple[Path, str]) -> None:
    _, page = full_report
    assert page.count(plotly_js()) == 1 and "plotly.js v" in page
    ours = page.replace(plotly_js(), "")  # plotly.js mentions URLs in code paths a report never takes
    assert not re.search(r"<script[^>]*\bsrc=", ours)
    assert not re.search(r"<link\b", ours)
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", ours)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp and "default-src 'none'" in csp.group(1) and "'unsafe-inline'" not in csp.group(1).split(";")[1]


def test_funnel_numbers(full_report: tuple[Path, str]) -> None:
    _, page = full_report
    fig = next(v for k, v in figures_json(page).items() if k.endswith("-funnel"))
    docs = fig["data"][0]
    stages = dict(zip(docs["y"], docs["x"]))
    n = 64
    exact = sum(i % 9 == 4 for i in range(n))
    assert stages["records read"] == n + 31 + 3
    assert stages["documents"] == n
    assert stages["after exact dedup"] == n - exact
    unique = [i for i in range(n) if not (i % 9 == 4 or i % 11 == 6 or i % 7 == 3)]
    assert stages["after near dedup"] == len(unique)
    assert stages["high tier"] == sum(((i * 37) % 100) / 100 >= 0.7 for i in unique)
    assert list(docs["x"]) == sorted(docs["x"], reverse=True)
    assert "✓ Accounting: 98 records read = 64 documents + 31 dropped + 3 errors" in page
    reasons = next(v for k, v in figures_json(page).items() if k.endswith("-reasons"))
    assert sorted(y for t in reasons["data"] for y in t["y"]) == [
        "dropped: empty_text", "dropped: http_status", "dropped: non_html", "error: corrupt_gzip",
        "error: malformed_record", "file error: truncated_file"]
    assert "Skipped record types (not content records, so not counted as read): metadata 40, request 40." in page
    kinds = re.search(r"<caption>Duplicates by kind</caption>.*?</table>", page, re.S).group(0)
    assert re.findall(r"<td class=num>(\d+)</td></tr>", kinds) == ["7", "6", "9"]  # duplicates per kind
    assert "<th>Kind</th><th class=num>Documents</th><th class=num>Duplicates</th>" in kinds  # plain headers
    overlap = re.search(r"<caption>Overlap with earlier crawls</caption>.*?</table>", page, re.S).group(0)
    assert "<th class=num>Seen documents</th>" in overlap and "seen_documents" not in overlap
    assert "More (params)" in page


def test_quality_charts_have_thresholds_and_tiers(full_report: tuple[Path, str]) -> None:
    _, page = full_report
    figs = figures_json(page)
    hist = next(v for k, v in figs.items() if k.endswith("-score-histogram"))
    assert [t["name"] for t in hist["data"]] == ["high", "medium", "low"]
    lines = sorted(s["x0"] for s in hist["layout"]["shapes"])
    assert lines == [0.4, 0.7]
    signals = next(v for k, v in figs.items() if k.endswith("-signals"))
    titles = [a["text"].split("<br>")[0] for a in signals["layout"]["annotations"] if a.get("name") != "demo-label"]
    columns = [re.sub(r"<[^>]+>", "", a["text"].split("<br>")[1]) for a in signals["layout"]["annotations"]
               if a.get("name") != "demo-label"]
    # every signal that varies gets a panel titled in words, its column name beneath; the constant one does not
    assert columns == ["gopher_mean_word_length", "zstd_ratio", "fraction_alpha_words", "line_count",
                       "frac_duplicate_lines"]
    assert titles[1] == "Compression ratio (zstd)" and "fraction" not in signals["layout"]["yaxis2"]["title"]["text"]
    assert signals["layout"]["yaxis2"]["range"][1] >= 5.5  # the ratio's axis reaches its values
    assert signals["layout"]["yaxis3"]["title"]["text"] == "fraction" and signals["layout"]["yaxis3"]["range"][1] <= 1.1
    for k in range(1, len(columns) + 1):  # true axes: a range around the data, never a flat −1…1 default
        lo, hi = signals["layout"][f"yaxis{k if k > 1 else ''}"]["range"]
        assert hi > lo and (lo, hi) != (-1, 1)
    assert "1 signals not drawn" in page and "<code>gopher_quality_hash_ratio</code>" in page
    assert any(s.get("y0") == 0.3 for s in signals["layout"]["shapes"])  # the signal's own threshold
    for name, fig in figs.items():  # every axis a trace draws on has a title that says its unit
        for trace in fig["data"]:
            for ref in (trace.get("xaxis", "x"), trace.get("yaxis", "y")):
                axis = fig["layout"].get(f"{ref[0]}axis{ref[1:]}", {})
                if axis.get("showticklabels", True):  # an unlabelled axis shares its neighbour's labels
                    assert axis.get("title", {}).get("text"), (name, ref)
    assert page.count('<article class="example"') == 9


def test_examples_show_urls_as_text_only(hostile_report: tuple[Path, str]) -> None:
    _, page = hostile_report
    markup = page.split("<script")[0]
    assert re.findall(r"<a\b[^>]*>", markup) == [f'<a href="#{s}">' for s in ("answer", "funnel", "quality",
                                                                               "stocks", "forecast", "run")]
    assert 'href="javascript' not in page and "href='javascript" not in page
    assert esc(HOSTILE_URL) in page


def test_hostile_strings_are_escaped(hostile_report: tuple[Path, str]) -> None:
    _, page = hostile_report
    markup = page.split('<script type="application/json"')[0]
    for payload in HOSTILE:
        assert payload not in page
    assert "<pwned" not in page and "<img" not in markup and "<svg" not in markup
    assert "onerror=" not in markup.replace("onerror=&quot;", "")
    assert re.findall(r"<script\b", page) == ['<script', '<script', '<script']  # figures, plotly.js, renderer
    assert page.count("</script>") == 3
    payload = re.search(r'id="peakdata-figures">(.*?)</script>', page, re.S).group(1)
    assert not set("<>&\u2028\u2029") & set(payload)
    assert esc(HOSTILE[0]) in markup  # shown, as text
    assert "Synthetic demo data" not in page  # demo is false here
    figs = json.loads(payload)
    labels = json.dumps(figs)
    assert "<script" not in labels and "<img" not in labels and "&lt;img" in labels


def test_safe_helpers() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert esc("a\x00b\ud800") == "a\ufffdb\ufffd"
    assert script_json('"</script>\u2028&"') == '"\\u003c/script\\u003e\\u2028\\u0026"'
    assert label("<b>x</b>", 5) == "&lt;b&gt;x…"
    assert url_text("javascript:alert(1)") == "<code class=\"url\">javascript:alert(1)</code>"
    assert html.unescape(label("a&amp;b")) == "a&amp;b"


def test_report_without_optional_tables(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=20)
    for name in ("dedup", "quality", "tiers", "tokens"):
        shutil.rmtree(run / name)
    for name in ("stocks.json", "stocks.parquet", "forecast.json"):
        (run / name).unlink()
    page = build_report(run).read_text(encoding="utf-8")
    assert "Deduplication did not run" in page and "Quality classification did not run" in page
    assert "Tokens were not counted" in page and "No stocks.json" in page and "The forecast did not run" in page
    names = {i.split("-", 2)[2] for i in chart_ids(page)}
    assert names == {"funnel", "reasons", "stage-costs"}

    shutil.rmtree(run / "documents")
    (run / "manifest.json").write_text(json.dumps({"flow": "crawl-sample"}))
    page = build_report(run).read_text(encoding="utf-8")
    assert "No documents/ table" in page and "No stage timings" in page and "No accounting" in page


def test_report_notes_unreadable_files(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=16)
    (run / "forecast.json").write_text("{not json")
    (run / "tokens" / "part-00001-b.parquet").write_bytes(b"PAR1 broken")
    page = build_report(run).read_text(encoding="utf-8")
    assert "forecast.json could not be read" in page
    assert "tokens/part-00001-b.parquet could not be read" in page
    assert "8 documents have no tokens_cl100k_base in tokens/: token totals are partial" in page


def test_report_requires_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        build_report(tmp_path)


def test_rebuild_is_stable_and_atomic(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=24)
    first = build_report(run).read_text(encoding="utf-8")
    second = build_report(run).read_text(encoding="utf-8")
    strip = re.compile(r"on \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert strip.sub("", first) == strip.sub("", second)
    assert sorted(p.name for p in run.iterdir() if p.is_file()) == [
        "forecast.json", "manifest.json", "report.html", "stocks.json", "stocks.parquet"]


def answer_block(page: str) -> str:
    """The first section's markup, tags stripped to text."""
    block = re.search(r'<section class="card answer" id="answer">(.*?)</section>', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", " ", block))


def test_first_section_holds_the_answer(full_report: tuple[Path, str]) -> None:
    _, page = full_report
    text = " ".join(answer_block(page).split())
    # per tier: web-scale usable stock with its 90% interval and unit, exhaustion median with its 80% interval
    assert "high 600T tokens 192T – 1.98P 2026.4 2024.3 – 2029.8" in text
    assert "low 2P tokens 640T – 6.6P 2034.5 2032.4 – 2037.9" in text
    assert "tokens on the indexed web" in text and "90% interval" in text and "80% interval" in text
    # the chain in one sentence, with the floor; flat measured intervals explained once, never "0.8 – 0.8"
    assert "web text (510T [90%: 160T – 1.7P] tokens" in text and "× dedup survival 0.8 × tier share" in text
    assert "Common Crawl floor" in text and "intervals n/a (no spread across 8 files)" in text
    assert "Small sample: fewer than 5 files read in local." in text  # warnings on the first screen
    # the per-language answer: a stock and "already exhausted by YEAR (P=…)" where the median is before the start
    assert "already exhausted by 2024 (P=0.84)" in text and "2024 or earlier – 2024.3" in text
    assert "4 documents · small sample" in text
    # bookkeeping is not part of the answer
    assert "records read" not in text and "wall time" not in text
    facts = re.search(r'<section class="card" id="run">(.*?)</section>', page, re.S).group(1)
    assert "records read" in facts and "tokens in this sample after dedup (cl100k_base)" in facts


def test_cumulative_tiers_and_unestimable_intervals(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=24)
    fc = json.loads((run / "forecast.json").read_text())
    fc["tiers"] = {new: fc["tiers"][old] for old, new in (("high", "high"), ("medium", "medium_or_better"),
                                                          ("low", "low_or_better"))}
    fc["tiers"]["low_or_better"]["answer"]["median"] = None
    fc["tiers"]["low_or_better"]["already_exhausted"]["probability"] = 0.62
    (run / "forecast.json").write_text(json.dumps(fc))
    stocks = json.loads((run / "stocks.json").read_text())
    for block in [stocks["total"], *stocks["tiers"].values()]:
        for state in block["tokens"].values():
            state["ci90"] = [state["estimate"], state["estimate"]]  # one file: no spread to estimate from
    stocks["design"]["files_sampled"] = 1
    (run / "stocks.json").write_text(json.dumps(stocks))
    page = build_report(run).read_text(encoding="utf-8")
    text = " ".join(answer_block(page).split())
    assert "Tier (cumulative)" in text and "medium or better" in text and "low or better" in text
    assert "low or better 2P tokens 640T – 6.6P already exhausted by 2024 (P=0.62)" in text
    assert "intervals n/a (1 file)" in text
    markup = page.split("<script")[0]
    assert "n/a (1 file)" in markup
    plain = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    # no zero-width interval anywhere in the text: "600B – 600B" or "[0.8, 0.8]"
    assert not re.search(r"(\d[\d.,]*[KMBTP]?) – \1(?!\d)", plain)
    assert not re.search(r"\[(\d[\d.]*), \1\]", plain)


def test_no_forecast_answer_uses_population_estimate(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "run", n_docs=16)
    (run / "forecast.json").unlink()
    text = " ".join(answer_block(build_report(run).read_text(encoding="utf-8")).split())
    assert "No exhaustion year" in text and "Token stock of text documents of 2 crawls' WARC files" in text
    assert "high 480B 336B – 672B" in text


def test_demo_label_is_in_every_figure(full_report: tuple[Path, str], hostile_report: tuple[Path, str]) -> None:
    figs = figures_json(full_report[1])
    for name, fig in figs.items():  # in the figure's own layout, so Plotly's PNG export keeps it
        labels = [a for a in fig["layout"].get("annotations", []) if a.get("name") == "demo-label"]
        assert labels and labels[0]["text"] == "SYNTHETIC DEMO DATA", name
    for fig in figures_json(hostile_report[1]).values():  # not a demo run: no label
        assert not [a for a in fig["layout"].get("annotations", []) if a.get("name") == "demo-label"]


def test_no_raw_json_in_tables(full_report: tuple[Path, str]) -> None:
    markup = full_report[1].split("<script")[0]
    assert not re.search(r'[{\[]&quot;|[{\[]"', markup)  # no JSON object or list printed as text
    assert "9.8 MB read" in markup  # bytes as sizes
    assert "url tracking params: utm_*" in markup  # nested settings as words and values
    assert "<td><code>tokenizer</code></td><td>cl100k_base</td>" in markup  # parameters keep their CLI names


def test_label_helpers() -> None:
    assert interval([5.0, 5.0], why="1 file") == "n/a (1 file)"
    assert interval(None) == "n/a (not estimated)"
    assert interval([1e12, 3e12]) == "1T – 3T"
    assert estimate(1.87e6, [1.87e6, 1.87e6], why="1 file") == "1.87M (90% interval n/a: 1 file)"
    assert estimate(2e6, [1e6, 3e6]) == "2M [90%: 1M – 3M]"
    cells = Cells("census of all 4 files")
    assert cells(0.84, [0.84, 0.84], lambda v: f"{v:.2f}") == "0.84" and "n/a (census of all 4 files)" in cells.note()
    assert size(3287402) == "3.29 MB" and size(512) == "512 B"
    assert key_words("duplicate_bytes") == "Duplicate size" and key_words("share_bytes_seen") == "Share of size seen"
    assert value_text("params", {"a": [1, 2], "b": True}) == "a: 1, 2; b: yes"
    assert signal("zstd_ratio").unit != "fraction" and signal("some_new_frac").unit == "fraction"
    assert signal("gopher_repetition_dup_7_gram_char_frac").name == "Repeated 7-grams (Gopher)"
    assert why_no_interval({"design": {"files_sampled": 1}}) == "1 file"
    assert why_no_interval({"design": {"files_sampled": 4, "strata": {"a": {"variance": "none: census"}}}}) == \
        "census of all 4 files"


def build_report(run: Path) -> Path:
    """report.html of a run directory, written as the report flow writes it."""
    return Path(write_report(str(run)))
