"""WAT metadata records → one row per crawled response: URL, status, length, declared language, links.

WAT files carry Common Crawl's metadata of every WARC record as JSON. They feed crawl-level statistics
(the `wat/` table), never the documents table: there is no text in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa

from flows.sources.reading import SourceInfo, valid_utf8
from flows.sources.warc import RECORD_TYPES, iter_warc_frames

MAX_WAT_RECORD_BYTES = 16 << 20  # Common Crawl's WAT records are a few kB; larger ones are not read whole

WAT_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("crawl", pa.string()),
        ("source_file", pa.string()),
        ("record_index", pa.int64()),
        ("fetch_date", pa.string()),
        ("http_status", pa.int32()),
        ("content_type", pa.string()),
        ("content_length", pa.int64()),
        ("declared_lang", pa.string()),
        ("links", pa.int32()),
        ("error", pa.string()),
    ]
)


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _int(value: Any, bits: int = 64) -> int | None:
    """An integer that fits the column (hostile JSON holds any number, or none)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(1 << (bits - 1)) <= number < 1 << (bits - 1) else None


def _str(value: Any, limit: int = 8192) -> str | None:
    """A string field as a string (hostile JSON puts objects or numbers anywhere)."""
    return valid_utf8(value[:limit]) if isinstance(value, str) else None


def _declared_lang(response: dict) -> str | None:
    """<html lang>, else Content-Language, else a content-language <meta>, as the page declared it."""
    head = _dig(response, "HTML-Metadata", "Head") or {}
    lang = head.get("Lang") if isinstance(head, dict) else None
    if not lang:
        lang = _dig(response, "Headers", "Content-Language")
    if not lang and isinstance(head, dict):
        for meta in head.get("Metas") or []:
            name = str(meta.get("http-equiv", meta.get("name", ""))) if isinstance(meta, dict) else ""
            if name.lower() == "content-language":
                lang = meta.get("content")
                break
    return valid_utf8(str(lang).strip().lower()[:35]) if lang else None


def wat_row(payload: bytes) -> dict | None:
    """The row of one WAT metadata record, or None when it describes no response (requests, metadata)."""
    envelope = json.loads(payload)["Envelope"]
    header = envelope.get("WARC-Header-Metadata") or {}
    if header.get("WARC-Type") != "response":
        return None
    meta = envelope.get("Payload-Metadata") or {}
    response = meta.get("HTTP-Response-Metadata") or {}
    if not isinstance(meta, dict) or not isinstance(response, dict):
        raise TypeError("Payload-Metadata is not an object")
    links = _dig(response, "HTML-Metadata", "Links")
    return {
        "url": _str(header.get("WARC-Target-URI")),
        "fetch_date": _str(header.get("WARC-Date"), 64),
        "http_status": _int(_dig(response, "Response-Message", "Status"), 32),
        "content_type": _str(_dig(response, "Headers", "Content-Type"), 200),
        "content_length": _int(response.get("Entity-Length", meta.get("Actual-Content-Length"))),
        "declared_lang": _declared_lang(response),
        "links": len(links) if isinstance(links, list) else 0,
    }


def iter_wat(stream: BinaryIO, info: SourceInfo) -> Iterator[dict]:
    """Rows of the response records of a WAT file; unreadable records become rows with `error` set.

    Framed by the same reader as WARC files, so a broken record or gzip member costs one row and the
    rest of the file is still read.
    """
    index = -1
    for frame in iter_warc_frames(stream, MAX_WAT_RECORD_BYTES):
        if frame.rtype == "warcinfo":
            info.skipped["warcinfo" if frame.error is None else f"warcinfo:{frame.error}"] += 1
            continue
        if frame.rtype and frame.rtype != "metadata":
            info.skipped[frame.rtype if frame.rtype in RECORD_TYPES else "other"] += 1
            continue
        index += 1
        if frame.error is not None or frame.oversized:
            yield {"record_index": index, "error": frame.error or "oversized_record"}
            continue
        try:
            row = wat_row(frame.block)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            yield {"record_index": index, "error": "malformed_wat_json"}
            continue
        if row is None:
            info.skipped["wat_non_response"] += 1
            continue
        yield row | {"record_index": index, "error": None}
