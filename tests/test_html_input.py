"""A folder of plain .html/.htm files is a corpus: one document per file, URL from a sidecar or the path."""

from __future__ import annotations

import tarfile
from pathlib import Path

import polars as pl
import pytest

from flows.sources.local import expand_inputs
from flows.sources.records import detect_format
from flows.sources.shards import ReadOptions, read_into_shard

ARTICLE = ("<!DOCTYPE html><html><head><title>{title}</title></head><body><article>"
           + "<p>{title} is a long paragraph about rivers, mills and the people who worked them. " * 8
           + "</p></article></body></html>")


def _read(path: Path, shard: Path) -> tuple[dict, pl.DataFrame]:
    acc = read_into_shard(str(path), shard, ReadOptions(), "digest")
    return acc, pl.read_parquet(shard)


def test_html_files_are_found_and_detected(tmp_path):
    (tmp_path / "a.html").write_text(ARTICLE.format(title="Alpha"))
    (tmp_path / "b.HTM").write_text(ARTICLE.format(title="Beta"))
    (tmp_path / "notes.txt").write_text("not a page")
    found = expand_inputs([str(tmp_path)])
    assert sorted(Path(f).name for f in found) == ["a.html", "b.HTM"]
    assert detect_format("page.html", b"  <div>no doctype</div>") == "html"
    assert detect_format("download", b"<!doctype html><html>") == "html"
    with pytest.raises(ValueError, match="HTML"):
        detect_format("x.bin", b"\x89PNG\r\n")


def test_one_document_per_file_with_sidecar_url(tmp_path):
    page = tmp_path / "alpha.html"
    page.write_text(ARTICLE.format(title="Alpha"))
    (tmp_path / "alpha.html.url").write_text("https://example.org/alpha\n")
    acc, docs = _read(page, tmp_path / "alpha.parquet")
    assert acc["records_read"] == 1 and acc["documents"] == 1
    assert docs["url"].to_list() == ["https://example.org/alpha"]
    assert docs["domain"].to_list() == ["example.org"]
    assert "rivers, mills" in docs["text"][0] and "<p>" not in docs["text"][0]


def test_without_sidecar_the_path_is_the_url(tmp_path):
    page = tmp_path / "beta.htm"
    page.write_text(ARTICLE.format(title="Beta"))
    _, docs = _read(page, tmp_path / "beta.parquet")
    assert docs["url"].to_list() == [page.resolve().as_uri()]


def test_binary_saved_as_html_is_dropped_with_a_reason(tmp_path):
    page = tmp_path / "image.html"
    page.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    acc, docs = _read(page, tmp_path / "image.parquet")
    assert acc["records_read"] == 1 and acc["documents"] == 0 and docs.height == 0
    assert sum(acc["dropped"].values()) + sum(acc["errors"].values()) == 1


def test_real_saved_pages(tmp_path, shared_data):
    """The real pages of the extraction benchmark, saved as HTML files: every file is accounted for."""
    with tarfile.open(shared_data / "html" / "trafilatura-eval-990pages.tar.gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith((".html", ".htm"))][:40]
        tar.extractall(tmp_path, members=members, filter="data")
    pages = expand_inputs([str(tmp_path)])
    assert len(pages) == len(members) > 0
    kept = 0
    for i, page in enumerate(pages):
        acc, _ = _read(Path(page), tmp_path / f"shard-{i}.parquet")
        outcomes = acc["documents"] + sum(acc["dropped"].values()) + sum(acc["errors"].values())
        assert acc["records_read"] == 1 == outcomes
        kept += acc["documents"]
    assert kept >= 0.75 * len(pages)  # the rest are pages whose main content the extractor finds empty
