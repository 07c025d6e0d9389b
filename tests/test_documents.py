"""Records → documents: named drop reasons, extraction, charset handling, language ID."""

from __future__ import annotations

import io

from filters.documents import DOCUMENT_SCHEMA, AdmissionConfig, Outcome, build_documents
from filters.extract import extract, looks_binary
from flows.sources.records import RawRecord, SourceInfo, iter_records

GERMAN = "<html><head><title>Über uns</title></head><body><nav>Start | Kontakt</nav><article><p>" + (
    "Die Stadtverwaltung hat am Montag beschlossen, die Öffnungszeiten der Bibliothek zu verlängern. " * 6
) + "</p></article></body></html>"


def _record(i: int, **kw) -> RawRecord:
    return RawRecord(i, url=f"https://www.Example.co.uk:8080/p{i}?q=1", **kw)


def test_drop_reasons_and_documents():
    records = [
        _record(0, http_status=200, content_type="text/html", charset="utf-8", payload=GERMAN.encode()),
        _record(1, http_status=404, content_type="text/html", payload=b"<html>missing</html>"),
        _record(2, http_status=200, content_type="image/png", payload=b"\x89PNG\r\n\x1a\n...."),
        _record(3, http_status=200, content_type="text/html", payload=b"\x89PNG\r\n\x1a\n binary lies"),
        _record(4, http_status=200, content_type="text/html", payload=b"<html><script>x()</script></html>"),
        _record(5, error="corrupt_gzip"),
        _record(6, text="A plain text document from a WET file.", content_type="text/plain"),
        _record(7, http_status=200, content_type="text/html", payload=b""),
    ]
    outcome = Outcome()
    table = build_documents(records, "src.warc.gz", "CC-MAIN-2024-22", AdmissionConfig(), outcome)
    assert table.schema == DOCUMENT_SCHEMA
    assert outcome.documents == 2
    assert outcome.dropped == {"http_status": 1, "non_html": 1, "binary_payload": 1, "empty_text": 1,
                               "empty_payload": 1}
    assert outcome.errors == {"corrupt_gzip": 1}
    assert outcome.documents + sum(outcome.dropped.values()) + sum(outcome.errors.values()) == len(records)
    rows = table.to_pylist()
    assert rows[0]["lang"] == "de" and rows[0]["lang_score"] > 0.9
    assert rows[0]["title"] == "Über uns"
    assert "Öffnungszeiten" in rows[0]["text"]
    assert rows[0]["domain"] == "example.co.uk" and rows[0]["tld"] == "uk"
    assert rows[0]["n_bytes"] == len(rows[0]["text"].encode())
    assert rows[1]["lang"] == "en" and rows[1]["doc_id"] == "src.warc.gz#6"


def test_charset_from_header_and_meta():
    latin = GERMAN.encode("cp1252")
    assert "Öffnungszeiten" in extract(latin, "windows-1252").text
    meta = GERMAN.replace("<head>", '<head><meta charset="iso-8859-1">').encode("latin-1")
    assert "Öffnungszeiten" in extract(meta, None).text
    assert "Öffnungszeiten" in extract(GERMAN.encode(), "bogus-charset").text


def test_trafilatura_extractor_option():
    text = extract(GERMAN.encode(), "utf-8", "trafilatura").text
    assert "Öffnungszeiten" in text and "Kontakt" not in text


def test_binary_sniffing():
    assert looks_binary(b"%PDF-1.7 ...")
    assert looks_binary(bytes(range(32)) * 20)
    assert not looks_binary("<p>Grüße, 日本語のテキスト</p>".encode())


def test_real_pages_languages(shared_data):
    path = shared_data / "warc_derived/trafilatura-eval-1033pages.warc.gz"
    records = list(iter_records(io.BytesIO(path.read_bytes()), str(path), "warc", SourceInfo()))[:300]
    outcome = Outcome()
    table = build_documents(records, str(path), None, AdmissionConfig(), outcome)
    langs = table.column("lang").to_pylist()
    assert langs.count("de") > 150 and langs.count("en") > 30
    assert outcome.documents + sum(outcome.dropped.values()) == 300


def test_record_ids_are_unique_across_files():
    """The same records read from two files (a WARC served under two crawls) keep distinct doc_ids."""
    from filters.documents import AdmissionConfig, Outcome, build_documents
    from filters.records import RawRecord

    def records() -> list[RawRecord]:
        return [RawRecord(0, doc_id="<urn:uuid:1234>", content_type="text/plain", text="Same page text. " * 20)]

    a = build_documents(records(), "crawl-a/f.warc.gz", "A", AdmissionConfig(), Outcome())
    b = build_documents(records(), "crawl-b/f.warc.gz", "B", AdmissionConfig(), Outcome())
    ida, idb = a.column("doc_id")[0].as_py(), b.column("doc_id")[0].as_py()
    assert ida != idb and ida.startswith("1234@") and idb.startswith("1234@")
