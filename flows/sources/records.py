"""Read records from WARC, WET, JSONL, Parquet and HTML files, accounting for every one of them.

A reader yields `RawRecord`s. A record either carries content (HTML bytes to extract, or text that
needs none) or the name of the error that made it unreadable (`ERRORS`); nothing read is silently lost
and nothing is counted twice. This module picks the reader from the bytes (`detect_format`) and hands
the stream to it; each format has its own module: `warc`, `jsonl`, `parquet`, `html` (and `wat` for
metadata).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from filters.records import RawRecord
from flows.sources.bytesource import Prepend
from flows.sources.gzip_members import is_gzip
from flows.sources.html import iter_html
from flows.sources.jsonl import iter_jsonl
from flows.sources.parquet import iter_parquet
from flows.sources.reading import ERRORS, MAX_PAYLOAD_BYTES, SourceInfo, SourceReadError, valid_utf8
from flows.sources.warc import RECORD_TYPES, iter_warc, iter_warc_frames

__all__ = [
    "ERRORS", "FORMATS", "MAX_PAYLOAD_BYTES", "RECORD_TYPES", "Prepend", "RawRecord", "SourceInfo",
    "SourceReadError", "crawl_from_path", "detect_format", "iter_records", "iter_warc_frames", "sniff_format",
    "valid_utf8",
]

_CRAWL_RE = re.compile(r"CC-MAIN-\d{4}-\d{2}")
FORMATS = ("warc", "wat", "jsonl", "parquet", "html")
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")


def crawl_from_path(path: str) -> str | None:
    """Common Crawl names its crawls CC-MAIN-YYYY-WW and puts the name in every file path."""
    match = _CRAWL_RE.search(path)
    return match.group(0) if match else None


def _format_from_name(path: str) -> str | None:
    name = path.lower().removesuffix(".gz").removesuffix(".gzip")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".wat"):
        return "wat"
    if name.endswith((".warc", ".wet", ".arc")):
        return "warc"
    if name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    return None


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes show ("parquet", "warc", "jsonl"); "gzip" when a gzip start does not
    decompress far enough to tell, "blank" for whitespace only, None when they are none of these."""
    if head.startswith(b"PAR1"):
        return "parquet"
    body = head
    if is_gzip(head):
        try:
            body = zlib.decompressobj(wbits=31).decompress(head, 4096)
        except zlib.error:
            return "gzip"
    body = body.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not body:
        return "gzip" if is_gzip(head) else "blank"
    if body.startswith(b"WARC/"):
        return "warc"
    if body[:1] in (b"{", b"["):
        return "jsonl"
    if body[:16].lower().startswith(_HTML_START):
        return "html"
    return None


def detect_format(path: str, head: bytes) -> str:
    """Pick a reader from what the first bytes are, the file name deciding only what they cannot.

    A file is often not what its name says (a PNG saved as .warc.gz, a WARC named .jsonl): the content
    wins. The name decides between WARC and WAT (same framing), for a gzip file whose first member is
    broken, and for no bytes at all. Raises ValueError for content that is no supported format.
    """
    named = _format_from_name(path)
    sniffed = sniff_format(head)
    if sniffed == "warc":
        return "wat" if named == "wat" else "warc"
    if sniffed in ("parquet", "jsonl"):
        return sniffed
    if named == "html" and head:
        return "html"  # an HTML file need not start with a tag; extraction judges what it holds
    if sniffed == "html" and named is None:
        return "html"
    if sniffed in ("gzip", "blank") and named in ("warc", "wat", "jsonl"):
        return named  # a broken first gzip member, or nothing but whitespace (read as empty)
    if not head and named:
        return named
    raise ValueError("unrecognised format (expected WARC/WET, JSONL, Parquet or HTML)")


def iter_records(
    stream: BinaryIO, path: str, fmt: str, info: SourceInfo, text_field: str = "text",
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> Iterator[RawRecord]:
    """Yield the records of one file of format `fmt` read from `stream` (seekable for Parquet)."""
    if fmt == "warc":
        return iter_warc(stream, info, max_payload_bytes)
    if fmt == "wat":
        raise ValueError("WAT files hold metadata, not documents: read them with flows.sources.wat.iter_wat")
    if fmt == "jsonl":
        return iter_jsonl(stream, text_field, max_payload_bytes)
    if fmt == "parquet":
        return iter_parquet(stream, text_field, max_payload_bytes)
    if fmt == "html":
        return iter_html(stream, path, max_payload_bytes)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
