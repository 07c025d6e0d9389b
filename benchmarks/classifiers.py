"""Quality-classifier throughput (docs/s, MB/s) per backend and device on real documents; prints a markdown table.

    .venv/bin/python -m benchmarks.classifiers [--shared-data ../shared/data] [--fasttext MODEL.bin] [--docs 1032]
                                     [--embedding-docs 256] [--devices cpu,cuda]

Documents: the main content (resiliparse) of the 1,033 real multilingual pages of trafilatura's evaluation set.
Backends: the default feature scorer, fastText (native C++ and the PyTorch port), and the MiniLM embedding
classifier. Without `--fasttext`, a fastText model with typical shape (dim 64, 200k buckets, word bigrams) is
trained first on WikiText-2 vs SMS text (not timed). Each backend scores a 32-document warm-up batch before the
timed pass; the cold load time is reported separately. cuda rows appear when torch sees a GPU; the last column is
each row's largest score difference from the same scorer on the CPU (native fastText for the PyTorch port).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from filters.classifiers import default_scorer, load_scorer, torch_available
from filters.classifiers.base import cuda_available
from filters.classifiers.fasttext_native import load_fasttext
from tools.shared_data import shared_data_dir

HTML_PAGES = Path("html") / "trafilatura-eval-990pages.tar.gz"


def device_name(device: str) -> str:
    """Human-readable name of the device (GPU model, or the CPU brand), for benchmark tables and manifests."""
    if device == "cuda":
        import torch

        return str(torch.cuda.get_device_name(0))
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


def real_documents(shared: Path, limit: int) -> list[str]:
    """Main-content text of the real pages (non-empty), in archive order, repeated in turn up to `limit`
    documents: a GPU run measures throughput on >= 20,000 documents, more than the 1,017 pages there are."""
    from resiliparse.extract.html2text import extract_plain_text

    from filters.extract import decode_html

    docs = []
    with tarfile.open(shared / HTML_PAGES) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.endswith(".html"):
                text = extract_plain_text(decode_html(tar.extractfile(member).read(), None), main_content=True)
                if text.strip():
                    docs.append(text.strip())
            if len(docs) >= limit:
                break
    return [docs[i % len(docs)] for i in range(limit)] if docs else docs


def benchmark_model(shared: Path, out: Path) -> Path:
    """A fastText model of typical shape trained on WikiText-2 paragraphs vs SMS messages."""
    from filters.classifiers.training import train_classifier

    sms = out.parent / "sms.jsonl.gz"
    with gzip.open(sms, "wt", encoding="utf-8") as fh:
        for line in (shared / "low_quality" / "SMSSpamCollection.tsv").read_text(errors="replace").splitlines():
            fh.write(json.dumps({"text": line.split("\t", 1)[-1]}) + "\n")
    train_classifier([shared / "reference_text" / "wikitext-2-raw-test.raw"], [sms], out, dim=64, bucket=200_000)
    return out


def clear_caches() -> None:
    """Forget loaded models so each row's load time is a cold load."""
    load_scorer.cache_clear()
    load_fasttext.cache_clear()
    default_scorer.cache_clear()
    if torch_available():
        from filters.classifiers.embedding import load_sentence_model

        load_sentence_model.cache_clear()


def measure(spec: str, backend: str, device: str, docs: list[str], **kwargs) -> dict:
    clear_caches()
    start = time.perf_counter()
    scorer = load_scorer(spec, device=device, backend=backend, **kwargs)
    loaded = time.perf_counter() - start
    scorer.score(docs[:32])
    start = time.perf_counter()
    scores = np.concatenate(list(scorer.score_batches(docs)))
    seconds = time.perf_counter() - start
    megabytes = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    return {"scorer": scorer.name.split(":")[0], "device": scorer.device,
            "device_name": device_name(scorer.device), "docs": len(docs), "MB": megabytes, "load_s": loaded,
            "seconds": seconds, "docs_per_s": len(docs) / seconds, "MB_per_s": megabytes / seconds,
            "scores": scores}


PARITY_REFERENCE = {"fasttext-torch": "fasttext"}  # the PyTorch port is checked against native fastText


def with_cpu_parity(rows: list[dict]) -> list[dict]:
    """Each row's largest score difference from its CPU reference: the same scorer, or native fastText for the port."""
    cpu = {r["scorer"]: r["scores"] for r in rows if r["device"] == "cpu"}
    out = []
    for r in rows:
        reference = cpu[PARITY_REFERENCE.get(r["scorer"], r["scorer"])][:len(r["scores"])]
        out.append({**r, "max_diff": float(np.abs(r["scores"] - reference).max()) if len(reference) else 0.0})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=shared_data_dir())
    parser.add_argument("--fasttext", type=Path, default=None, help="fastText model (default: train one)")
    parser.add_argument("--positive-label", default=None)
    parser.add_argument("--docs", type=int, default=1032, help="documents per row (pages repeat past 1,017)")
    parser.add_argument("--embedding-docs", type=int, default=256, help="documents for the MiniLM rows")
    parser.add_argument("--devices", default="cpu,cuda" if cuda_available() else "cpu")
    args = parser.parse_args(argv)
    devices = [d for d in args.devices.split(",") if d]
    docs = real_documents(args.shared_data, args.docs)
    rows = [measure("default", "auto", "cpu", docs)]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.fasttext or benchmark_model(args.shared_data, Path(tmp) / "bench.bin")
        rows.append(measure(str(model), "fasttext", "cpu", docs, positive_label=args.positive_label))
        if torch_available():
            for device in devices:
                rows.append(measure(str(model), "torch", device, docs, positive_label=args.positive_label))
    if torch_available():
        for device in devices:
            rows.append(measure("embedding", "auto", device, docs[:args.embedding_docs]))
    print(f"Classifier throughput, {date.today().isoformat()}, {len(docs)} real documents "
          f"({sum(len(d.encode()) for d in docs) / 1e6:.1f} MB)\n")
    print("| scorer | device | device name | docs | MB | load s | seconds | docs/s | MB/s | max abs diff vs CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in with_cpu_parity(rows):
        print(f"| {r['scorer']} | {r['device']} | {r['device_name']} | {r['docs']} | {r['MB']:.2f} | "
              f"{r['load_s']:.1f} | {r['seconds']:.2f} | {r['docs_per_s']:,.0f} | {r['MB_per_s']:.2f} | "
              f"{r['max_diff']:.1e} |")


if __name__ == "__main__":
    main()
