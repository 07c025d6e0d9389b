"""Exact and URL dedup, the representative rule, the combined clusters, cross-crawl overlap and the dedup/
output contract. Synthetic texts only (random words), so this file runs without ../shared/data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xxhash

from filters.dedup import OUTPUT_SCHEMA, DedupParams, run_dedup
from filters.dedup import lsh as lsh_module
from filters.dedup.components import flatten, union_edges
from filters.dedup.normalize import exact_text, shingle_text, url_keys
from flows.deduplicate import commit_part

UTC = dt.timezone.utc
# Letters only (digit runs normalise to "0"), five letters each, so an edit ("q" + digits) makes a text shorter.
_VOCAB = np.array(["k" + "".join(chr(97 + i // 26**k % 26) for k in range(4)) for i in range(5000)])


def random_text(seed: int, words: int = 120) -> str:
    return " ".join(np.random.default_rng(seed).choice(_VOCAB, size=words))


def edit_words(text: str, positions: list[int]) -> str:
    """Replace the words at `positions` with shorter words from outside the vocabulary."""
    words = text.split()
    for i in positions:
        words[i] = f"q{i}"
    return " ".join(words)


def doc(
    doc_id: str, text: str, url: str | None = None, crawl: str | None = None, fetch: dt.datetime | None = None
) -> dict:
    return {"doc_id": doc_id, "url": url, "crawl": crawl, "fetch_date": fetch, "text": text}


def write_shards(folder: Path, shards: list[list[dict]]) -> list[Path]:
    """Documents shards with the contract's columns (docs/contracts.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, rows in enumerate(shards):
        df = pl.DataFrame(
            rows,
            schema={
                "doc_id": pl.String,
                "url": pl.String,
                "crawl": pl.String,
                "fetch_date": pl.Datetime("us", "UTC"),
                "text": pl.String,
            },
        ).with_columns(
            domain=pl.lit(None, pl.String),
            tld=pl.lit(None, pl.String),
            source_file=pl.lit(f"file{i}"),
            record_index=pl.int_range(pl.len(), dtype=pl.Int64),
            content_type=pl.lit("text/html"),
            title=pl.lit(None, pl.String),
            lang=pl.lit("en"),
            lang_score=pl.lit(0.9, pl.Float32),
            n_bytes=pl.col("text").str.len_bytes().cast(pl.Int64),
        )
        paths.append(folder / f"part-{i:05d}.parquet")
        df.write_parquet(paths[-1])
    return paths


def read_dedup(out: Path) -> pl.DataFrame:
    return pl.read_parquet(sorted((out / "dedup").glob("part-*.parquet")))


def norm(texts: list[str], p: DedupParams | None = None) -> list[str]:
    p = p or DedupParams()
    return exact_text(pl.Series(texts, dtype=pl.String), p).to_list()


def norm_urls(urls: list[str | None], p: DedupParams | None = None) -> list[str | None]:
    return url_keys(pl.Series(urls, dtype=pl.String), p or DedupParams()).to_list()


def test_exact_normalisation() -> None:
    assert norm(["Hello, World!", "HELLO   world.", " hello\n\tworld "]) == ["hello world"] * 3
    assert norm(["ﬁne Ｆｕｌｌ", "Page 12 of 30", "Café—crème"]) == ["fine full", "page 0 of 0", "café crème"]
    assert norm(["3.14 and 1,000,000"]) == ["0 and 0"]
    p = DedupParams(exact_lowercase=False, exact_digits_to_zero=False, exact_strip_punctuation=False, exact_unicode="")
    assert norm(["Hello,  World 42!"], p) == ["Hello, World 42!"]


