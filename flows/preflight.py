"""Checks of a flow's options that run before Prefect starts, so that mistakes are answered in seconds.

Every check raises `UsageError` with a plain sentence that says what is wrong and what to do. Nothing here
imports Prefect; network access happens only for `--crawl` without `--files`/`--file-fraction`, where the
listing's size is what the refusal of an implicit census has to report.
"""

from __future__ import annotations

import glob
import os
import re
import socket
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flows.sources.commoncrawl import DEFAULT_BASE_URL
from flows.sources.local import INPUT_SUFFIXES, is_input_file, is_remote

DNS_TIMEOUT_S = 5.0
CRAWL_NAME = re.compile(r"CC-MAIN-\d{4}-\d{2}")
# Typical compressed sizes of one Common Crawl file (2023-2025 crawls): what a census would download.
TYPICAL_FILE_BYTES = {"warc": 1.1e9, "wet": 1.5e8, "wat": 3.0e8}
SUPPORTED = ", ".join(sorted({s.lstrip(".") for s in INPUT_SUFFIXES})) + " (optionally .gz), and folders of them"


WRITES_NEW_RUN = ("crawl-sample", "quality-audit")
READS_RUN = ("deduplicate", "quality-classify", "tally-stocks", "report")


class UsageError(ValueError):
    """A mistake in the options: reported in plain words before any work starts (exit code 2)."""


def _positive(args: Mapping[str, Any], name: str) -> None:
    value = args.get(name)
    if value is not None and value < 1:
        raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")


def _within(args: Mapping[str, Any], name: str, low: float, high: float, note: str) -> None:
    value = args.get(name)
    if value is not None and not low <= value <= high:
        raise UsageError(f"--{name.replace('_', '-')} must be {note} (got {value})")


def check_ranges(args: Mapping[str, Any]) -> None:
    """Counts are at least 1, fractions lie in (0, 1], thresholds in [0, 1], percentiles in (0, 100)."""
    for name in ("files", "records_per_file", "draws", "workers", "demo_records", "demo_files", "bootstrap"):
        _positive(args, name)
    fraction = args.get("file_fraction")
    if fraction is not None and not 0 < fraction <= 1:
        raise UsageError(f"--file-fraction must be greater than 0 and at most 1, e.g. 0.01 for 1% (got {fraction})")
    for name in ("high_threshold", "low_threshold"):
        _within(args, name, 0.0, 1.0, "between 0 and 1")
    for name in ("high_percentile", "low_percentile"):
        _within(args, name, 1e-9, 100 - 1e-9, "strictly between 0 and 100")


def check_inputs(inputs: list[str] | None) -> None:
    """Every local --input names something, and together they hold at least one supported file.

    Stops at the first file found, so a folder of a million files is not listed twice (crawl-sample lists it);
    URLs are checked when they are read.
    """
    if not inputs:
        return
    usable = False
    for item in inputs:
        if is_remote(item):
            usable = True
            continue
        path = Path(item.removeprefix("file://")).expanduser()
        if path.is_dir():
            usable = usable or any(not p.is_dir() for p in path.rglob("*") if is_input_file(p))
        elif os.path.lexists(path) or any(not os.path.isdir(m) for m in glob.iglob(str(path), recursive=True)):
            usable = True
        else:
            raise UsageError(f"--input {item!r} matches no file; check the path (inputs can be files, folders "
                             "or globs)")
    if not usable:
        raise UsageError(f"no supported files in {', '.join(inputs)}; supported formats: {SUPPORTED}")


def check_crawls(crawls: list[str] | None) -> None:
    for name in crawls or []:
        if not CRAWL_NAME.fullmatch(name):
            raise UsageError(f"--crawl {name!r} is not a Common Crawl snapshot name; they look like CC-MAIN-2025-33 "
                             "(the list is at https://index.commoncrawl.org/)")


def check_out(out: str | None) -> None:
    """The run directory can be created and written (object-store URLs are checked when first written)."""
    if not out or is_remote(out):
        return
    path = Path(out.removeprefix("file://")).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {out!r} is a file; give a folder for the run's tables and report")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".peakdata-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"--out {out!r} cannot be created or written ({reason.lower()}); choose another folder")\
            from None


def check_host(args: Mapping[str, Any]) -> None:
    """The crawl's server has a name that resolves: offline, the run stops here instead of after its retries."""
    from urllib.parse import urlsplit

    base = args.get("base_url") or ""
    host = urlsplit(base).hostname if base.startswith(("http://", "https://")) else None
    if not args.get("crawl") or not host:
        return
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(socket.getaddrinfo, host, None)
    try:
        future.result(timeout=DNS_TIMEOUT_S)
    except socket.gaierror:
        raise UsageError(network_advice(base, _Unreachable())) from None
    except TimeoutError:
        pass  # a slow resolver is not proof of being offline: the read itself will tell
    finally:
        pool.shutdown(wait=False)


