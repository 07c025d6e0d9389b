"""The record as a reader hands it on: content to turn into a document, or the error that stopped it.

It lives below `filters/` because the admission step (`filters.documents`) consumes it and the readers
(`flows.sources`) produce it; layers point down only, so neither may import the other's home for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class RawRecord:
    """One record as read: content to turn into a document, or the error that stopped it."""

    record_index: int
    doc_id: str | None = None
    url: str | None = None
    fetch_date: datetime | None = None
    content_type: str | None = None
    charset: str | None = None
    http_status: int | None = None
    payload: bytes | None = None  # raw HTTP body (needs extraction)
    text: str | None = None  # already text (WET conversion records, JSONL, Parquet)
    error: str | None = None
    oversized: bool = False  # payload holds only the first bytes (> max_payload_bytes) of a larger body/text
