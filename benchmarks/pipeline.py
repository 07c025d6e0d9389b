"""Per-core throughput of peakdata's per-document path, stage by stage, next to a datatrove-only pipeline.

Why: the targets of issue 11 are per core and relative to what a user would otherwise write with datatrove
(WARC reader → trafilatura → Gopher repetition + quality → C4 → FineWeb filters → token counter → Parquet, one
process). Both run here on the same pages, in one process each, with CPU time (`getrusage`: this process, its
threads and its reaped children) as the primary measure because wall time on a shared machine is noisy; wall time
is reported beside it. Polars, Rayon and the token counters are held to one thread, so CPU-seconds are core-seconds.

    .venv/bin/python -m benchmarks.pipeline peakdata  --input WARC [WARC ...] --json OUT.json
    .venv/bin/python -m benchmarks.pipeline datatrove --input WARC --json OUT.json [--limit N]
    .venv/bin/python -m benchmarks.pipeline profile   --input WARC --json OUT.json
    .venv/bin/python -m benchmarks.pipeline parity    --input WARC --json OUT.json
    .venv/bin/python -m benchmarks.pipeline scaling   --input WARC... [--workers 1,2] [--runners threads,processes]
    .venv/bin/python -m benchmarks.pipeline compare   --input WARC          # peakdata + datatrove, Markdown

peakdata's stages are the functions the flows call (no Prefect): `iter_records` → `build_documents` (extraction
+ LID) → `ShardWriter` → `run_dedup` → `compute_signals` → `default_scorer().score` → `count_tokens` → Parquet.
datatrove's steps are timed in one streaming run by probes between the steps: a probe adds up the CPU time spent
pulling each document through everything upstream of it, so a step's own time is the difference between its probe
and the previous one. Trafilatura runs in datatrove's sandbox process; that child's CPU time is added to the
extraction step. One-off loading (models, spaCy, tokenizer files) is done before the timed part on both sides.
"""

from __future__ import annotations

import os

for _var in ("POLARS_MAX_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS"):  # one core; before numeric imports
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from tools.shared_data import shared_data_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
REAL_WARC = SHARED / "warc_derived" / "trafilatura-eval-1033pages.warc.gz"
HF_TOKENIZER = SHARED / "tokenizers" / "gpt-neo-tokenizer.json"
UDHR = SHARED / "reference_text" / "nltk-udhr-334langs.tar.gz"
BATCH_RECORDS = 1000  # ReadOptions.batch_size of crawl-sample
SIGNAL_ROWS = 2000  # flows.quality_classify.BATCH_ROWS
TOKEN_ROWS = 5000  # flows.tally_stocks.BATCH_ROWS
WARM_UP_TEXT = ("The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.\n"
                "A second line of ordinary prose follows here, long enough to be counted as a sentence.") * 3