class _Unreachable(OSError):
    reason = "connection"


def census_refusal(crawl: str, fmt: str, n_files: int) -> str:
    size = n_files * TYPICAL_FILE_BYTES.get(fmt, TYPICAL_FILE_BYTES["warc"])
    return (f"--crawl {crawl} without --files or --file-fraction would read all {n_files:,} {fmt} files "
            f"(about {_human_bytes(size)} to download). Sample instead, e.g. --files 20 or --file-fraction 0.001, "
            "or pass --census to read every file on purpose")


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def check_census(args: Mapping[str, Any]) -> None:
    """A crawl read without a sample size is a census: refused unless asked for with --census."""
    crawls = args.get("crawl") or []
    if not crawls or args.get("census") or args.get("files") is not None or args.get("file_fraction") is not None:
        return
    from flows.sources.commoncrawl import ListingError, read_listing
    from flows.sources.remote import RemoteReadError

    fmt = args.get("format") or "warc"
    listing = args.get("listing")
    for crawl in crawls:
        try:
            listed = read_listing(crawl, fmt, args.get("base_url") or "", Path(listing) if listing else None)
        except (RemoteReadError, ListingError, OSError) as exc:
            raise UsageError(network_advice(f"the {fmt} listing of {crawl}", exc)) from None
        raise UsageError(census_refusal(crawl, fmt, len(listed.entries)))


def network_advice(what: str, exc: BaseException) -> str:
    """A failed remote read as a sentence with what to try next."""
    reason = getattr(exc, "reason", None) or type(exc).__name__
    plain = {
        "connection": "the server could not be reached (no network, a wrong host name, or a firewall)",
        "timeout": "the server did not answer in time",
        "not_found": "the server has no such file",
        "forbidden": "the server refused access",
    }.get(reason, f"the read failed ({reason})")
    return (f"could not read {what}: {plain}. Check the network, point --base-url at a mirror (an HTTPS mirror, "
            "s3://commoncrawl/ or a local folder), or give the listing file with --listing")


def _missing_local_dir(out: str | None) -> bool:
    return bool(out) and not is_remote(out) and not Path(out).expanduser().is_dir()


def early_args(flow_name: str, argv: list[str]) -> dict[str, Any]:
    """The options preflight checks, read from the command line before the flow (and Prefect) is imported.

    Only options whose meaning is the same in every flow are read; the flow's own parser reads all of them
    again afterwards and reports anything else (unknown options, wrong types).
    """
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    for name in ("input", "crawl"):
        parser.add_argument(f"--{name}", action="append")
    for name in ("out", "format", "listing", "base_url"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
    for name in ("files", "records_per_file", "draws", "workers", "demo_records", "demo_files", "bootstrap"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_number(int))
    for name in ("file_fraction", "high_threshold", "low_threshold", "high_percentile", "low_percentile"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_number(float))
    parser.add_argument("--census", action="store_true")
    known, _ = parser.parse_known_args(argv)
    args = {k: v for k, v in vars(known).items() if v is not None}
    if flow_name in ("crawl-sample", "quality-audit"):
        args.setdefault("format", "warc")
        args.setdefault("base_url", DEFAULT_BASE_URL)
    else:
        args.pop("census", None)
    return args


def _number(kind: type) -> Any:
    """A converter that leaves a malformed number to the flow's own parser (which names the option)."""
    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            return None
    return convert


def preflight(flow_name: str, args: Mapping[str, Any]) -> None:
    """All checks that apply to the options a flow was given; raises UsageError on the first problem."""
    check_ranges(args)
    check_crawls(args.get("crawl"))
    if "input" in args:
        check_inputs(args.get("input"))
    if flow_name in WRITES_NEW_RUN:
        check_out(args.get("out"))
    elif flow_name in READS_RUN and _missing_local_dir(args.get("out")):
        raise UsageError(f"run directory {args['out']!r} does not exist; create it with `flows run quality-audit` "
                         "or `flows run crawl-sample` first")
    check_host(args)
    if "census" in args:
        check_census(args)


def plain_error(exc: BaseException) -> str:
    """An exception as a sentence for the terminal: no class names; remote reads say what to try next."""
    if getattr(exc, "reason", None) and getattr(exc, "url", None):
        return network_advice(exc.url, exc)  # type: ignore[attr-defined]
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} does not exist"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"no permission to write or read {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror.lower()}{': ' + str(exc.filename) if exc.filename else ''}"
    text = str(exc).strip()
    return text or f"unexpected {type(exc).__name__} (re-run with --debug)"
