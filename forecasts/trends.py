"""Trend fits with bootstrap: training-set size of notable models (demand) and Common Crawl size (supply growth).

Both fits read small tables shipped in `forecasts/data/` (facts with citations) and also accept the
upstream files' own column names (Epoch AI's notable-models CSV, Common Crawl's crawl-size CSV), so a
user can point the scenario at a fresher download without reshaping it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

DATA_DIR = Path(__file__).resolve().parent / "data"
NOTABLE_MODELS_CSV = DATA_DIR / "notable_models.csv"
CC_CRAWL_SIZES_CSV = DATA_DIR / "cc_crawl_sizes.csv"

DATE_COL = "Publication date"
SIZE_COL = "Training dataset size (datapoints)"
DOMAIN_COL = "Domain"
CC_SERIES = {"urls": ("unique_urls", "url estim."), "digests": ("unique_digests", "digest estim."),
             "pages": ("pages", "page")}
_CRAWL_WEEK = re.compile(r"^CC-MAIN-(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class TrendFit:
    """OLS of log10(dataset size) on decimal year, with a bootstrap over models."""

    slope: float  # orders of magnitude per year
    ci95: tuple[float, float]
    intercept_2024: float  # log10 of the fitted size at 2024-01-01
    n_models: int
    start: str
    end: str
    domain: str
    source: str
    samples: np.ndarray = field(repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        return {"slope_oom_per_year": self.slope, "ci95": list(self.ci95), "n_models": self.n_models,
                "fitted_size_2024": 10**self.intercept_2024, "window": [self.start, self.end],
                "domain": self.domain, "table": self.source, "bootstrap": len(self.samples)}


@dataclass(frozen=True)
class GrowthFit:
    """Yearly growth of a cumulative crawl-size series near the base year, with a bootstrap over crawls.

    `linear`: the series grows by a constant amount a year (what Common Crawl's cumulative counts have
    done since ~2019); `rate` is that amount over the fitted level at the base year, and the stock
    then follows S(t) = S0 * (1 + rate * (t - base)). `exponential`: rate = e^slope - 1 of a log fit.
    """

    rate: float
    ci95: tuple[float, float]
    form: str
    series: str
    base_year: float
    n_points: int
    start: str
    source: str
    samples: np.ndarray = field(repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        return {"rate_per_year": self.rate, "ci95": list(self.ci95), "form": self.form, "series": self.series,
                "base_year": self.base_year, "n_points": self.n_points, "window_start": self.start,
                "table": self.source, "bootstrap": len(self.samples)}


def decimal_year(dates: pl.Series) -> np.ndarray:
    """Dates as decimal years (2024-07-02 -> ~2024.5), the time axis of every fit and projection."""
    year = dates.dt.year().cast(pl.Float64).to_numpy()
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return year + (dates.dt.ordinal_day().cast(pl.Float64).to_numpy() - 1.0) / np.where(leap, 366.0, 365.0)


def _bootstrap_ols(x: np.ndarray, y: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and intercepts of OLS fits on `n_boot` resamples of the points (all at once)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    xb, yb = x[idx], y[idx]
    xm, ym = xb.mean(axis=1, keepdims=True), yb.mean(axis=1, keepdims=True)
    sxx = ((xb - xm) ** 2).sum(axis=1)
    slope = np.divide(((xb - xm) * (yb - ym)).sum(axis=1), sxx, out=np.full(n_boot, np.nan), where=sxx > 0)
    keep = np.isfinite(slope)
    return slope[keep], (ym[:, 0] - slope * xm[:, 0])[keep]


def _parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(str(value))


def load_models_table(path: Path | str | None = None) -> pl.DataFrame:
    """The notable-models table (packaged default, or Epoch AI's CSV / a user CSV with the same columns)."""
    path = Path(path) if path is not None else NOTABLE_MODELS_CSV
    df = pl.read_csv(path, infer_schema_length=0, comment_prefix="#")
    missing = {DATE_COL, SIZE_COL, DOMAIN_COL} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return df.with_columns(
        pl.col(DATE_COL).str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("_date"),
        pl.col(SIZE_COL).str.replace_all(",", "").cast(pl.Float64, strict=False).alias("_size"),
    )


def fit_dataset_trend(path: Path | str | None = None, domain: str = "Language", start: str = "2010-01-01",
                      end: str = "2024-01-01", n_boot: int = 2000, seed: int = 0) -> TrendFit:
    """Growth of training-set sizes: OLS of log10(size) on publication date, bootstrapped over models.

    Keeps rows whose Domain contains `domain` (Epoch lists multi-domain models as "Multimodal,Language"),
    published in [start, end] inclusive, with a positive dataset size.
    """
    df = load_models_table(path).filter(
        pl.col(DOMAIN_COL).fill_null("").str.contains(domain, literal=True)
        & pl.col("_date").is_between(_parse_date(start), _parse_date(end))
        & (pl.col("_size") > 0)
    )
    if df.height < 3:
        raise ValueError(f"only {df.height} models with a dataset size in {start}..{end} for domain {domain!r}")
    x = decimal_year(df["_date"]) - 2024.0
    y = np.log10(df["_size"].to_numpy())
    slope, intercept = np.polyfit(x, y, 1)
    boot, _ = _bootstrap_ols(x, y, n_boot, seed)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return TrendFit(float(slope), (float(lo), float(hi)), float(intercept), df.height, start, end, domain,
                    str(path if path is not None else "forecasts/data/notable_models.csv"), boot)


def load_crawl_table(path: Path | str | None = None) -> pl.DataFrame:
    """Crawl-size table with a `date` column (packaged table, or Common Crawl's cumulative.csv)."""
    path = Path(path) if path is not None else CC_CRAWL_SIZES_CSV
    df = pl.read_csv(path, comment_prefix="#", infer_schema_length=0)
    if "date" in df.columns:
        return df.with_columns(pl.col("date").str.to_date("%Y-%m-%d"))
    if "crawl" not in df.columns:
        raise ValueError(f"{path}: needs a 'date' or a 'crawl' column")

    def crawl_date(name: str) -> dt.date | None:
        m = _CRAWL_WEEK.match(name)
        return dt.date.fromisocalendar(int(m[1]), int(m[2]), 1) if m else None

    return df.with_columns(pl.col("crawl").map_elements(crawl_date, return_dtype=pl.Date).alias("date")).filter(
        pl.col("date").is_not_null())


def fit_crawl_growth(path: Path | str | None = None, series: str = "urls", start: str = "2019-01-01",
                     form: str = "linear", base_year: float = 2024.0, n_boot: int = 2000,
                     seed: int = 0) -> GrowthFit:
    """Yearly growth of Common Crawl's cumulative size since `start`, bootstrapped over crawls."""
    if series not in CC_SERIES:
        raise ValueError(f"series must be one of {sorted(CC_SERIES)}, got {series!r}")
    if form not in ("linear", "exponential"):
        raise ValueError(f"form must be linear or exponential, got {form!r}")
    df = load_crawl_table(path)
    col = next((c for c in CC_SERIES[series] if c in df.columns), None)
    if col is None:
        raise ValueError(f"no column for series {series!r} (expected one of {CC_SERIES[series]})")
    df = df.filter(pl.col("date") >= _parse_date(start)).with_columns(pl.col(col).cast(pl.Float64))
    if df.height < 3:
        raise ValueError(f"only {df.height} crawls since {start}")
    x = decimal_year(df["date"]) - base_year
    y = df[col].to_numpy()
    if form == "linear":
        slope, level = np.polyfit(x, y, 1)
        b_slope, b_level = _bootstrap_ols(x, y, n_boot, seed)
        rate, samples = slope / level, b_slope / b_level
    else:
        slope, _ = np.polyfit(x, np.log(y), 1)
        b_slope, _ = _bootstrap_ols(x, np.log(y), n_boot, seed)
        rate, samples = np.expm1(slope), np.expm1(b_slope)
    lo, hi = np.quantile(samples, [0.025, 0.975])
    return GrowthFit(float(rate), (float(lo), float(hi)), form, series, base_year, df.height, start,
                     str(path if path is not None else "forecasts/data/cc_crawl_sizes.csv"), samples)
