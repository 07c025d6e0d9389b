"""Readers: every record read is kept, dropped with a reason, or failed with a named error."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
from warc_oracle import documents, warc_types

from flows.sources.records import SourceInfo, crawl_from_path, detect_format, iter_records

WARC_PAGES = "warc_derived/trafilatura-eval-1033pages.warc.gz"


def _read(data: bytes, name: str = "x.warc.gz", fmt: str = "warc") -> tuple[Counter, SourceInfo]:
    info = SourceInfo()
    outcome = Counter(r.error or "ok" for r in iter_records(io.BytesIO(data), name, fmt, info))
    return outcome, info


def _skipped(types: Counter) -> Counter:
    return Counter({k: n for k, n in types.items() if k not in ("response", "conversion")})


def test_real_warc_all_records(shared_data):
    data = (shared_data / WARC_PAGES).read_bytes()
    outcome, info = _read(data)
    assert outcome == {"ok": documents(warc_types(data))} and outcome["ok"] > 1000


def test_common_crawl_warc_wet_and_crawl_name(shared_data):
    data = (shared_data / "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz").read_bytes()
    outcome, info = _read(data)
    types = warc_types(data)
    assert outcome == {"ok": documents(types)} and info.skipped == _skipped(types)
    assert info.crawl == "CC-MAIN-2020-34"
    assert {"warcinfo", "request", "metadata"} <= info.skipped.keys()
    data = (shared_data / "cc_wet/whirlwind.warc.wet.gz").read_bytes()
    outcome, info = _read(data)
    assert outcome == {"ok": documents(warc_types(data))} and outcome["ok"] > 0
    assert info.crawl == "CC-MAIN-2024-22"


def test_revisits_are_not_documents(shared_data):
    data = (shared_data / "warc_noncc/pywb-iana.warc.gz").read_bytes()
    outcome, info = _read(data)
    types = warc_types(data)
    assert outcome == {"ok": documents(types)} and info.skipped == _skipped(types)
    assert info.skipped["revisit"] > 0


def test_truncated_file_keeps_what_it_read(shared_data):
    data = (shared_data / WARC_PAGES).read_bytes()
    outcome, _ = _read(data[: len(data) // 2])
    started = documents(warc_types(data[: len(data) // 2]))  # the last of them is cut short
    assert outcome == {"ok": started - 1, "truncated_record": 1} and started > 1


def test_corrupt_members_cost_one_record_each(shared_data):
    data = bytearray((shared_data / WARC_PAGES).read_bytes())
    total = documents(warc_types(bytes(data)))
    for pos in (1_000_000, 5_000_000, 9_000_000):
        data[pos : pos + 20] = b"\xff" * 20
    outcome, _ = _read(bytes(data))
    assert outcome == {"ok": total - 3, "corrupt_gzip": 3}  # three damaged members


def test_uncompressed_warc_and_garbage(shared_data):
    plain = gzip.decompress((shared_data / "cc_warc/whirlwind.warc.gz").read_bytes())
    assert _read(plain, "x.warc")[0] == {"ok": 1}
    assert _read(b"this is not a warc file\n" * 5)[0] == {"malformed_record": 1}
    assert _read(b"")[0] == {}


def test_jsonl_ids_broken_lines_and_missing_text():
    lines = [json.dumps({"id": 7, "text": "hello", "url": "https://a.example/x"}), "{not json",
             json.dumps({"id": 8, "body": "no text field"}), json.dumps(["a list"]), ""]
    data = gzip.compress("\n".join(lines).encode())
    records = list(iter_records(io.BytesIO(data), "d.jsonl.gz", "jsonl", SourceInfo()))
    assert [(r.doc_id, r.text, r.error) for r in records] == [
        ("7", "hello", None), (None, None, "malformed_json"), (None, None, "missing_text"),
        (None, None, "malformed_json"),
    ]
    assert records[0].url == "https://a.example/x"


def test_truncated_jsonl_gzip():
    data = gzip.compress(("\n".join(json.dumps({"text": f"doc {i}"}) for i in range(1000))).encode())
    records = list(iter_records(io.BytesIO(data[: len(data) // 2]), "d.jsonl.gz", "jsonl", SourceInfo()))
    assert records[-1].error == "truncated_record"
    assert all(r.error is None for r in records[:-1]) and len(records) > 1


def test_parquet_rows_and_wrong_schema(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["one", "two"]}), good)
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"body": ["x", "y", "z"]}), bad)
    with good.open("rb") as f:
        assert [(r.doc_id, r.text) for r in iter_records(f, str(good), "parquet", SourceInfo())] == [
            ("a", "one"), ("b", "two")]
    with bad.open("rb") as f:
        assert Counter(r.error for r in iter_records(f, str(bad), "parquet", SourceInfo())) == {"missing_text": 3}
    assert [r.error for r in iter_records(io.BytesIO(b"PAR1garbage"), "x.parquet", "parquet", SourceInfo())] == [
        "corrupt_parquet"]


def test_format_detection_and_crawl_names():
    assert detect_format("a/b.warc.gz", b"") == "warc"
    assert detect_format("noext", gzip.compress(b"WARC/1.0\r\n")[:64]) == "warc"
    assert detect_format("noext", b'{"text": "x"}') == "jsonl"
    assert detect_format("noext", b"PAR1....") == "parquet"
    assert crawl_from_path("crawl-data/CC-MAIN-2025-33/segments/x.warc.gz") == "CC-MAIN-2025-33"
    assert crawl_from_path("/tmp/local.warc.gz") is None


def test_gzip_whose_first_header_reads_warc_is_still_gzip(shared_data):
    """'WARC/' written over the first gzip header: the file is still read member by member, the damage
    costing the first record only (a plain WARC would start with a whole version line)."""
    data = (shared_data / "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz").read_bytes()
    outcome, info = _read(b"WARC/" + data[5:])
    types = warc_types(data)
    assert outcome == {"ok": documents(types), "corrupt_gzip": 1}  # the warcinfo member is lost, counted once
    assert info.skipped.total() == types.total() - documents(types) - 1