def test_piecewise_normalisation_matches_whole_texts() -> None:
    """Only non-ASCII runs (with the character before them) are normalised, punctuation and spaces collapse in one
    pass, CJK characters are spaced early: the results must equal the plain polars chain on whole texts."""
    rng = np.random.default_rng(4)
    alphabet = list("aeE <>=o \n\t01.,;-'") + list("\u0301\u0308\u0338\u1100\u1161\u11a8ﬁ①Ｆé\u212bΣ日カ・、。\u3000")
    alphabet += list("\u09be\u09c7ǅ😀\u200b\u00a0١٫،０．…“²\u00ad")
    texts = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 40)))) for _ in range(300)]
    series = pl.Series("text", [None, "é", *texts, "a\u0301"], dtype=pl.String).slice(1)
    lowered = series.str.to_lowercase()
    number, punct = r"\p{Nd}+(?:[.,،٫]\p{Nd}+)*", r"[\p{P}\p{S}\p{Cc}\p{Cf}]+"
    cjk = r"([\p{Han}\p{Hiragana}\p{Katakana}])"
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        plain = lowered.str.normalize(form).str.replace_all(number, "0").str.replace_all(punct, " ")
        expected = plain.str.replace_all(r"\s+", " ").str.strip_chars().to_list()
        assert exact_text(series, DedupParams(exact_unicode=form)).to_list() == expected
    plain = lowered.str.normalize("NFKD").str.replace_all(r"\p{Mn}+", "").str.replace_all(number, "0")
    plain = plain.str.replace_all(punct, " ").str.replace_all(cjk, " ${1} ")
    assert shingle_text(series).to_list() == plain.str.replace_all(r"\s+", " ").str.strip_chars().to_list()
    with_null = pl.Series("text", ["Å\u0301", None, "x"], dtype=pl.String)
    assert exact_text(with_null, DedupParams()).to_list() == ["ǻ", None, "x"]


def test_url_normalisation() -> None:
    got = norm_urls(
        [
            "HTTP://WWW.Example.com:80/a/b/?utm_source=x&b=2&a=1#frag",
            "https://example.com/a/b?a=1&b=2",
            "https://user:pw@example.com:8080/",
            "https://example.com./x?fbclid=1&gclid=2&UTM_Medium=3",
            "https://example.com/Path/",
            "example.com/relative",
            None,
            "  ",
        ]
    )
    assert got == [
        "//example.com/a/b?a=1&b=2",
        "//example.com/a/b?a=1&b=2",
        "//example.com:8080",
        "//example.com/x",
        "//example.com/Path",
        "example.com/relative",
        None,
        None,
    ]
    strict = DedupParams(url_ignore_scheme=False, url_strip_www=False, url_drop_query=True)
    assert norm_urls(["HTTPS://www.x.org:443/p?q=1", "http://x.org:443/"], strict) == [
        "https://www.x.org/p",
        "http://x.org:443",
    ]


