"""Turn raw records into document rows: admission decisions with named drop reasons, extraction, LID.

Each step either keeps a record or names why not, the way datatrove's filters do; the reasons become
the `dropped` counts of the run manifest. Language ID runs once per batch, not once per record.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from filters.extract import HTML_TYPES, TEXT_TYPES, decode_html, extract, looks_binary
from filters.langid import identify
from filters.records import RawRecord

DOCUMENT_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("url", pa.string()),
        ("domain", pa.string()),
        ("tld", pa.string()),
        ("crawl", pa.string()),
        ("source_file", pa.string()),
        ("record_index", pa.int64()),
        ("fetch_date", pa.timestamp("us", tz="UTC")),
        ("content_type", pa.string()),
        ("title", pa.string()),
        ("lang", pa.string()),
        ("lang_score", pa.float32()),
        ("text", pa.string()),
        ("n_bytes", pa.int64()),
    ]
)


@dataclass
class AdmissionConfig:
    """Settings of the record → document decisions."""

    extractor: str = "resiliparse"
    max_payload_bytes: int = 8 << 20  # larger HTML bodies are dropped as `oversized_payload`
    min_text_chars: int = 1


@dataclass
class Outcome:
    """Counts of one batch: how many records became documents, were dropped (by reason) or failed."""

    documents: int = 0
    dropped: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)


def admit(record: RawRecord, config: AdmissionConfig) -> tuple[str | None, str | None, str | None]:
    """Return (text, title, drop_reason) for one record that was read without error."""
    if record.text is not None:
        return record.text.strip(), None, None
    if record.http_status is not None and not 200 <= record.http_status < 300:
        return None, None, "http_status"
    payload = record.payload or b""
    if not payload:
        return None, None, "empty_payload"
    content_type = record.content_type or ""
    if content_type and content_type not in HTML_TYPES and content_type not in TEXT_TYPES:
        return None, None, "non_html"
    if len(payload) > config.max_payload_bytes:
        return None, None, "oversized_payload"
    if looks_binary(payload):
        return None, None, "binary_payload"
    if content_type in TEXT_TYPES:
        return decode_html(payload, record.charset).strip(), None, None
    extracted = extract(payload, record.charset, config.extractor)
    return extracted.text, extracted.title, None


def build_documents(
    records: list[RawRecord], source_file: str, crawl: str | None, config: AdmissionConfig, outcome: Outcome
) -> pa.Table:
    """Admit, extract and language-identify a batch of records; return the document rows as Arrow."""
    rows: list[tuple[RawRecord, str, str | None]] = []
    for record in records:
        if record.error:
            outcome.errors[record.error] += 1
            continue
        text, title, reason = admit(record, config)
        if reason is None and (text is None or len(text) < config.min_text_chars):
            reason = "empty_text"
        if reason:
            outcome.dropped[reason] += 1
            continue
        rows.append((record, text, title))
    outcome.documents += len(rows)
    texts = [text for _, text, _ in rows]
    tag = file_tag(source_file)
    text_array = pa.array(texts, pa.string())  # built once: the column and its byte lengths
    langs, scores = identify(texts)
    urls = [r.url for r, _, _ in rows]
    domains = [_host(u) for u in urls]
    columns = {
        "doc_id": [_doc_id(r, source_file, tag) for r, _, _ in rows],
        "url": urls,
        "domain": domains,
        "tld": [d.rsplit(".", 1)[-1] if d and "." in d else None for d in domains],
        "crawl": [crawl] * len(rows),
        "source_file": [source_file] * len(rows),
        "record_index": [r.record_index for r, _, _ in rows],
        "fetch_date": [r.fetch_date for r, _, _ in rows],
        "content_type": [r.content_type for r, _, _ in rows],
        "title": [title for _, _, title in rows],
        "lang": langs,
        "lang_score": scores,
        "text": text_array,
        "n_bytes": pc.binary_length(text_array).cast(pa.int64()),  # UTF-8 bytes, without re-encoding in Python
    }
    return pa.Table.from_pydict(columns, schema=DOCUMENT_SCHEMA)


def file_tag(source_file: str) -> str:
    """A short, stable tag of an input file that makes record ids unique within a run."""
    return hashlib.blake2b(source_file.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()


def _doc_id(record: RawRecord, source_file: str, tag: str) -> str:
    """The record's own id qualified by its file (`ID@TAG`), else `SOURCE#INDEX`.

    Every table of a run joins on doc_id, so it must be unique across files: the same WARC served under two
    crawls, or JSONL files that number their rows from 0, repeat ids, and an unqualified id would make one
    document count once per copy in every join.
    """
    if record.doc_id:
        return f"{record.doc_id.strip('<>').removeprefix('urn:uuid:')}@{tag}"
    return f"{source_file}#{record.record_index}"


def _host(url: str | None) -> str | None:
    """Lower-cased host of a URL without port, credentials or a leading `www.`."""
    if not url or "://" not in url:
        return None
    host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return host.removeprefix("www.") or None
