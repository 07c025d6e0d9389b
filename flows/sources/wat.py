"""WAT metadata records → one row per crawled response: URL, status, length, declared language, links.

WAT files carry Common Crawl's metadata of every WARC record as JSON. They feed crawl-level statistics
(the `wat/` table), never the documents table: there is no text in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
from fastwarc.warc import ArchiveIterator, WarcRecordType

from flows.sources.records import SourceInfo

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


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    return str(lang).strip().lower()[:35] if lang else None


def wat_row(payload: bytes) -> dict | None:
    """The row of one WAT metadata record, or None when it describes no response (requests, metadata)."""
    envelope = json.loads(payload)["Envelope"]
    header = envelope.get("WARC-Header-Metadata") or {}
    if header.get("WARC-Type") != "response":
        return None
    meta = envelope.get("Payload-Metadata") or {}
    response = meta.get("HTTP-Response-Metadata") or {}
    links = _dig(response, "HTML-Metadata", "Links")
    return {
        "url": header.get("WARC-Target-URI"),
        "fetch_date": header.get("WARC-Date"),
        "http_status": _int(_dig(response, "Response-Message", "Status")),
        "content_type": _dig(response, "Headers", "Content-Type"),
        "content_length": _int(response.get("Entity-Length", meta.get("Actual-Content-Length"))),
        "declared_lang": _declared_lang(response),
        "links": len(links) if isinstance(links, list) else 0,
    }


def iter_wat(stream: BinaryIO, info: SourceInfo) -> Iterator[dict]:
    """Rows of the response records of a WAT file; unreadable records become rows with `error` set."""
    index = -1
    try:
        for rec in ArchiveIterator(stream, record_types=WarcRecordType.metadata | WarcRecordType.warcinfo,
                                   parse_http=False):
            if rec.record_type == WarcRecordType.warcinfo:
                info.skipped["warcinfo"] += 1
                continue
            index += 1
            try:
                row = wat_row(rec.reader.read())
            except (ValueError, KeyError, TypeError, AttributeError):
                yield {"record_index": index, "error": "malformed_wat_json"}
                continue
            if row is None:
                info.skipped["wat_non_response"] += 1
                continue
            yield row | {"record_index": index, "error": None}
    except OSError as exc:
        yield {"record_index": index + 1, "error": "corrupt_gzip" if "zip" in str(exc).lower() else "malformed_record"}