def test_union_find_matches_breadth_first_search() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    u, v = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    parent = np.arange(n)
    for lo in range(0, u.size, 400):  # edges arrive in batches, as partitions do
        union_edges(parent, u[lo : lo + 400], v[lo : lo + 400])
    roots = flatten(parent)
    adjacency: dict[int, list[int]] = {}
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    expected = np.arange(n)
    for start in range(n):
        if expected[start] != start:
            continue
        stack, seen = [start], {start}
        while stack:
            for nxt in adjacency.get(stack.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        expected[list(seen)] = min(seen)
    assert np.array_equal(roots, expected)


def test_exact_url_and_combined_clusters(tmp_path: Path) -> None:
    t1, t2, t3, t4 = (random_text(s) for s in range(4))
    d = dt.datetime(2024, 3, 1, tzinfo=UTC)
    shards = write_shards(
        tmp_path / "documents",
        [
            [
                doc("a1", t1, "https://www.site.com/page?utm_source=tw", "CC-MAIN-2024-10", d),
                doc("a2", t1.upper().replace(" ", ",  "), "http://other.com/a2", "CC-MAIN-2024-22", d),
                doc("b1", t2, "https://site.com/b", "CC-MAIN-2024-10", d + dt.timedelta(days=1)),
            ],
            [
                doc("b2", t2 + " !!!", "https://site.com/b2", "CC-MAIN-2024-10", d),  # earlier fetch wins
                doc("u1", t3, "http://site.com/page/", "CC-MAIN-2024-22", d),  # URL duplicate of a1, other text
                doc("n1", t4, None, None, None),
                doc("z2", t4, None, None, None),  # ties everywhere but doc_id: n1 < z2
            ],
        ],
    )
    summary = run_dedup(shards, tmp_path, DedupParams(near=False), write_part=commit_part)
    got = read_dedup(tmp_path)
    assert got["doc_id"].to_list() == ["a1", "a2", "b1", "b2", "u1", "n1", "z2"]
    row = {r["doc_id"]: r for r in got.iter_rows(named=True)}
    assert row["a2"]["exact_cluster"] == "a1" and row["a2"]["is_exact_duplicate"]
    assert row["a1"]["text_hash"] == row["a2"]["text_hash"] == xxhash.xxh3_64_intdigest(norm([t1])[0].encode())
    assert row["b1"]["exact_cluster"] == "b2" and row["b1"]["is_exact_duplicate"]
    assert not row["b2"]["is_exact_duplicate"]
    assert row["z2"]["exact_cluster"] == "n1" and not row["n1"]["is_duplicate"]
    assert row["u1"]["url_cluster"] == "a1" and row["u1"]["is_url_duplicate"]
    assert row["n1"]["url_cluster"] == "n1" and not row["n1"]["is_url_duplicate"]  # no URL: own cluster
    # a2 ~exact~ a1 ~url~ u1: one combined cluster, represented by a1 (earliest crawl).
    assert {r: row[r]["dup_cluster"] for r in ("a1", "a2", "u1")} == {"a1": "a1", "a2": "a1", "u1": "a1"}
    assert [r for r in row if row[r]["is_duplicate"]] == ["a2", "b1", "u1", "z2"]
    assert got["near_cluster"].null_count() == got.height and got["is_near_duplicate"].null_count() == got.height
    assert summary["kinds"]["exact"] == {
        "documents": 7,
        "clusters": 4,
        "duplicate_clusters": 3,
        "duplicates": 3,
        "duplicate_bytes": len(t1.upper().replace(" ", ",  ")) + len(t2) + len(t4),
    }
    assert summary["kinds"]["url"]["duplicates"] == 1
    assert json.loads(json.dumps(summary))["params"]["shingle_size"] == 5  # goes into manifest.json as is
    assert summary["kinds"]["all"]["duplicates"] == 4
    assert "near" not in summary["kinds"]


def test_cross_crawl_overlap(tmp_path: Path) -> None:
    a = [random_text(100 + i) for i in range(4)]
    b_new = [random_text(200 + i) for i in range(2)]
    docs_a = [doc(f"a{i}", t, crawl="CC-MAIN-2023-50") for i, t in enumerate(a)]
    docs_b = [
        doc("b0", a[0].upper(), crawl="CC-MAIN-2024-10"),  # exact copy of a crawl-A document
        doc("b1", a[1], crawl="CC-MAIN-2024-10"),
        doc("b2", edit_words(a[2], [60]), crawl="CC-MAIN-2024-10"),  # near copy: Jaccard 111/121
        doc("b3", b_new[0], crawl="CC-MAIN-2024-10"),
        doc("b4", b_new[1], crawl="CC-MAIN-2024-10"),
        doc("b5", b_new[1], crawl="CC-MAIN-2024-10"),  # duplicate inside the crawl, not seen before
    ]
    docs_c = [
        doc("c0", b_new[0], crawl="CC-MAIN-2024-22"),  # seen in B
        doc("c1", a[3], crawl="CC-MAIN-2024-22"),  # seen in A
        doc("c2", random_text(300), crawl="CC-MAIN-2024-22"),
        doc("x0", a[0], crawl=None),  # no crawl: clustered, but outside the overlap table
    ]
    shards = write_shards(tmp_path / "documents", [docs_c, docs_a, docs_b])  # shard order must not matter
    summary = run_dedup(shards, tmp_path, write_part=commit_part)
    size = {d["doc_id"]: len(d["text"]) for d in docs_a + docs_b + docs_c}
    overlap = {r["crawl"]: r for r in summary["crawl_overlap"]}
    assert list(overlap) == ["CC-MAIN-2023-50", "CC-MAIN-2024-10", "CC-MAIN-2024-22"]
    assert overlap["CC-MAIN-2023-50"]["seen_documents"] == 0
    b = overlap["CC-MAIN-2024-10"]
    assert (b["documents"], b["seen_documents"], b["duplicates_within_crawl"]) == (6, 3, 1)
    assert b["seen_bytes"] == size["b0"] + size["b1"] + size["b2"]
    assert b["share_bytes_seen"] == pytest.approx(b["seen_bytes"] / sum(size[f"b{i}"] for i in range(6)))
    c = overlap["CC-MAIN-2024-22"]
    assert (c["documents"], c["seen_documents"], c["share_documents_seen"]) == (3, 2, pytest.approx(2 / 3))
    got = {r["doc_id"]: r for r in read_dedup(tmp_path).iter_rows(named=True)}
    assert got["b2"]["near_cluster"] == "a2" and got["b2"]["is_near_duplicate"] and got["b2"]["is_duplicate"]
    assert got["c0"]["first_crawl"] == "CC-MAIN-2024-10" and got["c0"]["seen_in_earlier_crawl"]
    assert got["b5"]["dup_cluster"] == "b4" and not got["b5"]["seen_in_earlier_crawl"]
    assert got["x0"]["dup_cluster"] == "a0" and got["x0"]["first_crawl"] == "CC-MAIN-2023-50"
    assert not got["x0"]["seen_in_earlier_crawl"]


def test_output_contract_batches_and_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = [random_text(400 + i, words=60) for i in range(40)]
    rows = [doc(f"d{i:03d}", t, f"https://s.org/{i % 30}") for i, t in enumerate(base)]
    rows += [doc(f"e{i:03d}", edit_words(t, [0]), None) for i, t in enumerate(base[:15])]  # Jaccard 55/57
    rows += [doc("short", "too few words"), doc("empty", "")]
    shards = write_shards(tmp_path / "documents", [rows[:20], [], rows[20:]])
    stale = tmp_path / "dedup" / "part-00007.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old run")
    summary = run_dedup(shards, tmp_path, write_part=commit_part)
    assert sorted(p.name for p in (tmp_path / "dedup").iterdir()) == [f"part-{i:05d}.parquet" for i in range(3)]
    parts = [pl.read_parquet(p) for p in sorted((tmp_path / "dedup").glob("part-*.parquet"))]
    assert [p.height for p in parts] == [20, 0, len(rows) - 20]
    assert all(dict(p.schema) == OUTPUT_SCHEMA for p in parts)
    reference = pl.concat(parts)
    assert reference["doc_id"].to_list() == [r["doc_id"] for r in rows]
    assert summary["near"]["documents_with_signature"] == len(rows) - 2  # "short" and "empty" have < 5 words
    assert reference.filter(pl.col("doc_id").str.contains(r"^e\d"))["near_cluster"].to_list() == [
        f"d{i:03d}" for i in range(15)
    ]
    assert reference["is_url_duplicate"].sum() == 10

    # Tiny batches and many LSH hash ranges (as for a corpus far beyond the memory budget) change nothing.
    monkeypatch.setattr(lsh_module, "LSH_ROW_BYTES", 2**20)
    small = run_dedup(shards, tmp_path / "small", DedupParams(batch_size=7, lsh_memory_mb=8), write_part=commit_part)
    assert small["near"]["lsh_ranges_per_band"] == 8
    assert read_dedup(tmp_path / "small").equals(reference)
    assert small["kinds"] == summary["kinds"]
