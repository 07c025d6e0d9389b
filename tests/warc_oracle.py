"""An independent count of the WARC records in a file, for tests to compare the readers with.

It shares no code with `flows.sources`: it decompresses gzip members with zlib until the bytes end or
break, and counts the `WARC-Type` header lines. Tests then assert that the reader accounts for exactly
these records, instead of pinning one file's counts.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from pathlib import Path

_TYPE = re.compile(rb"^WARC-Type:[ \t]*([A-Za-z]+)\r?$", re.M)


def readable_prefix(data: bytes) -> bytes:
    """The decompressed bytes of a (multi-member) gzip file, up to where it ends or breaks."""
    out: list[bytes] = []
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(data))
        except zlib.error:
            break
        data = d.unused_data
        if not d.eof:
            break
    return b"".join(out)


def warc_types(data: bytes | Path) -> Counter[str]:
    """How many records of each WARC-Type start in the readable part of a .warc.gz (bytes or path)."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    plain = readable_prefix(raw) if raw[:2] == b"\x1f\x8b" else raw
    return Counter(m.group(1).decode().lower() for m in _TYPE.finditer(plain))


def documents(types: Counter[str]) -> int:
    """Records that hold a document: responses (WARC) and conversions (WET)."""
    return types["response"] + types["conversion"]
