"""Common Crawl listings and the sampling design: which files of a crawl to read, and with what weight.

Estimates of the web's token stock are only as good as the sample behind them, so the draw is a simple random
sample of files without replacement (inclusion probability n/N per file) and, within a file, a simple random
sample of M records (rate M/R); both are reproducible from the seed and recorded in the manifest, so the tally
can weight each document by 1 / (n/N × M/R) and bootstrap over files.

Listings come from mirrors we do not control. An entry is only ever a path under ``crawl-data/<crawl>/``,
resolved by appending it to the base URL; anything else (absolute URLs, ``..``, backslashes, control
characters, another crawl) is refused and counted, so a hostile listing cannot point peakdata at local files or
other hosts.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, Literal, TypeVar

from flows.sources.remote import RemoteReadError, SizeMismatch, open_resumable

__all__ = [
    "DEFAULT_BASE_URL",
    "FileRead",
    "Listing",
    "ListingError",
    "RecordSampler",
    "RemoteReadError",
    "SampleDesign",
    "SampledFile",
    "SizeMismatch",
    "draw_files",
    "open_resumable",
    "read_listing",
    "sampling_manifest",
]

DEFAULT_BASE_URL = "https://data.commoncrawl.org/"
FORMAT_SUFFIX = {"warc": ".warc.gz", "wet": ".warc.wet.gz", "wat": ".warc.wat.gz"}
MAX_LISTING_BYTES = 256 << 20  # decompressed; real listings are ~10 MB (100,000 paths)
MAX_ENTRY_CHARS = 1024

_CRAWL = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SAFE = re.compile(r"[A-Za-z0-9._/-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

T = TypeVar("T")


class ListingError(ValueError):
    """The listing itself is unusable (not gzip/text, too large, or no valid entry)."""


@dataclass(frozen=True)
class Listing:
    """The valid entries of one crawl's ``<fmt>.paths.gz`` (the sampling frame) and what was refused."""

    crawl: str
    fmt: str
    base_url: str  # ends with "/"; every file URL is base_url + entry
    source: str  # where the listing was read from (URL or local path)
    entries: tuple[str, ...]  # relative paths under crawl-data/<crawl>/, in listing order, distinct
    rejected: dict[str, int]  # reason → count

    def url(self, entry: str) -> str:
        return self.base_url + entry


def _reject_reason(entry: str, crawl: str, fmt: str) -> str | None:
    """Why a listing entry is refused, or None when it is a plain path to a file of this crawl and format."""
    if _CONTROL.search(entry):
        return "control_char"
    if len(entry) > MAX_ENTRY_CHARS:
        return "too_long"
    if "://" in entry or _SCHEME.match(entry):
        return "absolute_url"
    if entry.startswith(("/", "~")):
        return "absolute_path"
    if "\\" in entry:
        return "backslash"
    if ".." in entry or "." in entry.split("/"):
        return "dot_segment"
    if not _SAFE.fullmatch(entry):  # also %-escapes, ?query, #fragment, spaces, non-ASCII
        return "bad_char"
    if "" in entry.split("/"):
        return "empty_segment"
    if not entry.startswith(f"crawl-data/{crawl}/"):
        return "outside_crawl"
    if not entry.endswith(FORMAT_SUFFIX[fmt]):
        return "wrong_format"
    return None


def _normalise_base(base_url: str) -> str:
    if "?" in base_url or "#" in base_url:
        raise ValueError(f"base URL {base_url!r} must not have a query or fragment")
    if "://" not in base_url:  # a local mirror directory
        base_url = Path(base_url).expanduser().resolve().as_uri()
    return base_url if base_url.endswith("/") else base_url + "/"


