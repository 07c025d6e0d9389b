"""Token-counting speed per core and tokenizer on real pages.

    .venv/bin/python -m benchmarks.tokens [--pages 1033] [--threads 1] [--repeat 3] [--spec SPEC ...]

Extracts the main-content text of the real pages in warc_derived/trafilatura-eval-1033pages.warc.gz (as
crawl-sample does), then times `stats.tokens.count_tokens` per tokenizer (best of --repeat) and prints a
Markdown table: tokens/s, docs/s and MB/s of text, per thread.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PEAKDATA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def extract_pages(warc: Path) -> list[str]:
    """Main-content text of every HTML response record, as crawl-sample extracts it."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    texts = []
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            body = record.reader.read()
            texts.append(extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True))
    return texts


def default_specs(tok_dir: Path) -> list[str]:
    return [
        "cl100k_base",
        f"o200k_base={tok_dir / 'o200k_base.tiktoken'}",
        f"llama3={tok_dir / 'meta-llama-3-8B.tiktoken'}",
        f"qwen2={tok_dir / 'qwen3-151k.tiktoken'}",
        f"gpt2={tok_dir / 'gpt-neox-20b.tiktoken'}",
        str(tok_dir / "gpt-neo-tokenizer.json"),
        str(tok_dir / "llama-tokenizer.json"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1033)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spec", action="append", help="tokenizer spec (repeatable); default: all shared ones")
    args = parser.parse_args()
    # Hugging Face tokenizers size their Rust thread pool once, from this variable, at first use.
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(ROOT))
    from stats.tokens import count_tokens, tokenizer_name

    texts = extract_pages(SHARED / "warc_derived" / "trafilatura-eval-1033pages.warc.gz")[: args.pages]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{date.today()} · {platform.node()} · {os.cpu_count()} cores · {platform.processor() or platform.machine()}"
          f" · {len(texts)} pages, {megabytes:.1f} MB of text · threads={args.threads}\n")
    print("| tokenizer | load s | tokens | tokens/s per thread | docs/s per thread | MB/s per thread |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec in args.spec or default_specs(SHARED / "tokenizers"):
        start = time.perf_counter()
        count_tokens(["warm-up"], spec, threads=args.threads)
        load = time.perf_counter() - start
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            total = int(count_tokens(texts, spec, threads=args.threads).sum())
            best = min(best, time.perf_counter() - start)
        per = best * args.threads
        print(f"| {tokenizer_name(spec)} | {load:.2f} | {total:,} | {total / per:,.0f} | {len(texts) / per:,.0f} "
              f"| {megabytes / per:.2f} |")


if __name__ == "__main__":
    main()
