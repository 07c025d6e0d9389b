"""Hostile input: a bad-input corpus, generated here, through the readers, crawl-sample and quality-audit.

Every case must end as a named, counted error or drop (or a file error), nothing else may be lost or counted
twice, the run must finish, and `records_read == documents + Σdropped + Σerrors` must hold exactly. The
expected outcome of each file is written out in `EXPECTED`, so a reader that starts to lose, double-count or
rename anything fails here.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import warc_oracle

from flows.rundir import RunDir, read_json
from flows.sources.records import ERRORS, SourceInfo, detect_format, iter_records

REPO = Path(__file__).resolve().parents[1]
PARA = ("The river valley was settled early, and the old mill still stands beside the bridge where the market "
        "was held every Thursday for three hundred years. ")
PAGE = f"<html><head><title>Mill</title></head><body><article><p>{PARA * 6}</p></article></body></html>".encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
BAD_DEFLATE = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 500  # reserved block type: never inflates
DROPS = {"http_status", "non_html", "binary_payload", "oversized_payload", "empty_payload", "empty_text"}


# --- building WARC records ------------------------------------------------------------------------


def warc_record(block: bytes, rtype: str = "response", *, version: str = "WARC/1.0", length: int | None = None,
                headers: list[str] | None = None, rid: str | None = "auto", date: str = "2024-05-01T10:00:00Z",
                uri: str = "https://mill.example/a") -> bytes:
    """One WARC record; `length` overrides the Content-Length, `headers` replaces the named ones."""
    if headers is None:
        headers = [f"WARC-Type: {rtype}", f"WARC-Date: {date}", f"WARC-Target-URI: {uri}"]
        if rid is not None:
            headers.append(f"WARC-Record-ID: <urn:uuid:{rid if rid != 'auto' else os.urandom(8).hex()}>")
        if rtype == "response":
            headers.append("Content-Type: application/http; msgtype=response")
    n = len(block) if length is None else length
    head = "\r\n".join([version, *headers, f"Content-Length: {n}"]) + "\r\n\r\n"
    return head.encode() + block + b"\r\n\r\n"


def http(body: bytes, content_type: str = "text/html; charset=utf-8", status: str = "200 OK",
         extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}\r\n".encode() + body


def good(uri: str = "https://mill.example/a") -> bytes:
    return warc_record(http(PAGE), uri=uri)


def members(*records: bytes) -> bytes:
    """Common Crawl style: one gzip member per record."""
    return b"".join(gzip.compress(r, mtime=0) for r in records)


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def corrupt_member(record: bytes) -> bytes:
    """A gzip member whose deflate data is damaged after the header."""
    data = bytearray(gzip.compress(record, mtime=0))
    data[30:60] = b"\xff" * 30
    return bytes(data)


def bad_crc_member(record: bytes) -> bytes:
    data = bytearray(gzip.compress(record, mtime=0))
    data[-8] ^= 0xFF  # CRC32 of the member
    return bytes(data)


def jsonl_lines() -> bytes:
    lines = [
        json.dumps({"id": "j1", "text": PARA, "url": "https://j.example/1"}),
        '{"id": "j2", "text": "unterminated',  # broken line
        json.dumps({"id": "j3", "body": "no text field"}),
        json.dumps({"id": "j4", "text": 42}),  # text not a string
        json.dumps(["a", "list"]),
        '{"id": "j5", "text": "lone surrogate \\ud800 in ' + PARA + '"}',
        json.dumps({"id": "j1", "text": "a repeated id " + PARA}),  # same id again: must not collide
        "   ",  # blank: not a record
        json.dumps({"id": "x" * 5000, "text": "an absurd id " + PARA}),
        '{"id": "j6", "text": "' + "deep " * 3 + '", "nested": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps({"text": ""}),  # empty text: dropped as empty_text
    ]
    return ("\n".join(lines) + "\n").encode()


def _wet(text: bytes) -> bytes:
    return warc_record(text, "conversion")


CORPUS: dict[str, Callable[[], bytes]] = {
    # Content-Length wrong in both directions, gzip members and plain.
    "lengths.warc.gz": lambda: members(good(), warc_record(http(PAGE), length=len(http(PAGE)) - 40), good(),
                                       warc_record(http(PAGE), length=len(http(PAGE)) + 300), good()),
    "lengths.warc": lambda: b"".join([good(), warc_record(http(PAGE), length=len(http(PAGE)) - 40), good(),
                                      warc_record(http(PAGE), length=len(http(PAGE)) + 300), good()]),
    "length-past-end.warc.gz": lambda: members(good(), warc_record(http(PAGE), length=len(http(PAGE)) + 4096)),
    # Missing and bad headers, bad dates, unknown versions and types.
    "headers.warc.gz": lambda: members(
        warc_record(http(PAGE), headers=["WARC-Date: 2024-05-01T10:00:00Z"]),  # no WARC-Type
        b"WARC/1.0\r\nWARC-Type: response\r\n\r\n" + http(PAGE) + b"\r\n\r\n",  # no Content-Length
        warc_record(http(PAGE), headers=["WARC-Type: response", "Content-Length: lots"]),
        warc_record(http(PAGE), headers=["WARC-Type: response", f"Content-Length: {len(http(PAGE)) + 9}"]),
        warc_record(http(PAGE), headers=["WARC-Type: response"]),  # no id, uri or date: still a document
        warc_record(http(PAGE), date="yesterday"),
        warc_record(http(PAGE), date="2024-13-45T99:00:00Z"),
        warc_record(http(PAGE), date="0001-01-01T00:00:00+14:00"),
        warc_record(http(PAGE), version="WARC/9.9"),
        warc_record(b"GET / HTTP/1.1\r\n\r\n", "request", version="WARC/9.9"),
        warc_record(b"whatever", "made-up-type"),
        warc_record(http(PAGE), rid="same-id"), warc_record(http(PAGE), rid="same-id"),
        good(),
    ),
    # HTTP payloads: binary, compressed twice, mislabelled, encodings, statuses, sizes.
    "payloads.warc.gz": lambda: members(
        warc_record(http(os.urandom(3000), "application/octet-stream")),
        warc_record(http(PNG, "text/html")),  # image bytes labelled HTML
        warc_record(http(PAGE, "image/png")),  # HTML labelled as an image
        warc_record(http(gzip.compress(gzip.compress(PAGE)), extra="Content-Encoding: gzip\r\n")),
        warc_record(http(gzip.compress(gzip.compress(PAGE)), extra="Content-Encoding: gzip, gzip\r\n")),
        warc_record(http(PAGE, extra="Content-Encoding: gzip\r\n")),  # stored decoded, header kept
        warc_record(http(BAD_DEFLATE, extra="Content-Encoding: gzip\r\n")),
        warc_record(http(zlib.compress(PAGE), extra="Content-Encoding: deflate\r\n")),
        warc_record(http(PAGE, "text/html; charset=no-such-charset")),
        warc_record(http(PAGE.replace(b"old mill", "alte Mühle".encode()) + "Straße".encode("latin-1"))),
        warc_record(http(PAGE.decode().encode("utf-16"), "text/html; charset=utf-16")),
        warc_record(http(PAGE, status="404 Not Found")),
        warc_record(b""),  # zero-length response block
        warc_record(b"not an http response at all"),
        warc_record(http(b"")),  # 200 with an empty body
        warc_record(http(gzip.compress(b"<p>" + b"bomb " * 4_000_000 + b"</p>"), extra="Content-Encoding: gzip\r\n")),
        warc_record(http(b"<html><script>var x = 1;</script></html>")),
    ),
    # gzip damage: a corrupt member, garbage between members, a bad CRC, trailing garbage.
    "gzip-damage.warc.gz": lambda: (members(good(), good()) + corrupt_member(good()) + members(good())
                                    + b"garbage between members" + members(good()) + bad_crc_member(good())
                                    + members(good()) + b"\x00" * 64),
    "truncated.warc.gz": lambda: members(good(), good()) + gzip.compress(good(), mtime=0)[:-150],
    "wet-invalid-utf8.warc.wet.gz": lambda: members(_wet(PARA.encode()), _wet(b"caf\xe9 \xff\xfe " + PARA.encode()),
                                                   _wet(b"")),
    # Files that are empty or not what their name says.
    "empty.warc.gz": lambda: b"",
    "empty-gzip.warc.gz": lambda: gzip.compress(b""),
    "blank-lines.jsonl": lambda: b"\n\n  \n",
    "image.warc.gz": lambda: PNG,
    "text.warc": lambda: b"this is a note, not a WARC file\n" * 5,
    "warc-named.jsonl": lambda: members(good()),
    # JSONL and Parquet.
    "broken.jsonl.gz": lambda: gzip.compress(jsonl_lines()),
    "truncated.jsonl.gz": lambda: (lambda d: d[: len(d) * 2 // 3])(
        gzip.compress("".join(json.dumps({"text": f"{i} {PARA}"}) + "\n" for i in range(40)).encode())),
    "wrong-schema.parquet": lambda: parquet_bytes(pa.table({"body": ["a", "b", "c"]})),
    "int-text.parquet": lambda: parquet_bytes(pa.table({"text": [1, 2]})),
    "invalid-utf8.parquet": lambda: parquet_bytes(pa.table({"id": ["p1", "p2"], "text": pa.array(
        [PARA.encode(), b"caf\xe9 " + PARA.encode()], pa.binary()).view(pa.string())})),
    "corrupt.parquet": lambda: b"PAR1" + os.urandom(2000),
    "truncated.parquet": lambda: (lambda d: d[: len(d) // 2])(
        parquet_bytes(pa.table({"text": [PARA] * 200, "id": [f"t{i}" for i in range(200)]}))),
}

# file → (documents, dropped, errors, file_errors, skipped record types)
EXPECTED: dict[str, tuple[int, dict, dict, dict, dict]] = {
    "lengths.warc.gz": (3, {}, {"length_mismatch": 2}, {}, {}),
    "lengths.warc": (3, {}, {"length_mismatch": 2}, {}, {}),
    "length-past-end.warc.gz": (1, {}, {"truncated_record": 1}, {}, {}),
    "headers.warc.gz": (7, {}, {"malformed_record": 4, "unknown_warc_version": 1}, {}, {"request": 1, "other": 1}),
    "payloads.warc.gz": (  # the UTF-16 page is dropped as binary (NUL bytes): a limitation of admission
        5, {"non_html": 2, "binary_payload": 3, "http_status": 1, "empty_payload": 1, "oversized_payload": 1,
            "empty_text": 1},
        {"undecodable_payload": 1, "malformed_http": 2}, {}, {}),
    "gzip-damage.warc.gz": (5, {}, {"corrupt_gzip": 3}, {}, {}),
    "truncated.warc.gz": (2, {}, {"truncated_record": 1}, {}, {}),
    "wet-invalid-utf8.warc.wet.gz": (2, {"empty_text": 1}, {}, {}, {}),
    "empty.warc.gz": (0, {}, {}, {"empty_file": 1}, {}),
    "empty-gzip.warc.gz": (0, {}, {}, {"empty_file": 1}, {}),
    "blank-lines.jsonl": (0, {}, {}, {"empty_file": 1}, {}),
    "image.warc.gz": (0, {}, {}, {"unknown_format": 1}, {}),
    "text.warc": (0, {}, {}, {"unknown_format": 1}, {}),
    "warc-named.jsonl": (1, {}, {}, {}, {}),
    "broken.jsonl.gz": (4, {"empty_text": 1}, {"malformed_json": 3, "missing_text": 2}, {}, {}),
    "truncated.jsonl.gz": (None, {}, {"truncated_record": 1}, {}, {}),  # documents: whatever precedes the cut
    "wrong-schema.parquet": (0, {}, {"missing_text": 3}, {}, {}),
    "int-text.parquet": (0, {}, {"missing_text": 2}, {}, {}),
    "invalid-utf8.parquet": (2, {}, {}, {}, {}),
    "corrupt.parquet": (0, {}, {"corrupt_parquet": 1}, {}, {}),
    "truncated.parquet": (0, {}, {"corrupt_parquet": 1}, {}, {}),
}


def write_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, make in CORPUS.items():
        paths[name] = folder / name
        paths[name].write_bytes(make())
    return paths


def add_unreadable(folder: Path) -> None:
    """Entries that cannot be read as files: a dangling symlink, a FIFO, a directory named like a file."""
    (folder / "dangling.warc.gz").symlink_to(folder / "no-such-target.warc.gz")
    os.mkfifo(folder / "fifo.warc.gz")  # opening it for reading would block forever
    inner = folder / "dir.warc.gz"
    inner.mkdir()
    (inner / "inside.warc.gz").write_bytes(members(good("https://mill.example/inside")))


UNREADABLE = {"dangling.warc.gz": {"file_not_found": 1}, "fifo.warc.gz": {"not_a_regular_file": 1}}


def _prefect_env() -> dict[str, str]:
    """The environment of a `flows run` subprocess that talks to this session's Prefect test server
    (instead of starting an ephemeral one per process, 10-30 s on busy cores)."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_API_URL": str(settings.api.url), "PREFECT_HOME": str(settings.home)}
    return env


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=_prefect_env())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    write_corpus(folder)
    add_unreadable(folder)
    return folder