def _decompress(data: bytes, source: str) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            return f.read(MAX_LISTING_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ListingError(f"listing {source} is not a valid gzip file: {exc}") from exc


def _read_capped(f: BinaryIO, limit: int, source: str) -> bytes:
    parts, size = [], 0
    while chunk := f.read(1 << 20):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ListingError(f"listing {source} is larger than {limit} bytes")
    return b"".join(parts)


def read_listing(
    crawl: str,
    fmt: Literal["warc", "wet", "wat"],
    base_url: str = DEFAULT_BASE_URL,
    listing_path: Path | None = None,
) -> Listing:
    """Read ``crawl-data/<crawl>/<fmt>.paths.gz`` from `base_url` (or `listing_path`, gzip or plain text).

    Entries are validated (see `Listing.rejected` for what was refused, by reason) and resolved against
    `base_url` only. Network failures raise `RemoteReadError` after open_resumable's retries.
    """
    if not _CRAWL.fullmatch(crawl):
        raise ValueError(f"crawl {crawl!r} is not a Common Crawl name like CC-MAIN-2025-33")
    if fmt not in FORMAT_SUFFIX:
        raise ValueError(f"format {fmt!r} is not one of {sorted(FORMAT_SUFFIX)}")
    base = _normalise_base(base_url)
    if listing_path is not None:
        source = str(listing_path)
        with open(listing_path, "rb") as f:
            data = _read_capped(f, MAX_LISTING_BYTES, source)
    else:
        source = f"{base}crawl-data/{crawl}/{fmt}.paths.gz"
        with open_resumable(source) as f:
            data = _read_capped(f, MAX_LISTING_BYTES, source)
    text = _decompress(data, source)
    if len(text) > MAX_LISTING_BYTES:
        raise ListingError(f"listing {source} is larger than {MAX_LISTING_BYTES} bytes decompressed")
    entries: dict[str, None] = {}
    rejected: Counter[str] = Counter()
    for raw in text.split(b"\n"):
        line = raw.strip(b" \t\r")
        if not line:
            continue
        entry = line.decode("latin-1")  # any byte decodes; non-ASCII is then refused as bad_char
        reason = _reject_reason(entry, crawl, fmt) or ("duplicate" if entry in entries else None)
        if reason:
            rejected[reason] += 1
        else:
            entries[entry] = None
    return Listing(crawl, fmt, base, source, tuple(entries), dict(sorted(rejected.items())))


def _key(text: str) -> bytes:
    """A pseudo-random key of a seeded text: the same on every machine and Python version (unlike `random`)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


@dataclass(frozen=True)
class SampledFile:
    """One drawn file; `url` is what the reader opens and what documents.source_file must hold."""

    name: str  # the listing entry
    url: str


@dataclass(frozen=True)
class SampleDesign:
    """A simple random sample without replacement of n of the N files of one crawl's listing."""

    crawl: str
    fmt: str
    listing: str
    seed: int
    population_files: int  # N: valid entries of the listing
    files: tuple[SampledFile, ...]  # the n drawn files, in draw order

    @property
    def sampled_files(self) -> int:
        return len(self.files)


def draw_files(listing: Listing, n_files: int | None, file_fraction: float | None, seed: int) -> SampleDesign:
    """Draw n files uniformly without replacement: n = min(N, n_files, ceil(file_fraction × N)).

    Neither given: every file (a census). The files with the n smallest keys blake2b(seed, entry) are drawn,
    so the sample does not depend on the listing's order, is identical on every machine, and a larger n with
    the same seed extends the smaller sample.
    """
    population = len(listing.entries)
    if population == 0:
        raise ListingError(f"listing {listing.source} has no valid entries (refused: {listing.rejected})")
    n = population
    if n_files is not None:
        if n_files < 1:
            raise ValueError(f"n_files must be >= 1, got {n_files}")
        n = min(n, n_files)
    if file_fraction is not None:
        if not 0 < file_fraction <= 1:
            raise ValueError(f"file_fraction must be in (0, 1], got {file_fraction}")
        n = min(n, math.ceil(round(file_fraction * population, 9)))  # round: 0.07 × 100 is 7.000000000000001
    prefix = f"file\x00{seed}\x00"
    drawn = heapq.nsmallest(n, listing.entries, key=lambda entry: _key(prefix + entry))
    files = tuple(SampledFile(entry, listing.url(entry)) for entry in drawn)
    return SampleDesign(listing.crawl, listing.fmt, listing.source, seed, population, files)


@dataclass(frozen=True)
class FileRead:
    """What the reader saw of one file read to its end: records kept vs records the file holds."""

    records_read: int
    records_available: int

    @property
    def record_rate(self) -> float:
        return self.records_read / self.records_available if self.records_available else 1.0


class RecordSampler(Generic[T]):
    """A simple random sample of at most M records of one file whose record count is unknown until its end.

    Reading only the first M records would be cheaper but biased (a file's head is not a random part of
    it) and would leave the file's record count unknown, so the stream is read to the end and the M records
    with the smallest keys blake2b(seed, file, index) are kept (memory: M records). The rate M/R is then exact
    and reproducible. ``records_per_file=None`` keeps every record and streams them through unbuffered.
    """

    def __init__(self, records_per_file: int | None, seed: int, source_file: str) -> None:
        if records_per_file is not None and records_per_file < 1:
            raise ValueError(f"records_per_file must be >= 1, got {records_per_file}")
        self.records_per_file = records_per_file
        self.seed = seed
        self.source_file = source_file
        self.records_available = 0
        self.records_read = 0

    def filter(self, records: Iterable[T]) -> Iterator[T]:
        """Consume `records` entirely; yield the kept ones in file order (at the end when M is set)."""
        m = self.records_per_file
        if m is None:
            for record in records:
                self.records_available += 1
                self.records_read += 1
                yield record
            return
        heap: list[tuple[int, int, T]] = []  # (-key, index, record): the largest kept key on top
        prefix = f"record\x00{self.seed}\x00{self.source_file}\x00"
        for index, record in enumerate(records):
            self.records_available += 1
            neg_key = -int.from_bytes(_key(f"{prefix}{index}"), "big")
            if len(heap) < m:
                heapq.heappush(heap, (neg_key, index, record))
            elif neg_key > heap[0][0]:
                heapq.heapreplace(heap, (neg_key, index, record))
        self.records_read = len(heap)
        for _, _, record in sorted(heap, key=lambda item: item[1]):
            yield record

    def file_read(self) -> FileRead:
        return FileRead(self.records_read, self.records_available)


def sampling_manifest(designs: Sequence[SampleDesign], reads: Mapping[str, FileRead]) -> dict:
    """The manifest's ``sampling`` section (strata + files, as in docs/contracts.md) for these crawls.

    `reads` maps a drawn file's URL to its `FileRead`; a drawn file absent from it could not be read and is
    treated as non-response: the stratum's sampled_files and every inclusion_prob use the n' files read,
    not the n drawn (reweighting the files that were read, which assumes failures are unrelated to content).
    """
    strata: dict[str, dict] = {}
    files: list[dict] = []
    for design in designs:
        if design.crawl in strata:
            raise ValueError(f"crawl {design.crawl} appears twice")
        done = [f for f in design.files if f.url in reads]
        strata[design.crawl] = {
            "format": design.fmt,
            "population_files": design.population_files,
            "sampled_files": len(done),
            "listing": design.listing,
            "seed": design.seed,
        }
        prob = len(done) / design.population_files
        for f in done:
            read = reads[f.url]
            files.append({
                "source_file": f.url,
                "stratum": design.crawl,
                "inclusion_prob": prob,
                "record_rate": read.record_rate,
                "records_read": read.records_read,
                "records_available": read.records_available,
            })
    return {"strata": strata, "files": files}