# --- measuring --------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its reaped child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def children_cpu_seconds() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def reset_peak_rss() -> bool:
    """Reset this process's high-water RSS (Linux `clear_refs` 5) so that a stage's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """High-water RSS of this process since the last reset (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Stage:
    """CPU and wall seconds, documents, megabytes and peak RSS of one stage (accumulated over sections)."""

    name: str
    basis: str = ""  # what `mb` counts
    docs: int = 0
    mb: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    note: str = ""

    @contextlib.contextmanager
    def timing(self) -> Iterator[Stage]:
        reset_peak_rss()
        cpu, wall = cpu_seconds(), time.perf_counter()
        try:
            yield self
        finally:
            self.cpu_s += cpu_seconds() - cpu
            self.wall_s += time.perf_counter() - wall
            self.peak_rss_mb = max(self.peak_rss_mb, peak_rss_mb())

    def as_dict(self) -> dict:
        row = asdict(self)
        row["docs_per_cpu_s"] = self.docs / self.cpu_s if self.cpu_s > 0 else None
        row["mb_per_cpu_s"] = self.mb / self.cpu_s if self.cpu_s > 0 else None
        row["docs_per_wall_s"] = self.docs / self.wall_s if self.wall_s > 0 else None
        return row


def total_stage(name: str, stages: list[Stage], docs: int, mb: float, basis: str) -> Stage:
    """The sum of several stages as one row (documents and MB are the pipeline's input, not a sum)."""
    return Stage(name, basis, docs, mb, sum(s.cpu_s for s in stages), sum(s.wall_s for s in stages),
                 max((s.peak_rss_mb for s in stages), default=0.0))


# --- peakdata -----------------------------------------------------------------------------------------


def _read_file(path: Path) -> list:
    """Every record of one WARC file, as crawl-sample reads it."""
    from flows.sources.records import SourceInfo, iter_records

    with open(path, "rb") as stream:
        return list(iter_records(stream, str(path), "warc", SourceInfo()))


def warm_up(tokenizer: str = "cl100k_base", same_tokenizer: Path | None = HF_TOKENIZER) -> Any:
    """Load what every worker process loads once (LID model, scorer, tokenizer ranks, signal tables)."""
    import polars as pl

    from filters.classifiers import default_scorer
    from filters.langid import identify
    from filters.signals import compute_signals
    from stats.tokens import count_tokens

    identify([WARM_UP_TEXT])
    scorer = default_scorer()
    scorer.score([WARM_UP_TEXT])
    compute_signals(pl.Series([WARM_UP_TEXT]))
    count_tokens([WARM_UP_TEXT], tokenizer, threads=1)
    if same_tokenizer is not None:
        count_tokens([WARM_UP_TEXT], str(same_tokenizer), threads=1)
    return scorer


def peakdata_run(paths: list[Path], workdir: Path, tokenizer: str = "cl100k_base",
                 same_tokenizer: Path | None = HF_TOKENIZER) -> dict:
    """Run peakdata's per-document stages over `paths` (one documents shard per file) and time each."""
    import polars as pl
    import pyarrow as pa

    from filters.dedup import run_dedup
    from filters.documents import DOCUMENT_SCHEMA, AdmissionConfig, Outcome, build_documents
    from filters.langid import identify
    from filters.signals import compute_signals
    from flows.deduplicate import commit_part
    from flows.rundir import ShardWriter, write_table
    from stats.tokens import count_tokens, token_column

    load = Stage("one-off loading (LID model, scorer, tokenizer, signal tables)", note="once per process")
    with load.timing():
        scorer = warm_up(tokenizer, same_tokenizer)

    read = Stage("read: gzip + WARC + HTTP (iter_records)", "compressed input")
    extract = Stage("extract + LID (build_documents)", "HTML payload")
    write_docs = Stage("write documents (ShardWriter, zstd)", "text")
    docs_dir = workdir / "documents"
    docs_dir.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    records_in = 0
    input_mb = 0.0
    outcome = Outcome()
    config = AdmissionConfig()
    for index, path in enumerate(paths):
        with read.timing():
            records = _read_file(path)
        read.docs += len(records)
        read.mb += path.stat().st_size / 1e6
        records_in += len(records)
        input_mb += path.stat().st_size / 1e6
        extract.docs += len(records)
        extract.mb += sum(len(r.payload or b"") for r in records) / 1e6
        tables = []
        with extract.timing():
            for lo in range(0, len(records), BATCH_RECORDS):
                tables.append(build_documents(records[lo:lo + BATCH_RECORDS], str(path), None, config, outcome))
        del records
        shard = docs_dir / f"part-{index:05d}.parquet"
        with write_docs.timing():
            writer = ShardWriter(shard, DOCUMENT_SCHEMA)
            for table in tables:
                writer.write(table)
            writer.commit()
        write_docs.docs += writer.rows
        write_docs.mb += sum(pa.compute.sum(pa.compute.binary_length(t.column("text"))).as_py() or 0
                             for t in tables) / 1e6
        shards.append(shard)
        del tables

    documents = outcome.documents
    text_mb = write_docs.mb
    dedup = Stage("dedup: exact + URL + MinHash-LSH (run_dedup)", "text", documents, text_mb)
    with dedup.timing():
        dedup_summary = run_dedup(shards, workdir, write_part=commit_part)
    read_back = Stage("read documents back (Parquet)", "text", documents, text_mb)
    signals = Stage("quality signals (compute_signals)", "text", documents, text_mb)
    score = Stage("quality score (default_scorer().score)", "text", documents, text_mb)
    tokens = Stage(f"tokens (count_tokens, {tokenizer})", "text", documents, text_mb)
    write_out = Stage("write quality + tokens (Parquet, zstd)", "text", documents, text_mb)
    for shard in shards:
        with read_back.timing():
            frame = pl.read_parquet(shard, columns=["doc_id", "text"])
        quality_tables = []
        for batch in frame.iter_slices(SIGNAL_ROWS):
            with signals.timing():
                signal_frame = compute_signals(batch["text"])
            with score.timing():
                scores = scorer.score(batch["text"].to_list())
            with write_out.timing():
                quality_tables.append(pl.concat([batch.select("doc_id"), signal_frame], how="horizontal")
                                      .with_columns(quality_score=pl.Series(scores, dtype=pl.Float64)).to_arrow())
        counts = []
        for batch in frame.iter_slices(TOKEN_ROWS):
            with tokens.timing():
                counts.append(batch.select("doc_id").with_columns(
                    pl.Series(token_column(tokenizer), count_tokens(batch["text"].to_list(), tokenizer, threads=1),
                              dtype=pl.Int64)))
        with write_out.timing():
            if quality_tables:
                writer = ShardWriter(workdir / "quality" / shard.name, quality_tables[0].schema)
                for table in quality_tables:
                    writer.write(table)
                writer.commit()
            if counts:
                write_table(workdir / "tokens" / shard.name, pl.concat(counts).to_arrow())

    texts = [t for shard in shards for t in pl.read_parquet(shard, columns=["text"])["text"].to_list()]
    lid = Stage("  of which LID (fastText lid.176, identify)", "text", len(texts), text_mb,
                note="timed again on the extracted texts; included in extract + LID")
    with lid.timing():
        identify(texts)
    extras = [lid]
    if same_tokenizer is not None:
        same = Stage(f"tokens with datatrove's tokenizer ({same_tokenizer.name}, count_tokens)", "text",
                     len(texts), text_mb, note="comparison only; not in the end-to-end sum")
        with same.timing():
            for lo in range(0, len(texts), TOKEN_ROWS):
                count_tokens(texts[lo:lo + TOKEN_ROWS], str(same_tokenizer), threads=1)
        extras.append(same)
    per_doc = [read, extract, write_docs, dedup, read_back, signals, score, tokens, write_out]
    end_to_end = total_stage("end to end (sum of the stages above)", per_doc, records_in, input_mb,
                             "compressed input")
    return {
        "side": "peakdata",
        "inputs": [str(p) for p in paths],
        "records": records_in,
        "documents": documents,
        "dropped": dict(outcome.dropped),
        "errors": dict(outcome.errors),
        "input_mb": input_mb,
        "text_mb": text_mb,
        "html_mb": extract.mb,
        "stages": [s.as_dict() for s in per_doc],
        "extras": [s.as_dict() for s in extras],
        "load": load.as_dict(),
        "end_to_end": end_to_end.as_dict(),
        "dedup": {k: dedup_summary.get(k) for k in ("documents", "kinds") if k in dedup_summary},
        "peak_rss_reset": reset_peak_rss(),
    }


def count_responses(warc: Path) -> int:
    """Response records of a WARC file (the pages both pipelines are given)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    with open(warc, "rb") as stream:
        return sum(1 for _ in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=False))


# --- datatrove --------------------------------------------------------------------------------------------


PROBE_TOTALS: dict[int, dict[str, float]] = {}  # module-level: the executor runs copies of the pipeline steps


def _probe_class() -> type:
    """A datatrove step that passes documents on and adds up the CPU/wall time spent pulling them from upstream."""
    from datatrove.pipeline.base import PipelineStep

    class Probe(PipelineStep):
        name = "⏱ probe"
        type = "⏱ - PROBE"

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index
            PROBE_TOTALS[index] = {"cpu": 0.0, "wall": 0.0, "mb": 0.0, "docs": 0}

        def run(self, data: Any, rank: int = 0, world_size: int = 1) -> Iterator[Any]:
            totals = PROBE_TOTALS[self.index]
            iterator = iter(data)
            while True:
                cpu, wall = time.process_time(), time.perf_counter()
                try:
                    doc = next(iterator)
                except StopIteration:
                    totals["cpu"] += time.process_time() - cpu
                    totals["wall"] += time.perf_counter() - wall
                    return
                totals["docs"] += 1
                totals["mb"] += len(doc.text.encode("utf-8", "replace")) / 1e6  # charged to the step above
                totals["cpu"] += time.process_time() - cpu
                totals["wall"] += time.perf_counter() - wall
                yield doc

    return Probe


def datatrove_run(warc: Path, workdir: Path, tokenizer_json: Path = HF_TOKENIZER, limit: int = -1,
                  timeout: float = 60.0) -> dict:
    """The datatrove-only pipeline on `warc`, one task, one worker, default filter settings; time each step.

    Trafilatura's per-document timeout is raised from datatrove's 1 s to `timeout` so that every page is extracted
    whatever the load on the machine (with 1 s, slow pages would be skipped at random).
    """
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.tokens import TokensCounter
    from datatrove.pipeline.writers import ParquetWriter

    input_dir = workdir / "datatrove-input"
    input_dir.mkdir(parents=True, exist_ok=True)
    link = input_dir / warc.name
    if not link.exists():
        link.symlink_to(warc.resolve())
    filters = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter()]
    counter = TokensCounter(str(tokenizer_json))
    steps = [
        ("read (WarcReader: warcio + charset detection)", WarcReader(str(input_dir), glob_pattern="*.warc.gz",
                                                                     limit=limit)),
        ("extract (Trafilatura, sandbox process)", Trafilatura(timeout=timeout)),
        ("GopherRepetitionFilter", filters[0]),
        ("GopherQualityFilter", filters[1]),
        ("C4QualityFilter", filters[2]),
        ("FineWebQualityFilter", filters[3]),
        (f"tokens (TokensCounter, {tokenizer_json.name})", counter),
        ("write (ParquetWriter)", ParquetWriter(str(workdir / "datatrove-output"))),
    ]
    load = Stage("one-off loading (spaCy word tokenizer, tokenizer file, trafilatura import)", note="once per process")
    with load.timing():
        import trafilatura  # noqa: F401 - the sandbox is forked from this process, so it inherits the import

        for step in filters:
            step.filter(Document(text=WARM_UP_TEXT, id="warm-up"))
        _ = counter.tokenizer
    probe = _probe_class()
    probes = [probe(i) for i in range(len(steps))]
    pipeline = [item for (_, step), p in zip(steps, probes) for item in (step, p)]
    executor = LocalPipelineExecutor(pipeline=pipeline, tasks=1, workers=1, logging_dir=str(workdir / "datatrove-logs"),
                                     skip_completed=False)
    reset_peak_rss()
    cpu0, kids0, wall0 = cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    executor.run()
    multiprocessing.active_children()  # reap the extraction sandbox so that its CPU time is counted
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    child_cpu = children_cpu_seconds() - kids0
    peak = max(peak_rss_mb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    input_mb = warc.stat().st_size / 1e6
    rows: list[Stage] = []
    prev_cpu = prev_wall = 0.0
    prev_docs, prev_mb = None, input_mb
    for index, (name, _) in enumerate(steps):
        p = PROBE_TOTALS[index]
        basis = "compressed input" if index == 0 else "HTML" if index == 1 else "text"
        stage = Stage(name, basis, p["docs"] if prev_docs is None else prev_docs, prev_mb,
                      p["cpu"] - prev_cpu, p["wall"] - prev_wall)
        rows.append(stage)
        prev_cpu, prev_wall, prev_docs, prev_mb = p["cpu"], p["wall"], p["docs"], p["mb"]
    rows[1].cpu_s += child_cpu
    rows[1].note = f"includes {child_cpu:.1f} CPU s of the sandbox process"
    rows[0].note = "includes the probes' byte counting of its output"
    pages = count_responses(warc) if limit < 0 else rows[0].docs
    rows[0].docs = max(rows[0].docs, pages)
    end_to_end = Stage("end to end (executor.run)", "compressed input", pages, input_mb, cpu, wall, peak,
                       note="docs: every response record of the file, also those its reader skips")
    return {
        "side": "datatrove",
        "inputs": [str(warc)],
        "records": pages,
        "documents_read": PROBE_TOTALS[0]["docs"],
        "documents_written": PROBE_TOTALS[len(steps) - 1]["docs"],
        "input_mb": input_mb,
        "stages": [s.as_dict() for s in rows],
        "load": load.as_dict(),
        "end_to_end": end_to_end.as_dict(),
        "unattributed_cpu_s": cpu - sum(s.cpu_s for s in rows),
        "settings": {"trafilatura_timeout_s": timeout, "tokenizer": str(tokenizer_json), "limit": limit},
    }


# --- profile ----------------------------------------------------------------------------------------------

_LIBRARIES = (  # substring of a profiler entry → the library it belongs to
    ("html2text", "resiliparse (extraction)"), ("resiliparse.parse.html", "resiliparse (HTML parse)"),
    ("built-in method parse>", "resiliparse (HTML parse)"), ("resiliparse.parse.encoding", "resiliparse (encoding)"),
    ("PyLazyFrame", "polars"), ("PyDataFrame", "polars"), ("PySeries", "polars"), ("CoreBPE", "tiktoken"),
    ("fasttext", "fastText (LID)"), ("zlib", "zlib (gzip)"), ("polars", "polars"), ("pyarrow", "pyarrow"),
    ("parquet", "pyarrow"), ("tiktoken", "tiktoken"), ("_tiktoken", "tiktoken"), ("xxhash", "xxhash"),
    ("numpy", "numpy"), ("re.Pattern", "re (regex)"), ("/filters/", "peakdata filters (Python)"),
    ("/flows/", "peakdata flows (Python)"), ("/stats/", "peakdata stats (Python)"),
)


def _library(key: tuple[str, int, str]) -> str:
    text = f"{key[0]}:{key[2]}"
    return next((lib for needle, lib in _LIBRARIES if needle in text), "other Python / interpreter")


def profile_run(paths: list[Path], workdir: Path, top: int = 20) -> dict:
    """cProfile of `peakdata_run`: top functions by own time and own time by library."""
    warm_up(same_tokenizer=None)
    profiler = cProfile.Profile()
    profiler.enable()
    result = peakdata_run(paths, workdir, same_tokenizer=None)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = [(key, value[2], value[1]) for key, value in stats.stats.items()]  # (key, own time, calls)
    total = sum(own for _, own, _ in entries) or 1.0
    entries.sort(key=lambda e: -e[1])
    functions = [{"function": _describe(key), "calls": calls, "own_s": own, "share": own / total}
                 for key, own, calls in entries[:top]]
    by_library: dict[str, float] = {}
    for key, own, _ in entries:
        by_library[_library(key)] = by_library.get(_library(key), 0.0) + own
    libraries = [{"library": lib, "own_s": s, "share": s / total}
                 for lib, s in sorted(by_library.items(), key=lambda kv: -kv[1])]
    return {"total_s": total, "functions": functions, "libraries": libraries,
            "stage_cpu_s": {s["name"]: s["cpu_s"] for s in result["stages"]}}


def _describe(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    short = re.sub(r".*/site-packages/", "", filename)
    short = short.replace(str(REPO) + "/", "")
    return f"{short}:{line} {name}"


# --- hot-path parity -----------------------------------------------------------------------------------------

UDHR_LANGUAGES = {  # UDHR file-name language → ISO 639-1 code that lid.176 predicts
    "English": "en", "German": "de", "French": "fr", "Spanish": "es", "Italian": "it", "Portuguese": "pt",
    "Dutch": "nl", "Danish": "da", "Swedish": "sv", "Finnish": "fi", "Estonian": "et", "Hungarian": "hu",
    "Czech": "cs", "Slovak": "sk", "Polish": "pl", "Slovenian": "sl", "Croatian": "hr", "Hrvatski": "hr",
    "Serbian": "sr", "Bosnian": "bs", "Romanian": "ro", "Bulgarian": "bg", "Russian": "ru", "Ukrainian": "uk",
    "Belorus": "be", "Greek": "el", "Turkish": "tr", "Arabic": "ar", "Hebrew": "he", "Farsi": "fa", "Hindi": "hi",
    "Bengali": "bn", "Tamil": "ta", "Chinese": "zh", "Japanese": "ja", "Korean": "ko", "Indonesian": "id",
    "Malay": "ms", "Catalan": "ca", "Basque": "eu", "Galician": "gl", "Icelandic": "is", "Latvian": "lv",
    "Lithuanian": "lt", "Albanian": "sq", "Afrikaans": "af", "Swahili": "sw", "Filipino": "tl", "Esperanto": "eo",
    "Latin": "la", "Maltese": "mt", "IrishGaelic": "ga", "Vietnamese": "vi", "Kazakh": "kk", "Macedonian": "mk",
    "Nepali": "ne", "Marathi": "mr", "Gujarati": "gu", "Kannada": "kn", "Sinhala": "si", "Lao": "lo",
    "Mongolian": "mn", "Uzbek": "uz", "Somali": "so", "Breton": "br", "Corsican": "co", "Frisian": "fy",
    "Luxembourgish": "lb", "Asturian": "ast", "Cebuano": "ceb", "Javanese": "jv", "Sundanese": "su",
    "Malagasy": "mg", "Quechua": "qu", "Faroese": "fo", "Interlingua": "ia", "Ido": "io", "Punjabi": "pa",
    "Sanskrit": "sa", "Uighur": "ug", "Kurdish": "ku", "ScottishGaelic": "gd", "Occitan": "oc",
}
_UDHR_ENCODINGS = {"UTF8": "utf-8", "Latin1": "latin-1", "Latin2": "iso8859-2"}


def udhr_documents(path: Path = UDHR) -> list[tuple[str, str]]:
    """(ISO code, text) of the UDHR translations whose language lid.176 knows and whose encoding is plain."""
    docs = []
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            encoding = _UDHR_ENCODINGS.get(name.rsplit("-", 1)[-1])
            code = UDHR_LANGUAGES.get(re.split(r"[_\-]", name)[0])
            if not (member.isfile() and encoding and code):
                continue
            with contextlib.suppress(UnicodeDecodeError):
                docs.append((code, tar.extractfile(member).read().decode(encoding)))  # type: ignore[union-attr]
    return docs


def reference_documents(records: list, prefix_chars: int = 2000) -> tuple[list[str], list[str | None], list[str]]:
    """The hot path as it was before the speed work (issue 11), for parity: texts, titles and languages."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5
    from resiliparse.parse.html import HTMLTree

    from filters.extract import HTML_TYPES, looks_binary
    from filters.langid import load_model

    texts, titles = [], []
    for r in records:
        if r.error or r.text is not None or not r.payload or (r.http_status and not 200 <= r.http_status < 300):
            continue
        if (r.content_type or "text/html") not in HTML_TYPES or looks_binary(r.payload):
            continue
        encoding = map_encoding_to_html5(r.charset) if r.charset else None
        encoding = encoding or detect_encoding(r.payload, from_html_meta=True) or "utf-8"
        tree = HTMLTree.parse(bytes_to_str(r.payload, encoding, fallback_encodings=("utf-8", "cp1252")))
        text = extract_plain_text(tree, main_content=True, alt_texts=False).strip()
        if text:
            texts.append(text)
            titles.append((tree.title.strip() if tree.title else None) or None)
    labels, _ = load_model().predict([" ".join(t[:prefix_chars].split()) for t in texts], k=1)
    return texts, titles, [lab[0].removeprefix("__label__") for lab in labels]


def _best_cpu(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


def parity_run(warc: Path, repeat: int = 2) -> dict:
    """Current hot path vs the reference (pre-issue-11) one on the real pages: same texts, titles, languages?"""
    import numpy as np

    from filters.documents import AdmissionConfig, Outcome, build_documents
    from filters.langid import PREFIX_CHARS, load_model

    records = _read_file(warc)
    load_model()
    ref_cpu, (ref_texts, ref_titles, ref_langs) = _best_cpu(lambda: reference_documents(records), repeat)
    new_cpu, table = _best_cpu(lambda: build_documents(records, str(warc), None, AdmissionConfig(), Outcome()),
                               repeat)
    new_texts = table.column("text").to_pylist()
    new_titles = table.column("title").to_pylist()
    new_langs = table.column("lang").to_pylist()
    same_docs = len(new_texts) == len(ref_texts)
    model = load_model()
    udhr = udhr_documents()
    accuracy = {}
    for prefix in sorted({2000, PREFIX_CHARS, 0}):
        labels, _ = model.predict([" ".join((t[:prefix] if prefix else t).split()) for _, t in udhr], k=1)
        hits = [lab[0].removeprefix("__label__") == code for lab, (code, _) in zip(labels, udhr)]
        accuracy["full text" if prefix == 0 else str(prefix)] = float(np.mean(hits))
    lid_cpu = {}
    for prefix in (2000, PREFIX_CHARS):
        lid_cpu[str(prefix)], _ = _best_cpu(
            lambda prefix=prefix: model.predict([" ".join(t[:prefix].split()) for t in new_texts], k=1), repeat + 1)
    full_labels, _ = model.predict([" ".join(t.split()) for t in new_texts], k=1)
    full_langs = [lab[0].removeprefix("__label__") for lab in full_labels]
    return {
        "documents": {"reference": len(ref_texts), "current": len(new_texts)},
        "texts_identical": sum(a == b for a, b in zip(ref_texts, new_texts)) if same_docs else None,
        "titles_identical": sum(a == b for a, b in zip(ref_titles, new_titles)) if same_docs else None,
        "lang_agreement": float(np.mean([a == b for a, b in zip(ref_langs, new_langs)])) if same_docs else None,
        "lang_agreement_with_full_text": {
            "reference (2000 chars)": float(np.mean([a == b for a, b in zip(ref_langs, full_langs)])),
            f"current ({PREFIX_CHARS} chars)": float(np.mean([a == b for a, b in zip(new_langs, full_langs)])),
        },
        "udhr_accuracy": {"documents": len(udhr), "languages": len({c for c, _ in udhr}), "by_prefix": accuracy},
        "prefix_chars": {"reference": 2000, "current": PREFIX_CHARS},
        "cpu_s": {"reference": ref_cpu, "current": new_cpu},
        "speed_up": ref_cpu / new_cpu if new_cpu else None,
        "lid_cpu_s": lid_cpu,
        "repeat": repeat,
    }


# --- scaling -------------------------------------------------------------------------------------------------


def _read_shard(job: tuple[str, str]) -> dict:
    """One crawl-sample task without Prefect: read one file into its documents shard."""
    from flows.sources.shards import ReadOptions, read_into_shard

    return read_into_shard(job[0], Path(job[1]), ReadOptions(), "benchmark")


def scaling_run(paths: list[Path], workdir: Path, worker_counts: tuple[int, ...] = (1, 2),
                runners: tuple[str, ...] = ("threads", "processes")) -> dict:
    """crawl-sample's per-shard work on a thread pool and on a process pool (spawned, as Prefect's) of each worker
    count, without Prefect: wall time, CPU time and CPU/wall (how many cores were actually busy). Speed-ups are
    relative to the runner's smallest worker count."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    rows = []
    for runner in runners:
        for workers in worker_counts:
            out = workdir / f"{runner}-{workers}"
            out.mkdir(parents=True, exist_ok=True)
            jobs = [(str(p), str(out / f"part-{i:05d}.parquet")) for i, p in enumerate(paths)]
            pool = (ThreadPoolExecutor(workers) if runner == "threads"
                    else ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")))
            cpu, wall = cpu_seconds(), time.perf_counter()
            with pool:
                results = list(pool.map(_read_shard, jobs))
            cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
            docs = sum(r["documents"] for r in results)
            rows.append({"runner": runner, "workers": workers, "files": len(jobs), "documents": docs,
                         "wall_s": wall, "cpu_s": cpu, "docs_per_wall_s": docs / wall,
                         "docs_per_cpu_s": docs / cpu if cpu else None, "busy_cores": cpu / wall})
    for row in rows:
        base = min((r for r in rows if r["runner"] == row["runner"]), key=lambda r: r["workers"])
        row["speed_up"] = base["wall_s"] / row["wall_s"]
    return {"rows": rows, "loadavg": os.getloadavg()}


def scaling_table(result: dict) -> str:
    lines = ["| pool | workers | docs | wall s | CPU s | busy cores (CPU/wall) | docs/s (wall) | docs/s per core | "
             "speed-up (wall) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['runner']} | {r['workers']} | {r['documents']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                     f"{r['busy_cores']:.2f} | {r['docs_per_wall_s']:,.0f} | {_fmt(r['docs_per_cpu_s'])} | "
                     f"{r['speed_up']:.2f}x |")
    return "\n".join(lines)


# --- output ----------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def stage_table(result: dict) -> str:
    """One side's stages as a Markdown table."""
    lines = ["| stage | docs in | MB (basis) | CPU s | wall s | docs/s per core | MB/s per core | peak RSS MB |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for row in [*result["stages"], result["end_to_end"], *result.get("extras", []), result["load"]]:
        name = f"**{row['name']}**" if row is result["end_to_end"] else row["name"]
        lines.append(f"| {name} | {row['docs']:,} | {row['mb']:.1f} ({row['basis'] or '—'}) | {row['cpu_s']:.2f} | "
                     f"{row['wall_s']:.2f} | {_fmt(row['docs_per_cpu_s'])} | {_fmt(row['mb_per_cpu_s'], 2)} | "
                     f"{_fmt(row['peak_rss_mb'] or None)} |")
    return "\n".join(lines)


# peakdata stage names ↔ datatrove step names doing the same job
COMPARED = (
    ("read", ["read:"], ["read ("]),
    ("extract (peakdata: + LID)", ["extract + LID"], ["extract ("]),
    ("quality signals (peakdata: + score)", ["quality signals", "quality score"],
     ["GopherRepetitionFilter", "GopherQualityFilter", "C4QualityFilter", "FineWebQualityFilter"]),
    ("token counts", ["tokens (count_tokens"], ["tokens (TokensCounter"]),
    ("Parquet writes", ["write documents", "write quality"], ["write (ParquetWriter"]),
)


def _pick(rows: list[dict], prefixes: list[str]) -> tuple[float, int]:
    chosen = [r for r in rows if any(r["name"].startswith(p) for p in prefixes)]
    return sum(r["cpu_s"] for r in chosen), max((r["docs"] for r in chosen), default=0)


def comparison_rows(ours: dict, theirs: dict) -> list[dict]:
    """Per-stage and end-to-end docs/s per core of both sides and their ratio."""
    rows = []
    for label, mine, dt in COMPARED:
        ours_cpu, ours_docs = _pick(ours["stages"], mine)
        dt_cpu, dt_docs = _pick(theirs["stages"], dt)
        ours_rate = ours_docs / ours_cpu if ours_cpu else None
        dt_rate = dt_docs / dt_cpu if dt_cpu else None
        rows.append({"stage": label, "peakdata_docs": ours_docs, "peakdata_cpu_s": ours_cpu,
                     "peakdata_docs_per_cpu_s": ours_rate, "datatrove_docs": dt_docs, "datatrove_cpu_s": dt_cpu,
                     "datatrove_docs_per_cpu_s": dt_rate,
                     "ratio": ours_rate / dt_rate if ours_rate and dt_rate else None})
    a, b = ours["end_to_end"], theirs["end_to_end"]
    rows.append({"stage": "end to end", "peakdata_docs": a["docs"], "peakdata_cpu_s": a["cpu_s"],
                 "peakdata_docs_per_cpu_s": a["docs_per_cpu_s"], "datatrove_docs": b["docs"],
                 "datatrove_cpu_s": b["cpu_s"], "datatrove_docs_per_cpu_s": b["docs_per_cpu_s"],
                 "ratio": a["docs_per_cpu_s"] / b["docs_per_cpu_s"] if b["docs_per_cpu_s"] else None})
    return rows


def comparison_table(rows: list[dict]) -> str:
    lines = ["| stage | peakdata docs in | peakdata CPU s | peakdata docs/s per core | datatrove docs in | "
             "datatrove CPU s | datatrove docs/s per core | ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['stage']} | {r['peakdata_docs']:,} | {r['peakdata_cpu_s']:.2f} | "
                     f"{_fmt(r['peakdata_docs_per_cpu_s'])} | {r['datatrove_docs']:,} | {r['datatrove_cpu_s']:.2f} | "
                     f"{_fmt(r['datatrove_docs_per_cpu_s'], 1)} | {_fmt(r['ratio'], 1)}x |")
    return "\n".join(lines)


def profile_tables(profile: dict) -> str:
    lines = ["| library | own CPU s (profiled) | share |", "|---|---:|---:|"]
    lines += [f"| {r['library']} | {r['own_s']:.2f} | {r['share']:.0%} |" for r in profile["libraries"]]
    lines += ["", "| function (top by own time) | calls | own s | share |", "|---|---:|---:|---:|"]
    lines += [f"| `{r['function']}` | {r['calls']:,} | {r['own_s']:.2f} | {r['share']:.0%} |"
              for r in profile["functions"]]
    return "\n".join(lines)


# --- command line ----------------------------------------------------------------------------------------------


@dataclass
class _Args:
    command: str
    input: list[Path] = field(default_factory=list)
    json: Path | None = None
    workdir: Path | None = None
    limit: int = -1
    tokenizer: str = "cl100k_base"
    repeat: int = 1
    workers: str = "1,2"
    runners: str = "threads,processes"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("peakdata", "datatrove", "profile", "parity", "scaling", "compare"))
    parser.add_argument("--input", type=Path, nargs="+", default=[REAL_WARC])
    parser.add_argument("--json", type=Path, default=None, help="write the result as JSON here")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--limit", type=int, default=-1, help="datatrove: read at most N documents")
    parser.add_argument("--tokenizer", default="cl100k_base", help="peakdata's tokenizer spec")
    parser.add_argument("--repeat", type=int, default=1, help="parity: best of N timings")
    parser.add_argument("--workers", default="1,2", help="scaling: worker counts, comma-separated")
    parser.add_argument("--runners", default="threads,processes", help="scaling: pools, comma-separated")
    args = _Args(**vars(parser.parse_args(argv)))
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        if args.command == "peakdata":
            result: Any = peakdata_run(args.input, work, args.tokenizer)
            text = stage_table(result)
        elif args.command == "datatrove":
            result = datatrove_run(args.input[0], work, limit=args.limit)
            text = stage_table(result)
        elif args.command == "profile":
            result = profile_run(args.input, work)
            text = profile_tables(result)
        elif args.command == "scaling":
            result = scaling_run(args.input, work, tuple(int(n) for n in args.workers.split(",")),
                                 tuple(args.runners.split(",")))
            text = scaling_table(result)
        elif args.command == "parity":
            result = parity_run(args.input[0], args.repeat)
            text = json.dumps(result, indent=1)
        else:
            ours = peakdata_run(args.input[:1], work / "peakdata", args.tokenizer)
            theirs = datatrove_run(args.input[0], work / "datatrove", limit=args.limit)
            result = {"peakdata": ours, "datatrove": theirs, "comparison": comparison_rows(ours, theirs)}
            text = "\n\n".join([stage_table(ours), stage_table(theirs), comparison_table(result["comparison"])])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    print(text)


if __name__ == "__main__":
    main()
