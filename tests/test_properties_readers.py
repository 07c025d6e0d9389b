"""Property-based tests: arbitrary bytes and mutated real crawl files never crash a reader, and arbitrary text
gives finite quality signals.

"Never crash" is checked in the strong form: the readers do not raise at all (a defect is a record with a
named error), record indices run 0..n-1 without gaps, and through a whole shard read the accounting
`records_read == documents + Σdropped + Σerrors` still holds. Example counts are modest (the file runs in well
under a minute); hypothesis' database replays failures first.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from warc_oracle import documents, warc_types

from flows.sources.records import ERRORS, SourceInfo, iter_records, sniff_format
from flows.sources.shards import ReadOptions, read_into_shard

WARC = "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz"  # 16 responses, one gzip member per record
WET = "cc_wet/whirlwind.warc.wet.gz"
COMMON = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                         HealthCheck.too_slow, HealthCheck.data_too_large])


def read_all(data: bytes, fmt: str = "warc", name: str = "x.warc.gz") -> tuple[Counter, SourceInfo]:
    """Read every record; check the invariants every reader keeps whatever the bytes."""
    info = SourceInfo()
    records = list(iter_records(io.BytesIO(data), name, fmt, info, max_payload_bytes=1 << 20))
    assert [r.record_index for r in records] == list(range(len(records)))
    for r in records:
        if r.error is not None:
            assert r.error in ERRORS, r.error
            assert r.payload is None and r.text is None
        else:
            assert (r.text is not None) != (r.payload is not None)
            if r.text is not None:
                r.text.encode("utf-8")  # storable as UTF-8 (no lone surrogates)
    return Counter(r.error or "ok" for r in records), info


def member_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of each gzip member of a well-formed file."""
    spans, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        spans.append((pos, end))
        pos = end
    return spans


