"""Expand `--input` arguments (files, directories, globs) into the list of files a run reads."""

from __future__ import annotations

import glob
import os
from pathlib import Path

INPUT_SUFFIXES = (".warc", ".wet", ".wat", ".arc", ".jsonl", ".json", ".ndjson", ".parquet", ".html", ".htm")


class InputError(ValueError):
    """An --input argument that names nothing: a usage error, reported before any work starts."""


def is_remote(source: str) -> bool:
    """URLs (http, https, s3, ...) are read through fsspec; everything else is a local path."""
    return "://" in source and not source.startswith("file://")


def is_input_file(path: Path) -> bool:
    """A file a folder or glob contributes: a name with one of INPUT_SUFFIXES (optionally gzipped)."""
    name = path.name.lower().removesuffix(".gz").removesuffix(".gzip")
    return name.endswith(INPUT_SUFFIXES)


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files named directly are kept whatever their name; directories and globs yield known input types.

    Entries that are not directories are kept even when they cannot be read (a dangling symlink, a FIFO):
    the read counts them as file errors instead of leaving them out unseen. Returns sorted, de-duplicated
    paths, so a run's shard order does not depend on argument order.
    """
    found: set[str] = set()
    for item in inputs:
        if is_remote(item):
            found.update(_expand_url(item))
            continue
        path = Path(item.removeprefix("file://")).expanduser()
        if path.is_dir():
            found.update(str(p) for p in path.rglob("*") if is_input_file(p) and not p.is_dir())
        elif path.exists() or os.path.lexists(path):
            found.add(str(path))
        else:
            matches = [Path(m) for m in glob.glob(str(path), recursive=True)]
            files = [str(m) for m in matches if not m.is_dir()]
            if not files:
                raise InputError(f"--input {item!r} matches no file")
            found.update(files)
    return sorted(found)


def _expand_url(item: str) -> list[str]:
    """An object-store folder (ending in `/`) or glob (`s3://b/in/*.warc.gz`) as its files; other URLs as given."""
    if item.startswith(("http://", "https://")) or not (item.endswith("/") or any(c in item for c in "*?[")):
        return [item]
    import fsspec

    fs, path = fsspec.core.url_to_fs(item)
    names = [p for p in fs.find(path) if is_input_file(Path(p))] if item.endswith("/") else fs.glob(path)
    if not names:
        raise InputError(f"--input {item!r} matches no file")
    return [fs.unstrip_protocol(p) for p in names]
