"""Plain HTML files: one document per file, for corpora saved from a browser or a scraper.

The page's URL comes from a sidecar file `NAME.url` next to it (its first line), as scrapers often save it;
without one, the file's own `file://` URI stands in, so documents stay traceable to their file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from filters.records import RawRecord

SIDECAR_SUFFIX = ".url"
MAX_URL_CHARS = 4096


def page_url(path: str) -> str:
    """The URL a local HTML file was saved from (its sidecar), else the file's URI; URLs pass unchanged."""
    if "://" in path and not path.startswith("file://"):
        return path
    local = Path(path.removeprefix("file://"))
    sidecar = local.with_name(local.name + SIDECAR_SUFFIX)
    try:
        first = sidecar.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        first = []
    if first and 0 < len(first[0]) <= MAX_URL_CHARS and "://" in first[0]:
        return first[0].strip()
    return local.resolve().as_uri()


def iter_html(stream: BinaryIO, path: str, limit: int) -> Iterator[RawRecord]:
    """The whole file as one HTML record; a file over the payload limit keeps its head and is oversized."""
    payload = stream.read(limit + 1)
    yield RawRecord(0, url=page_url(path), content_type="text/html", payload=payload,
                    oversized=len(payload) > limit)
