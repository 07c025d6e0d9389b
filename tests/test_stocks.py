"""Tallies and stocks.json of small run directories built to contracts.md's schemas."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stats.stocks import (
    REPLICATES_FILE,
    REPLICATES_SCHEMA,
    STOCKS_SCHEMA,
    _components,
    build_stock_tables,
    build_stocks,
)
from stats.tokens import count_tokens

WORDS = ["data", "tokens", "crawl", "web", "page", "stock", "quality", "model", "language", "filter", "corpus",
         "text", "Daten", "Sprache", "Seite", "Qualität", "rapide", "données", "langue", "modèle"]
CRAWLS = ("CC-MAIN-2024-10", "CC-MAIN-2024-22")


def _text(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, size=int(rng.integers(5, 120)))) + "."


def make_run(
    root: Path,
    *,
    files_per_crawl: int = 4,
    population_files: int = 40,
    docs_per_file: int = 12,
    seed: int = 0,
    dedup: str = "clusters",  # "clusters" | "flags" | "none"
    quality: bool = True,
    sampling: bool = True,
    shared_texts: int = 5,
    local_files: bool = False,
    crawls: tuple[str, ...] = CRAWLS,
    recrawl: bool = False,
) -> Path:
    """A run directory: documents/ (one shard per file), dedup/, quality/, tokens/, manifest.json.

    Each crawl holds a few exact duplicates within itself, and the second crawl repeats `shared_texts` texts of
    the first (cross-crawl overlap), or all of them in other files (`recrawl`: the same pages captured again).
    `local_files`: the source files exist under root/input (a local census when `sampling` is False).
    Clusters are what a dedup stage would write: exact = hash of the text.
    """
    rng = np.random.default_rng(seed)
    rows, design = [], []
    first_crawl_texts: list[str] = []
    for crawl in crawls:
        for f in range(files_per_crawl):
            source = f"s3://commoncrawl/crawl-data/{crawl}/segments/x/warc/part-{f:05d}.warc.gz"
            if local_files:
                (root / "input").mkdir(parents=True, exist_ok=True)
                local = root / "input" / f"{crawl}-part-{f:05d}.jsonl"
                local.write_bytes(b"x" * (1000 * (f + 1)))
                source = str(local)
            design.append({"source_file": source, "stratum": crawl, "record_rate": 1.0,
                           "inclusion_prob": files_per_crawl / population_files,
                           "records_read": docs_per_file, "records_available": docs_per_file})
            for i in range(docs_per_file):
                text = _text(rng)
                if crawl == crawls[0]:
                    first_crawl_texts.append(text)
                elif recrawl:
                    # the same page again, in another file of the later crawl
                    text = first_crawl_texts[((f + 1) % files_per_crawl) * docs_per_file + i]
                elif f == 0 and i < shared_texts:
                    text = first_crawl_texts[i * 7]  # copied from the earlier crawl
                if i == docs_per_file - 1:
                    text = rows[-1]["text"]  # an exact duplicate inside the crawl (same file)
                tld = ["com", "de", "org", None][i % 4]
                rows.append({
                    "doc_id": f"{crawl}/{f}/{i}", "url": f"https://site{i}.{tld or 'xyz'}/p{f}",
                    "domain": f"site{i}.{tld or 'xyz'}", "tld": tld, "crawl": crawl, "source_file": source,
                    "record_index": i, "fetch_date": datetime(2024, 5, 1, tzinfo=timezone.utc),
                    "content_type": "text/html", "title": None, "lang": ["en", "de", "fr"][i % 3],
                    "lang_score": np.float32(0.9), "text": text, "n_bytes": len(text.encode()),
                })
    docs = pl.DataFrame(rows).with_columns(pl.col("fetch_date").dt.cast_time_unit("us"),
                                           pl.col("lang_score").cast(pl.Float32))
    for sub in ("documents", "dedup", "tiers", "tokens"):
        (root / sub).mkdir(parents=True)
    for k, (_, shard) in enumerate(docs.group_by("source_file", maintain_order=True)):
        shard.write_parquet(root / "documents" / f"part-{k:05d}.parquet")
    pl.DataFrame({"doc_id": docs["doc_id"], "tokens_cl100k_base": count_tokens(docs["text"].to_list())}).write_parquet(
        root / "tokens" / "part-00000.parquet")
    if quality:
        # a score from the text itself: identical texts get identical tiers, in any run, as a classifier gives
        score = np.array([int(hashlib.sha1(f"{seed}{t}".encode()).hexdigest()[:8], 16) / 16**8
                          for t in docs["text"].to_list()])
        tier = np.where(score > 0.66, "high", np.where(score > 0.33, "medium", "low"))
        # identical texts get identical tiers, as a real classifier would give them
        by_text = dict(zip(docs["text"].to_list(), tier.tolist()))
        pl.DataFrame({"doc_id": docs["doc_id"], "quality_score": score,
                      "tier": [by_text[t] for t in docs["text"].to_list()]}).write_parquet(
            root / "tiers" / "part-00000.parquet")
    if dedup != "none":
        exact = [hashlib.sha1(t.encode()).hexdigest()[:16] for t in docs["text"].to_list()]
        table = pl.DataFrame({"doc_id": docs["doc_id"], "exact_cluster": exact, "url_cluster": docs["url"],
                              "near_cluster": exact})
        first = table.with_row_index().with_columns(
            is_exact_duplicate=pl.col("index") != pl.col("index").min().over("exact_cluster"))
        table = first.drop("index").with_columns(is_duplicate=pl.col("is_exact_duplicate"))
        if dedup == "flags":
            table = table.select("doc_id", "is_exact_duplicate", "is_duplicate")
        table.write_parquet(root / "dedup" / "part-00000.parquet")
    manifest: dict = {"parameters": {}}
    if sampling:
        manifest["sampling"] = {
            "strata": {c: {"format": "warc", "population_files": population_files, "sampled_files": files_per_crawl}
                       for c in crawls},
            "files": design,
        }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def _truth(run: Path) -> pl.DataFrame:
    """The sample read back independently of stats.stocks, with within-crawl exact-duplicate flags."""
    docs = pl.read_parquet(run / "documents" / "*.parquet").join(
        pl.read_parquet(run / "tokens" / "*.parquet"), on="doc_id")
    return docs.with_row_index().with_columns(
        dup=pl.col("index") != pl.col("index").min().over("crawl", "text"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def built(run: Path) -> tuple[pl.DataFrame, dict]:
    return build_stocks(run, bootstrap=400)


def test_stocks_parquet_schema_is_documented(built: tuple[pl.DataFrame, dict]) -> None:
    df, _ = built
    assert df.schema == pl.Schema(STOCKS_SCHEMA)
    assert set(df["dedup_state"].unique()) == {"raw", "exact_dedup", "dedup"}
    assert set(df["tier"].unique()) <= {"high", "medium", "low"}
    assert "unknown" in set(df["tld"].unique())  # null TLDs are tallied, not dropped
    doc = (Path(__file__).parents[1] / "docs" / "stocks.md").read_text()
    for column in STOCKS_SCHEMA:
        assert f"`{column}`" in doc


def test_tallies_reconcile_with_the_documents(run: Path, built: tuple[pl.DataFrame, dict]) -> None:
    df, result = built
    truth = _truth(run)
    for state, sub in (("raw", truth), ("exact_dedup", truth.filter(~pl.col("dup"))),
                       ("dedup", truth.filter(~pl.col("dup")))):
        cells = df.filter(pl.col("dedup_state") == state)
        assert cells["documents"].sum() == sub.height
        assert cells["tokens"].sum() == sub["tokens_cl100k_base"].sum()
        assert cells["bytes"].sum() == sub["n_bytes"].sum()
        # every sampled file carries weight 40/4 = 10: cell estimates are 10 × the sample, and sum to the total
        assert cells["est_tokens"].sum() == pytest.approx(10 * sub["tokens_cl100k_base"].sum())
        assert result["total"]["tokens"][state if state != "exact_dedup" else "exact_dedup"]["estimate"] == (
            pytest.approx(cells["est_tokens"].sum()))
        tiers = sum(t["tokens"][state]["estimate"] for t in result["tiers"].values())
        assert tiers == pytest.approx(result["total"]["tokens"][state]["estimate"])
    # 2 crawls × 4 files × one in-file duplicate, plus nothing else duplicated within a crawl
    assert df.filter(pl.col("dedup_state") == "raw")["documents"].sum() - df.filter(
        pl.col("dedup_state") == "dedup")["documents"].sum() == 8


def test_after_dedup_never_exceeds_before(built: tuple[pl.DataFrame, dict]) -> None:
    df, result = built
    wide = df.pivot(on="dedup_state", index=["crawl", "lang", "tier", "tld"], values="tokens").fill_null(0)
    assert (wide["dedup"] <= wide["exact_dedup"]).all() and (wide["exact_dedup"] <= wide["raw"]).all()
    assert (wide["raw"] > wide["dedup"]).any()
    for block in [result["total"], *result["tiers"].values()]:
        assert block["tokens"]["dedup"]["estimate"] <= block["tokens"]["raw"]["estimate"]
        assert block["documents"]["dedup"]["estimate"] <= block["documents"]["raw"]["estimate"]


def _leaves_have_units(node: object, path: str = "") -> list[str]:
    """Paths of numbers in stocks.json that have no `unit` beside them (seeds are identifiers, not amounts)."""
    bad: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if is_number and "unit" not in node and key != "seed":
                bad.append(f"{path}.{key}")
            bad += _leaves_have_units(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            bad += _leaves_have_units(value, f"{path}[{i}]")
    return bad


def test_stocks_json_shape_and_units(built: tuple[pl.DataFrame, dict]) -> None:
    _, result = built
    assert result["unit"] == "tokens" and result["tokenizer"] == "cl100k_base"
    assert result["design"]["files_sampled"] == 8
    assert result["design"]["estimator"] == "horvitz-thompson; bootstrap over files, B=400"
    assert list(result["tiers"]) == ["high", "medium", "low"]
    high = result["tiers"]["high"]
    assert high["tokens"]["raw"]["unit"] == "tokens" and high["documents"]["raw"]["unit"] == "documents"
    lo, hi = high["tokens"]["raw"]["ci90"]
    assert lo < high["tokens"]["raw"]["estimate"] < hi
    assert 0 < high["fraction_of_tokens"]["raw"] < 1 and high["fraction_of_tokens"]["unit"] == "fraction"
    assert high["sample"]["documents"] > 0 and high["sample"]["files"] <= 8
    assert set(result["crawls"]) == set(CRAWLS)
    per_crawl = sum(c["total"]["tokens"]["raw"]["estimate"] for c in result["crawls"].values())
    assert per_crawl == pytest.approx(result["total"]["tokens"]["raw"]["estimate"])
    assert result["reference_sizes"]["common_crawl_epoch2024"]["tokens"] == 1.3e14
    assert _leaves_have_units(result) == []
    json.dumps(result, allow_nan=False)


def test_cross_crawl_union_removes_measured_overlap(tmp_path: Path) -> None:
    # A census of both crawls: the overlap is seen in full and the union is exact.
    run = make_run(tmp_path, population_files=4, shared_texts=5)
    _, result = build_stocks(run, bootstrap=100)
    truth = _truth(run).filter(~pl.col("dup"))
    union_true = truth.unique("text", keep="first")["tokens_cl100k_base"].sum()
    cross = result["cross_crawl"]
    assert cross["overlap_measured"] and cross["crawls"] == list(CRAWLS)
    assert cross["union"]["tokens"]["estimate"] == pytest.approx(union_true)
    assert cross["union"]["tokens"]["ci90"] == [pytest.approx(union_true)] * 2
    assert cross["sum_of_crawls"]["estimate"] > union_true
    assert cross["overlap_observed_fraction"][CRAWLS[1]] == pytest.approx(
        cross["overlap_estimated_fraction"][CRAWLS[1]])
    assert sum(t["estimate"] for t in cross["union"]["tiers"].values()) == pytest.approx(union_true)


def test_census_interval_collapses(tmp_path: Path) -> None:
    run = make_run(tmp_path, population_files=4)
    df, result = build_stocks(run, bootstrap=100)
    total = result["total"]["tokens"]["raw"]
    assert total["ci90"] == [total["estimate"], total["estimate"]]
    assert total["estimate"] == df.filter(pl.col("dedup_state") == "raw")["tokens"].sum()
    assert (df["est_tokens_ci90_low"] == df["est_tokens"]).all()


def test_missing_tables_and_columns_are_handled(tmp_path: Path) -> None:
    # No sampling design: local files that exist are a census of themselves (said in stocks.json).
    run = make_run(tmp_path / "a", dedup="none", quality=False, sampling=False, local_files=True)
    df, result = build_stocks(run, bootstrap=50)
    assert result["dedup_kinds"] == [] and set(df["dedup_state"]) == {"raw", "dedup"}
    assert list(result["tiers"]) == ["unscored"]
    assert result["total"]["tokens"]["dedup"] == result["total"]["tokens"]["raw"]
    assert "census of the local files read" in result["population"]
    assert result["design"]["census_of_files_read"] is True
    assert not result["cross_crawl"]["overlap_measured"]

    flags = make_run(tmp_path / "b", dedup="flags")
    df, result = build_stocks(flags, bootstrap=50)
    assert result["dedup_kinds"] == ["exact"]
    removed = df.filter(pl.col("dedup_state") == "raw")["documents"].sum() - df.filter(
        pl.col("dedup_state") == "dedup")["documents"].sum()
    assert removed == 8 + 5  # flags are run-wide: the 5 copies of the earlier crawl are removed too

    (run / "tokens" / "part-00000.parquet").unlink()
    with pytest.raises(ValueError, match="tokens_cl100k_base"):
        build_stocks(run)


def test_unknown_source_file_is_an_error(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["sampling"]["files"] = manifest["sampling"]["files"][1:]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="not in manifest"):
        build_stocks(run)


def test_write_stocks_is_atomic_and_round_trips(tmp_path: Path, built: tuple[pl.DataFrame, dict]) -> None:
    from flows.tally_stocks import write_stock_outputs  # the run directory's storage layer writes them

    df, result = built
    parquet, js = write_stock_outputs(tmp_path, df, result)
    assert pl.read_parquet(parquet).equals(df)
    assert json.loads(Path(js).read_text()) == json.loads(json.dumps(result))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stocks.json", "stocks.parquet"]


def test_duplicate_groups_join_across_kinds_and_stay_inside_a_crawl() -> None:
    # 0-1 exact, 1-2 near, 2-3 exact, ... a chain of 2,000 documents in crawl A; 2,000 and 2,001 share a URL
    # with the chain's ends but sit in crawl B, so they must not join it.
    n = 2000
    frame = pl.DataFrame({
        "crawl": ["A"] * n + ["B", "B"],
        "exact_cluster": [f"e{i // 2}" for i in range(n)] + [None, None],
        "near_cluster": [f"n{(i + 1) // 2}" for i in range(n)] + [None, None],
        "url_cluster": ["u0"] + [None] * (n - 2) + ["u1", "u0", "u1"],
    }).with_row_index("_row")
    within = _components(frame, ["exact_cluster", "near_cluster", "url_cluster"], ["crawl"]).to_list()
    assert within == [0] * n + [n, n + 1]
    across = _components(frame, ["url_cluster"], []).to_list()
    assert across[n] == 0 and across[n + 1] == n - 1 and across[1] == 1


def test_drawn_files_without_documents_count_as_zeros(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    shards = sorted((run / "documents").glob("*.parquet"))
    pl.read_parquet(shards[0]).head(0).write_parquet(shards[0])  # a drawn file that yielded nothing
    df, result = build_stocks(run, bootstrap=200)
    tokens = pl.read_parquet(run / "documents" / "*.parquet").join(
        pl.read_parquet(run / "tokens" / "*.parquet"), on="doc_id")["tokens_cl100k_base"].sum()
    assert result["total"]["tokens"]["raw"]["estimate"] == pytest.approx(10 * tokens)  # weight 40/4 for all files
    assert result["total"]["sample"]["files"] == 7 and result["total"]["sample"]["files_in_design"] == 8
    lo, hi = result["total"]["tokens"]["raw"]["ci90"]
    assert lo < 10 * tokens < hi

    for shard in shards:  # nothing at all: zeros, not a crash
        pl.read_parquet(shard).head(0).write_parquet(shard)
    df, result = build_stocks(run, bootstrap=50)
    assert df.height == 0 and result["tiers"] == {}
    # A sample of 8 of 80 files with nothing in it does not show that the crawl holds nothing: no interval
    # (not [0, 0], which claimed certainty before issue 16), and the block says why.
    assert result["total"]["tokens"]["dedup"] == {"estimate": 0.0, "ci90": None, "unit": "tokens"}
    assert result["total"]["variance"].startswith("not estimable")
    assert result["supply"]["groups"]["*"]["dedup_survival"]["estimate"] is None  # no tokens: nothing to measure
    json.dumps(result, allow_nan=False)


# --- issue 16: the design travels with the data; the measured factors of the supply chain ---------------------


def test_a_sampled_crawl_without_its_design_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path, sampling=False)  # documents from s3:// files, manifest.json without `sampling`
    with pytest.raises(ValueError, match="no sampling design.*not local files.*crawl-sample"):
        build_stocks(run)


def _width(block: dict) -> float:
    lo, hi = block["ci90"]
    return hi - lo


@pytest.fixture(scope="module")
def tables(run: Path) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    return build_stock_tables(run, bootstrap=300)


def test_supply_block_follows_the_contract(tables: tuple[pl.DataFrame, dict, pl.DataFrame], tmp_path: Path) -> None:
    df, result, reps = tables
    supply = result["supply"]
    assert supply["level"] == 0.9 and supply["replicates"] == 300
    assert supply["replicates_file"] == REPLICATES_FILE
    assert set(supply["groups"]) == {"*", "en"}  # de and fr: 32 documents each (< 100); en always when present
    assert any("Language en has only 32" in w for w in supply["warnings"])
    everything = supply["groups"]["*"]
    assert everything["lang_share"] == 1.0 and everything["documents"] == 96 and everything["files"] == 8
    survival = everything["dedup_survival"]
    assert survival["unit"] == "fraction" and survival["scope"] == "crawl-wide"  # 4 of 40 files: 10%
    assert 0 < survival["ci90"][0] <= survival["estimate"] <= survival["ci90"][1] <= 1
    assert set(everything["tier_share"]) == {"high", "medium", "low"}
    assert sum(b["estimate"] for b in everything["tier_share"].values()) == pytest.approx(1.0)
    assert 0.1 < supply["groups"]["en"]["lang_share"] < 0.6
    floor = supply["common_crawl_floor"]
    assert floor["unit"] == "tokens" and floor["estimate"] == pytest.approx(
        result["cross_crawl"]["union"]["tokens"]["estimate"] * survival["estimate"]
        / (result["total"]["tokens"]["dedup"]["estimate"] / result["total"]["tokens"]["raw"]["estimate"]))
    assert set(supply["new_content"]) == {CRAWLS[1]}
    assert supply["small_sample"] is True and any("fewer than 5 files" in w for w in supply["warnings"])
    assert "dedup survival" in supply["chain"] and "high share" in supply["chain"] and "floor" in supply["chain"]
    assert _leaves_have_units(result) == []
    json.dumps(result, allow_nan=False)

    assert reps.schema == pl.Schema(REPLICATES_SCHEMA)
    assert reps["replicate"].min() == 0 and reps["replicate"].max() == 300
    point = reps.filter(pl.col("replicate") == 0, pl.col("group") == "*")
    assert point.filter(pl.col("quantity") == "dedup_survival")["value"][0] == pytest.approx(survival["estimate"])
    from flows.tally_stocks import write_stock_outputs

    write_stock_outputs(tmp_path, df, result, reps)
    assert pl.read_parquet(tmp_path / REPLICATES_FILE).equals(reps)


def test_tier_shares_sum_to_one_in_every_replicate(tables: tuple[pl.DataFrame, dict, pl.DataFrame]) -> None:
    _, _, reps = tables
    sums = (reps.filter(pl.col("quantity").str.starts_with("share:"))
            .group_by("replicate", "group").agg(pl.col("value").sum()))
    assert sums.height == 301 * 2
    np.testing.assert_allclose(sums["value"].to_numpy(), 1.0, rtol=1e-9)
    shares = reps.filter(pl.col("quantity") == "share:high", pl.col("group") == "*")["value"]
    assert shares.std() > 0  # the replicates carry the sampling spread


def test_a_recrawl_of_the_same_pages_leaves_the_factors_unchanged(tmp_path: Path) -> None:
    # Census of one crawl vs the same crawl plus a re-crawl of its pages (in other files): exact equality.
    one = make_run(tmp_path / "one", population_files=4, crawls=CRAWLS[:1])
    two = make_run(tmp_path / "two", population_files=4, recrawl=True)
    a = build_stocks(one, bootstrap=100)[1]["supply"]
    b = build_stocks(two, bootstrap=100)[1]["supply"]
    for key in ("dedup_survival",):
        assert b["groups"]["*"][key]["estimate"] == pytest.approx(a["groups"]["*"][key]["estimate"])
    for tier, share in a["groups"]["*"]["tier_share"].items():
        assert b["groups"]["*"]["tier_share"][tier]["estimate"] == pytest.approx(share["estimate"])
    assert b["common_crawl_floor"]["estimate"] == pytest.approx(a["common_crawl_floor"]["estimate"])
    assert b["new_content"][CRAWLS[1]]["estimate"] == pytest.approx(0.0)
    assert a["new_content"] == {}

    # Sampled (4 of 40 files per crawl): the re-crawl moves nothing outside the single crawl's interval.
    one = make_run(tmp_path / "one-s", crawls=CRAWLS[:1])
    two = make_run(tmp_path / "two-s", recrawl=True)
    a = build_stocks(one, bootstrap=300)[1]["supply"]
    b = build_stocks(two, bootstrap=300)[1]["supply"]
    lo, hi = a["common_crawl_floor"]["ci90"]
    assert lo <= b["common_crawl_floor"]["estimate"] <= hi
    lo, hi = a["groups"]["*"]["dedup_survival"]["ci90"]
    assert lo <= b["groups"]["*"]["dedup_survival"]["estimate"] <= hi
    for tier, share in a["groups"]["*"]["tier_share"].items():
        assert share["ci90"][0] <= b["groups"]["*"]["tier_share"][tier]["estimate"] <= share["ci90"][1]


def test_a_tier_missing_from_a_crawls_sample_is_not_zero_zero(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    tiers = pl.read_parquet(run / "tiers" / "part-00000.parquet")
    tiers = tiers.with_columns(tier=pl.when(pl.col("doc_id").str.starts_with(CRAWLS[1]) & (pl.col("tier") == "high"))
                               .then(pl.lit("medium")).otherwise(pl.col("tier")))
    tiers.write_parquet(run / "tiers" / "part-00000.parquet")
    _, result = build_stocks(run, bootstrap=400)
    high = result["crawls"][CRAWLS[1]]["tiers"]["high"]
    block = high["tokens"]["raw"]
    assert block["estimate"] == 0.0 and block["ci90"][0] == 0.0
    total = result["crawls"][CRAWLS[1]]["total"]["tokens"]["raw"]["estimate"]
    # rule of three: at most 3/n = 3/4 of the crawl's tokens at the 95th percentile, and well above zero
    assert 0.05 * total < block["ci90"][1] <= 0.75 * total * 1.5
    assert "rule-of-three" in high["variance"]
    assert high["fraction_of_tokens"]["ci90"]["raw"][1] > 0


def test_fewer_files_never_give_a_narrower_interval(tmp_path: Path) -> None:
    widths = {}
    for n in (1, 2, 4):
        _, result = build_stocks(make_run(tmp_path / f"n{n}", files_per_crawl=n, seed=3, shared_texts=1),
                                 bootstrap=400)
        g = result["supply"]["groups"]["*"]
        widths[n] = (_width(result["total"]["tokens"]["dedup"]) / result["total"]["tokens"]["dedup"]["estimate"],
                     _width(g["tier_share"]["high"]), _width(g["dedup_survival"]))
        if n == 1:
            assert result["design"]["strata"][CRAWLS[0]]["variance"].startswith("not estimable: one file")
    for quantity in range(3):
        assert widths[1][quantity] >= widths[2][quantity] >= widths[4][quantity] * 0.999, (quantity, widths)
    assert widths[1][0] > 0 and widths[1][1] > 0  # never zero width


def _duplicated_crawl(root: Path, sampled: list[int], n_files: int = 20, pages: int = 300, seed: int = 0) -> Path:
    """One crawl of `n_files` files in which every page has a copy in another file; only `sampled` files read."""
    rng = np.random.default_rng(seed)
    rows = []
    for page in range(pages):
        tokens = int(rng.integers(50, 500))
        copies = rng.choice(n_files, 2 if page % 3 else 1, replace=False)  # 2/3 of pages twice, in two files
        rows += [{"doc_id": f"p{page}-f{f}", "source_file": f"/crawl/file-{f:03d}.warc.gz", "crawl": "CC-MAIN-2024-10",
                  "lang": "en", "tld": "com", "n_bytes": 4 * tokens, "tokens_cl100k_base": tokens,
                  "exact_cluster": f"p{page}", "tier": ["high", "medium", "low"][page % 3], "_f": int(f)}
                 for f in copies]
    docs = pl.DataFrame(rows).filter(pl.col("_f").is_in(sampled))
    for sub in ("documents", "tokens", "dedup", "tiers"):
        (root / sub).mkdir(parents=True)
    columns = ["doc_id", "source_file", "crawl", "lang", "tld", "n_bytes"]
    docs.select(columns).write_parquet(root / "documents" / "a.parquet")
    docs.select("doc_id", "tokens_cl100k_base").write_parquet(root / "tokens" / "a.parquet")
    docs.select("doc_id", "exact_cluster", near_cluster="exact_cluster").write_parquet(root / "dedup" / "a.parquet")
    docs.select("doc_id", "tier").write_parquet(root / "tiers" / "a.parquet")
    files = [{"source_file": f"/crawl/file-{f:03d}.warc.gz", "stratum": "CC-MAIN-2024-10",
              "inclusion_prob": len(sampled) / n_files, "record_rate": 1.0} for f in sampled]
    (root / "manifest.json").write_text(json.dumps({"sampling": {
        "strata": {"CC-MAIN-2024-10": {"population_files": n_files, "sampled_files": len(sampled)}}, "files": files}}))
    return root


def test_crawl_wide_dedup_survival_sees_duplicates_in_unsampled_files(tmp_path: Path) -> None:
    census = build_stocks(_duplicated_crawl(tmp_path / "census", list(range(20))), bootstrap=50)[1]["supply"]
    truth = census["groups"]["*"]["dedup_survival"]["estimate"]
    assert census["groups"]["*"]["dedup_survival"]["scope"] == "crawl-wide"
    rng = np.random.default_rng(1)
    estimates, sample_bounds = [], []
    for k in range(16):
        sampled = sorted(rng.choice(20, 8, replace=False).tolist())  # 40% of the files
        _, result = build_stocks(_duplicated_crawl(tmp_path / f"s{k}", sampled), bootstrap=50)
        survival = result["supply"]["groups"]["*"]["dedup_survival"]
        assert survival["scope"] == "crawl-wide" and survival["ci90"][0] <= survival["estimate"]
        estimates.append(survival["estimate"])
        tokens = result["total"]["tokens"]
        sample_bounds.append(tokens["dedup"]["estimate"] / tokens["raw"]["estimate"])
    # the sample-level survival misses most cross-file copies (biased high); the crawl-wide estimate does not
    assert np.mean(sample_bounds) > truth + 0.1
    assert abs(np.mean(estimates) - truth) < 3 * np.std(estimates, ddof=1) / 4 + 0.01, (np.mean(estimates), truth)
