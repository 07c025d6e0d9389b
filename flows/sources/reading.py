"""What every reader shares: the limits, the names of read errors, and rows (JSONL, Parquet) as records.

Input is untrusted. Memory is bounded whatever the input: a payload larger than `max_payload_bytes` is
never held whole (its first bytes are kept, marked `oversized`, which the admission step drops as
`oversized_payload`), and ids that are absurd or repeat fall back to SOURCE#INDEX.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from filters.records import RawRecord

MAX_PAYLOAD_BYTES = 8 << 20  # default: larger payloads are kept only as a prefix, for admission to drop
HEAD_ALLOWANCE = 64 << 10  # HTTP headers on top of a payload; a larger HTTP head is malformed
MAX_ID_CHARS = 1024  # longer ids are not ids (the fallback SOURCE#INDEX is used)
GAP_ERRORS = {"corrupt_gzip": "corrupt_gzip", "truncated_gzip": "truncated_record"}

ERRORS: dict[str, str] = {
    "corrupt_gzip": "a gzip member that does not decompress (bad data or CRC, a destroyed header, garbage "
                    "between members); the record in it is lost and reading resumes at the next member",
    "truncated_record": "a record (WARC record or JSONL line) cut short by the end of the file or of its gzip "
                        "stream",
    "length_mismatch": "a WARC record whose Content-Length does not end where the record ends (too short or too "
                       "long); counted once, reading resumes at the next record",
    "malformed_record": "bytes where a WARC record should start that are not one (garbage, a header block without "
                        "an end, no valid Content-Length, no WARC-Type); reading resumes at the next record",
    "unknown_warc_version": "a response/conversion record whose version line is not WARC/0.17, 0.18, 1.0 or 1.1",
    "malformed_http": "a response record whose block is not an HTTP response (no status line, or a head > 64 KiB)",
    "undecodable_payload": "a gzip/deflate Content-Encoding whose bytes look compressed but do not decompress",
    "malformed_json": "a JSONL line that is not a JSON object",
    "missing_text": "a JSONL/Parquet row without a string in the text field",
    "corrupt_parquet": "a Parquet file (or row group) that cannot be read; each unreadable row counts once",
}
"""Every error a reader can name, and what it means (the `errors` of the run manifest)."""


class SourceReadError(RuntimeError):
    """The bytes of an input could not be read (I/O or network failure): not a defect of the data.

    Readers never catch it, so a failed read fails the shard (to be retried) instead of being counted as
    corrupt data in a shard marked finished.
    """



@dataclass
class SourceInfo:
    """What a reader learned about its file beyond the records: crawl name and skipped record types."""

    crawl: str | None = None
    skipped: Counter = field(default_factory=Counter)


def unique_id(value: str | None, seen: set[int]) -> str | None:
    """The id, unless it is absurd or repeats one earlier in the file (then the SOURCE#INDEX fallback)."""
    if not value or len(value) > MAX_ID_CHARS:
        return None
    key = hash(value)
    if key in seen:
        return None
    seen.add(key)
    return value



def row_record(obj: dict, index: int, text_field: str, limit: int, seen_ids: set[int],
                clean: bool = False) -> RawRecord:
    text = obj.get(text_field)
    if not isinstance(text, str):
        return RawRecord(index, error="missing_text")
    doc_id = obj.get("id")
    url = obj.get("url")
    metadata = obj.get("metadata")
    if url is None and isinstance(metadata, dict):
        url = metadata.get("url")
    url = url if isinstance(url, str) and len(url) <= 8192 else None
    doc_id = None if doc_id is None or isinstance(doc_id, (dict, list)) else str(doc_id)
    if clean:  # lone surrogates from JSON escapes cannot be stored as UTF-8
        text, url, doc_id = valid_utf8(text), valid_utf8(url), valid_utf8(doc_id)
    record = RawRecord(index, doc_id=unique_id(doc_id, seen_ids), url=url, content_type="text/plain")
    if len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8")) > limit):
        record.payload, record.oversized = text[: limit + 1].encode("utf-8"), True
    else:
        record.text = text
    return record


def valid_utf8(value: str | None) -> str | None:
    """The string with lone surrogates (from JSON escapes) replaced: Arrow stores only valid UTF-8."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    return value