@pytest.fixture(scope="module")
def audit(corpus: Path, prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from flows.quality_audit import quality_audit

    out = tmp_path_factory.mktemp("hostile-audit")
    manifest = quality_audit(input=[str(corpus)], out=str(out), draws=2000, workers=2)
    return out, manifest


def _markers(out: Path) -> dict[str, dict]:
    return {Path(m["source_file"]).name: m for m in map(read_json, sorted((out / "documents").glob("part-*.json")))}


def test_every_file_accounted_as_expected(audit: tuple[Path, dict]) -> None:
    out, manifest = audit
    markers = _markers(out)
    assert set(markers) == set(CORPUS) | set(UNREADABLE) | {"inside.warc.gz"}
    for name, (documents, dropped, errors, file_errors, skipped) in EXPECTED.items():
        m = markers[name]
        got = (m["documents"], m["dropped"], m["errors"], m["file_errors"], m["skipped_record_types"])
        want = (documents if documents is not None else m["documents"], dropped, errors, file_errors, skipped)
        assert got == want, name
        assert m["records_read"] == m["documents"] + sum(m["dropped"].values()) + sum(m["errors"].values()), name
    for name, file_errors in UNREADABLE.items():
        assert markers[name]["file_errors"] == file_errors and markers[name]["records_read"] == 0
    assert markers["inside.warc.gz"]["documents"] == 1  # a directory named like a file is a directory
    assert markers["truncated.jsonl.gz"]["documents"] >= 5


def test_run_accounting_holds_exactly(audit: tuple[Path, dict]) -> None:
    out, manifest = audit
    counts = read_json(out / "manifest.json")["counts"]
    assert counts["records_read"] == counts["documents"] + sum(counts["dropped"].values()) + sum(
        counts["errors"].values())
    markers = _markers(out).values()
    assert counts["records_read"] == sum(m["records_read"] for m in markers)
    assert counts["errors"] == dict(sum((Counter(m["errors"]) for m in markers), Counter()))
    assert counts["file_errors"] == {"empty_file": 3, "file_not_found": 1, "not_a_regular_file": 1,
                                     "unknown_format": 2}
    assert set(counts["errors"]) <= set(ERRORS), "every error has a documented name"
    assert set(counts["dropped"]) <= DROPS
    assert manifest["failures"] == []
    docs = pl.read_parquet(RunDir(out).shards("documents"))
    assert docs.height == counts["documents"] > 30


def test_documents_survive_hostile_fields(audit: tuple[Path, dict]) -> None:
    out, _ = audit
    docs = pl.read_parquet(RunDir(out).shards("documents"))
    assert docs["doc_id"].n_unique() == docs.height  # repeated and absurd ids fell back to SOURCE#INDEX
    ids = set(docs["doc_id"])
    own = {i.rsplit("@", 1)[0] for i in ids if "@" in i}  # a record's own id, qualified by its file's tag
    assert "j1" in own and "same-id" in own and not any(len(i) > 1024 for i in ids)
    texts = docs["text"].to_list()
    assert any("lone surrogate \ufffd" in t for t in texts)  # replaced, not a crash
    assert any("Straße" in t for t in texts)  # mixed UTF-8 + Latin-1: decoded (the UTF-8 part as mojibake)
    assert sum("caf\ufffd" in t for t in texts) == 2  # invalid UTF-8 in WET and Parquet: replaced
    assert not any("bomb bomb" in t for t in texts)  # the gzip bomb was dropped, not extracted
    headers = docs.filter(pl.col("source_file").str.ends_with("headers.warc.gz"))
    assert headers.height == 7 and headers["fetch_date"].null_count() == 4  # no date, 2 bad dates, overflow
    design = read_json(out / "manifest.json")["sampling"]
    sampled = {Path(f["source_file"]).name for f in design["files"]}
    assert "empty.warc.gz" not in sampled and "lengths.warc.gz" in sampled  # unreadable files: non-response


def test_later_stages_annotate_every_document(audit: tuple[Path, dict]) -> None:
    out, _ = audit
    n = pl.read_parquet(RunDir(out).shards("documents")).height
    for table in ("dedup", "quality", "tokens"):  # shard by shard: an empty shard may have fewer columns
        assert sum(pq.read_metadata(p).num_rows for p in RunDir(out).shards(table)) == n, table
    assert (out / "report.html").stat().st_size > 0


def test_nothing_usable_exits_1_and_says_why(tmp_path: Path, prefect_harness: None) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("empty.warc.gz", "image.warc.gz", "corrupt.parquet", "text.warc", "wrong-schema.parquet"):
        (bad / name).write_bytes(CORPUS[name]())
    proc = run_cli(["run", "quality-audit", "--input", str(bad), "--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 1, proc.stderr
    message = proc.stderr.strip().splitlines()[-1]
    assert "no usable documents in 5 file(s)" in message
    for reason in ("missing_text: 3", "corrupt_parquet: 1", "unknown_format: 2", "empty_file: 1"):
        assert reason in message
    assert "Traceback" not in proc.stderr


def test_reader_counts_each_defect_once() -> None:
    """The cases where a naive reader double-counts: a record whose member has a bad CRC, a too-short
    Content-Length with the rest of the body after it, garbage before and after records."""
    cases = {
        members(good()) + bad_crc_member(good()): {"ok": 1, "corrupt_gzip": 1},
        members(warc_record(http(PAGE), length=100)): {"length_mismatch": 1},
        b"junk\r\n" + good() + b"more junk" + good(): {"malformed_record": 1, "ok": 1, "length_mismatch": 1},
        members(good()) + corrupt_member(good()) + corrupt_member(good()) + members(good()): {"ok": 2,
                                                                                              "corrupt_gzip": 1},
        gzip.compress(good() + good() + good(), mtime=0): {"ok": 3},  # one member, many records
        members(good())[:-3]: {"truncated_record": 1},  # cut inside the gzip trailer: the data is unverified
        good()[:-10]: {"truncated_record": 1},
        good() + b"WAR": {"ok": 1, "truncated_record": 1},
    }
    for data, expected in cases.items():
        records = list(iter_records(io.BytesIO(data), "x.warc.gz", "warc", SourceInfo()))
        assert Counter(r.error or "ok" for r in records) == expected, expected
        assert [r.record_index for r in records] == list(range(len(records)))


def test_content_decides_format_over_name() -> None:
    assert detect_format("x.jsonl", members(good())) == "warc"
    assert detect_format("x.warc.gz", b'{"text": "hi"}\n') == "jsonl"
    assert detect_format("x.jsonl", b"PAR1....") == "parquet"
    assert detect_format("x.wat.gz", members(good())) == "wat"
    assert detect_format("x.warc.gz", corrupt_member(good())) == "warc"  # cannot tell: the name decides
    for content in (PNG, b"plain words", gzip.compress(PNG)):
        with pytest.raises(ValueError):
            detect_format("x.warc.gz", content)


def test_unreadable_paths(tmp_path: Path, prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 denies nothing to root (tests often run as root): then the file is simply read, which is
    asserted honestly; a PermissionError from the OS is then simulated to check it is counted."""
    from flows.crawl_sample import crawl_sample
    from flows.sources import shards

    locked = tmp_path / "in" / "locked.warc.gz"
    locked.parent.mkdir()
    locked.write_bytes(members(good()))
    locked.chmod(0)
    other = tmp_path / "in" / "other.warc.gz"
    other.write_bytes(members(good("https://mill.example/other")))
    result = crawl_sample(input=[str(tmp_path / "in")], out=str(tmp_path / "out1"))
    if os.geteuid() == 0:
        assert result["counts"]["documents"] == 2 and result["counts"]["file_errors"] == {}
    else:
        assert result["counts"]["file_errors"] == {"permission_denied": 1}
    real_open = os.open

    def deny(path: str, *args: object, **kwargs: object) -> int:
        if str(path).endswith("locked.warc.gz"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(shards.os, "open", deny)
    result = crawl_sample(input=[str(tmp_path / "in")], out=str(tmp_path / "out2"))
    assert result["counts"]["file_errors"] == {"permission_denied": 1}
    assert result["counts"]["documents"] == 1 and result["failures"] == []
    assert [f["source_file"] for f in result["sampling"]["files"]] == [str(other)]


def test_hostile_listing_through_the_flow(tmp_path: Path, prefect_harness: None) -> None:
    """A listing that points outside the mirror (`..`, absolute paths, other hosts, file://) reads nothing
    there: the entries are refused and counted, and only the mirror's own file becomes documents."""
    from flows.crawl_sample import crawl_sample

    crawl = "CC-MAIN-2025-33"
    mirror = tmp_path / "mirror"
    entry = f"crawl-data/{crawl}/segments/1/warc/CC-MAIN-1-00000.warc.gz"
    (mirror / entry).parent.mkdir(parents=True)
    (mirror / entry).write_bytes(members(good("https://mirror.example/ok")))
    secret = tmp_path / "secret.warc.gz"  # a valid WARC outside the mirror, with a text we can look for
    secret.write_bytes(members(warc_record(http(PAGE.replace(b"old mill", b"SECRET-CANARY")))))
    hostile = [f"crawl-data/{crawl}/../../secret.warc.gz", "../secret.warc.gz", str(secret), secret.as_uri(),
               f"http://evil.example/crawl-data/{crawl}/x.warc.gz", f"crawl-data/{crawl}/%2e%2e/secret.warc.gz"]
    listing = tmp_path / "warc.paths"
    listing.write_text("\n".join([*hostile, entry]) + "\n")
    result = crawl_sample(crawl=[crawl], census=True, listing=str(listing), base_url=str(mirror),
                          out=str(tmp_path / "out"))
    assert sum(result["counts"]["listing_errors"].values()) == len(hostile)
    assert result["counts"]["documents"] == 1
    docs = pl.read_parquet(RunDir(tmp_path / "out").shards("documents"))
    assert not any("SECRET-CANARY" in t for t in docs["text"])
    assert all(s.startswith(mirror.as_uri() + "/") for s in docs["source_file"])


def test_real_oddities_through_the_flow(shared_data: Path, prefect_harness: None, tmp_path: Path) -> None:
    """The real oddities in ../shared/data (a wget WARC/1.1 with resource records, an archive of revisits, a
    WAT file, a WET file) and real files damaged here (cut, a corrupted member): accounting holds per file."""
    from flows.crawl_sample import crawl_sample

    head = (shared_data / "cc_warc/resiliparse-CC-MAIN-2020-34-head.warc.gz").read_bytes()
    damaged = bytearray(head)
    damaged[40_000:40_040] = b"\xff" * 40
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "head-cut.warc.gz").write_bytes(head[: len(head) * 6 // 10])
    (inputs / "head-damaged.warc.gz").write_bytes(bytes(damaged))
    real = ["warc_noncc/dolma-sample-0000.warc.gz", "warc_noncc/pywb-iana.warc.gz", "cc_wat/whirlwind.warc.wat.gz",
            "cc_wet/whirlwind.warc.wet.gz"]
    result = crawl_sample(input=[str(inputs)] + [str(shared_data / p) for p in real], out=str(tmp_path / "out"))
    shards = {Path(s["source_file"]).name: s for s in result["shards"]}
    assert result["failures"] == []
    for name in ("warc_noncc/dolma-sample-0000.warc.gz", "warc_noncc/pywb-iana.warc.gz"):  # an independent count
        types = warc_oracle.warc_types(shared_data / name)
        shard = shards[Path(name).name]
        assert shard["records_read"] == warc_oracle.documents(types) > 0
        assert shard["skipped_record_types"] == {k: n for k, n in types.items() if k not in ("response", "conversion")}
    wet = warc_oracle.warc_types(shared_data / real[3])
    assert shards["whirlwind.warc.wet.gz"]["documents"] == warc_oracle.documents(wet) > 0
    assert shards["whirlwind.warc.wat.gz"]["skipped_record_types"] == {"warcinfo": 1, "wat_non_response": 1}
    cut, hit = shards["head-cut.warc.gz"], shards["head-damaged.warc.gz"]
    assert cut["errors"] == {"truncated_record": 1} and 5 <= cut["records_read"] < 16
    assert sum(hit["errors"].values()) + sum(k.endswith(":corrupt_gzip") for k in hit["skipped_record_types"]) == 1
    assert hit["records_read"] - sum(hit["errors"].values()) >= 15
    for s in shards.values():
        assert s["records_read"] == s["documents"] + sum(s["dropped"].values()) + sum(s["errors"].values())
    counts = result["counts"]
    assert counts["records_read"] == counts["documents"] + sum(counts["dropped"].values()) + sum(
        counts["errors"].values())