class Blob(bytes):
    """Bytes with a short repr: hypothesis prints the arguments of a failing example."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


@pytest.fixture(scope="module")
def warc_bytes(shared_data: Path) -> bytes:
    return Blob((shared_data / WARC).read_bytes())


@pytest.fixture(scope="module")
def wet_bytes(shared_data: Path) -> bytes:
    return Blob((shared_data / WET).read_bytes())


@settings(COMMON, max_examples=300)
@given(data=st.binary(max_size=4096), fmt=st.sampled_from(["warc", "jsonl"]), gz=st.booleans())
def test_arbitrary_bytes_never_raise(data: bytes, fmt: str, gz: bool) -> None:
    read_all(gzip.compress(data) if gz else data, fmt)
    sniff_format(data)


@settings(COMMON, max_examples=150)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_as_parquet_never_raise(data: bytes) -> None:
    counts, _ = read_all(b"PAR1" + data + b"PAR1", "parquet")
    assert set(counts) <= {"corrupt_parquet", "missing_text", "ok"}


@settings(COMMON, max_examples=300)
@given(data=st.binary(min_size=1, max_size=600), prefix=st.sampled_from([b"WARC/1.0\r\n", b"WARC/1.0\r\nContent-"
                                                                        b"Length: 5\r\nWARC-Type: response\r\n\r\n"]))
def test_warc_like_garbage_never_raises(data: bytes, prefix: bytes) -> None:
    """Bytes that start like a WARC record reach the header and block parsers, not just the resync."""
    counts, _ = read_all(prefix + data, "warc")
    assert sum(counts.values()) >= 1


@settings(COMMON, max_examples=150)
@given(data=st.data())
def test_mutated_real_warc_and_wet(data: st.DataObject, warc_bytes: bytes, wet_bytes: bytes) -> None:
    """Flip, delete, insert or duplicate bytes of a real WARC or WET file, gzipped or not."""
    original = data.draw(st.sampled_from([warc_bytes, wet_bytes]), label="file")
    if not data.draw(st.booleans(), label="gzipped"):
        original = gzip.decompress(original)
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        pos = data.draw(st.integers(0, len(mutated)), label="pos")
        kind = data.draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]), label="kind")
        size = data.draw(st.integers(1, 400), label="size")
        if kind == "flip":
            mutated[pos : pos + size] = data.draw(st.binary(min_size=size, max_size=size), label="bytes")
        elif kind == "delete":
            del mutated[pos : pos + size]
        elif kind == "insert":
            mutated[pos:pos] = data.draw(st.binary(min_size=1, max_size=size), label="bytes")
        elif kind == "duplicate":
            mutated[pos:pos] = mutated[pos : pos + size]
        else:
            del mutated[pos:]
    read_all(bytes(mutated))


@settings(COMMON, max_examples=150)
@given(data=st.data())
def test_damage_to_one_member_costs_at_most_its_record(data: st.DataObject, warc_bytes: bytes) -> None:
    """Common Crawl files hold one record per gzip member: damaging one member must leave every other
    record readable, and cost at most one counted record."""
    spans = member_spans(warc_bytes)
    baseline, base_info = read_all(warc_bytes)
    assert baseline == {"ok": documents(warc_types(warc_bytes))}
    start, end = spans[data.draw(st.integers(0, len(spans) - 1), label="member")]
    pos = data.draw(st.integers(start, end - 1), label="pos")
    size = data.draw(st.integers(1, min(64, end - pos)), label="size")
    patch = data.draw(st.binary(min_size=size, max_size=size), label="bytes")
    assume(patch != warc_bytes[pos : pos + size])
    counts, info = read_all(warc_bytes[:pos] + patch + warc_bytes[pos + size :])
    errors = sum(n for k, n in counts.items() if k != "ok")
    n = baseline["ok"]
    assert counts["ok"] >= n - 1 and errors <= 1 and counts["ok"] + errors in (n, n + 1), counts
    lost_skipped = sum(base_info.skipped.values()) - sum(info.skipped.values())
    assert lost_skipped <= 1  # a damaged request/metadata member costs only itself


@settings(COMMON, max_examples=25)
@given(data=st.data())
def test_mutated_files_through_a_whole_shard(data: st.DataObject, warc_bytes: bytes, tmp_path_factory) -> None:
    """Reader + admission + extraction + language ID + Parquet writing on damaged input: the shard is
    written and its accounting holds."""
    mutated = bytearray(warc_bytes if data.draw(st.booleans(), label="gz") else gzip.decompress(warc_bytes))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        pos = data.draw(st.integers(0, len(mutated) - 1), label="pos")
        mutated[pos : pos + 8] = data.draw(st.binary(min_size=8, max_size=8), label="bytes")
    folder = tmp_path_factory.mktemp("shard")
    source = folder / "in.warc.gz"
    source.write_bytes(bytes(mutated))
    acc = read_into_shard(str(source), folder / "part-x.parquet", ReadOptions(), "digest")
    assert acc["records_read"] == acc["documents"] + sum(acc["dropped"].values()) + sum(acc["errors"].values())
    assert (folder / "part-x.parquet").exists() and (folder / "part-x.json").exists()


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=1500)
SHAPED = st.lists(st.sampled_from(["\n", "\n\n", " ", ".", "...", "…", "• ", "- ", "#", "{", "}", "lorem ipsum",
                                   "javascript", "the", "and", "Über", "日本語", "😀", "\t", "\u200b", "\x00",
                                   "word", "Word.", "http://x.example", "|"]), max_size=300).map("".join)


@settings(COMMON, max_examples=60)
@given(texts=st.lists(st.one_of(TEXT, SHAPED), min_size=1, max_size=6))
def test_signals_are_finite_for_any_text(texts: list[str]) -> None:
    from filters.signals import compute_signals

    df = compute_signals(pl.Series(texts, dtype=pl.String))
    assert df.height == len(texts)
    for name, dtype in df.schema.items():
        column = df[name]
        if dtype.is_numeric():
            values = column.drop_nulls().cast(pl.Float64).to_numpy()
            assert np.isfinite(values).all(), (name, texts)
            if not name.endswith("_line"):  # c4_*_line: the index of the first such line, null when none
                assert column.null_count() == 0, (name, texts)
        elif dtype == pl.Boolean:
            assert column.null_count() == 0, (name, texts)
