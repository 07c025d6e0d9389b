"""JSON Lines files (plain or gzip): one record per non-blank line, read with a length cap."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from filters.records import RawRecord
from flows.sources.bytesource import ByteSource
from flows.sources.reading import GAP_ERRORS, HEAD_ALLOWANCE, row_record

_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def iter_jsonl(stream: BinaryIO, text_field: str, limit: int) -> Iterator[RawRecord]:
    """One record per non-blank line; a line longer than the limit is kept as a prefix (oversized)."""
    src = ByteSource(stream)
    index = -1
    seen_ids: set[int] = set()
    last_gap = -1
    while True:
        line, ending = src.read_line(limit + HEAD_ALLOWANCE)
        if ending == "gap":  # a line cut by a broken gzip member
            index += 1
            yield RawRecord(index, error=GAP_ERRORS[src.gap.reason] if src.gap else "truncated_record")
            last_gap = src.offset
            continue
        if not line:
            gap = src.gap
            if gap is None:
                return
            if src.offset != last_gap:
                index += 1
                yield RawRecord(index, error=GAP_ERRORS[gap.reason])
            last_gap = src.offset
            src.resume()
            continue
        if not line.strip():
            continue
        index += 1
        if ending == "long":
            yield RawRecord(index, content_type="text/plain", payload=line[: limit + 1], oversized=True)
            continue
        yield _json_record(line, index, text_field, limit, seen_ids)


def _json_record(line: bytes, index: int, text_field: str, limit: int, seen_ids: set[int]) -> RawRecord:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return RawRecord(index, error="malformed_json")
    if not isinstance(obj, dict):
        return RawRecord(index, error="malformed_json")
    return row_record(obj, index, text_field, limit, seen_ids, clean=_JSON_SURROGATE.search(line) is not None)
