"""Storage of the run directory: a local path or any fsspec URL (s3://, gs://, abfs://, file://), one commit rule.

Every table, marker, manifest, forecast and report is written through `commit_write`: the bytes go to a hidden
temporary name beside the target (`.NAME.HOST.PID.RANDOM.tmp`, never matched by `part-*.parquet`), then appear
under their name whole or not at all. Locally that is `os.replace` (atomic) with the user's usual permissions
(0666 & ~umask, i.e. 0644); object stores have no rename, so the temporary object is copied onto its name
(a PUT/copy is atomic per object) and deleted. `sweep_temporaries` removes what killed writers left behind.

Credentials and endpoints come from the usual places of each fsspec backend (AWS_* environment variables,
~/.aws, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*), from fsspec's own configuration (FSSPEC_S3='{"...": ...}',
~/.config/fsspec/*.json), or from `--storage-options` JSON, which `configure` merges into fsspec's configuration
of this process (and, through the environment, of the worker processes it starts).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
from collections.abc import Iterator
from typing import IO, Any

import fsspec
import fsspec.config
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from flows.processes import process_alive

PARQUET_COMPRESSION = "zstd"
HOST = socket.gethostname().replace(".", "_")[:40] or "host"
TEMP_SUFFIX = ".tmp"
OPTIONS_ENV = "PEAKDATA_STORAGE_OPTIONS"
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


class StorageError(OSError):
    """The run directory's storage refused an operation (permissions, a missing bucket, a full disk)."""


def is_url(location: str) -> bool:
    """True for `scheme://...` other than file:// (a local path in URL form)."""
    return "://" in str(location) and not str(location).startswith("file://")


def absolute(location: str | os.PathLike) -> str:
    """A URL unchanged; a local path (or file:// URL) made absolute, so other processes and machines agree on it."""
    text = os.fspath(location)
    if is_url(text):
        return text.rstrip("/") if text.count("/") > 3 else text
    return os.path.abspath(os.path.expanduser(text.removeprefix("file://")))


def join(base: str | os.PathLike, *parts: str) -> str:
    """`base/part/...` for paths and URLs alike (no pathlib: it would turn s3://b into s3:/b)."""
    out = os.fspath(base).rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


def name(location: str | os.PathLike) -> str:
    return os.fspath(location).rstrip("/").rsplit("/", 1)[-1]


def parent(location: str | os.PathLike) -> str:
    return os.fspath(location).rstrip("/").rsplit("/", 1)[0]


def parse_options(options: str | dict | None) -> dict[str, Any]:
    """`--storage-options` as a dict: JSON text, a dict, or nothing. A non-object is a plain-words error."""
    if options in (None, "", {}):
        return {}
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except ValueError as exc:
            raise ValueError(f"--storage-options is not JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise ValueError("--storage-options must be a JSON object, e.g. '{\"endpoint_url\": \"http://host:9000\"}'")
    return options


def _protocol(location: str) -> str:
    return location.split("://", 1)[0] if is_url(location) else "file"


def configure(options: str | dict | None, location: str | None = None) -> dict[str, dict]:
    """Merge storage options into fsspec's configuration of this process (and of its future child processes).

    `options` is either keyed by protocol (`{"s3": {...}, "gcs": {...}}`) or flat, for `location`'s protocol.
    Returns what was applied, by protocol. Child processes (worker pools, a local Dask cluster) inherit it through
    the environment variable PEAKDATA_STORAGE_OPTIONS; remote Dask workers get it through flows.dask_plugin.
    """
    parsed = parse_options(options)
    if not parsed:
        return {}
    known = set(fsspec.available_protocols()) | set(fsspec.registry)
    if all(isinstance(v, dict) for v in parsed.values()) and set(parsed) <= known:
        by_protocol = parsed
    else:
        if location is None or not is_url(location):
            raise ValueError("--storage-options without a protocol key applies to the URL of --out; give it as "
                             "{\"s3\": {...}} or use an s3://, gs://, abfs:// ... --out")
        by_protocol = {_protocol(location): parsed}
    return apply_by_protocol(by_protocol)


def apply_by_protocol(by_protocol: dict[str, dict]) -> dict[str, dict]:
    """Merge options already keyed by protocol into fsspec's configuration and the environment of child processes
    (the form Dask workers receive: a protocol registered only in the flow's process is taken as given)."""
    for protocol, values in by_protocol.items():
        fsspec.config.conf.setdefault(protocol, {}).update(values)
    os.environ[OPTIONS_ENV] = json.dumps(_env_options() | {p: fsspec.config.conf[p] for p in by_protocol},
                                         sort_keys=True)
    return by_protocol


def _env_options() -> dict:
    with contextlib.suppress(ValueError):
        value = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
        return value if isinstance(value, dict) else {}
    return {}


def _apply_env_options() -> None:
    """A worker process started by this one picks up the options through the environment."""
    for protocol, values in _env_options().items():
        if isinstance(values, dict):
            fsspec.config.conf.setdefault(protocol, {}).update(values)


_apply_env_options()


def configured() -> dict[str, dict]:
    """The storage options `configure` applied in this process (or inherited), by protocol."""
    return _env_options()


def filesystem(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system of a path or URL and the path within it."""
    fs, path = fsspec.core.url_to_fs(location if is_url(location) else absolute(location))
    return fs, path


def is_local(location: str) -> bool:
    return isinstance(filesystem(location)[0], LocalFileSystem)


def _url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    return path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)


def exists(location: str) -> bool:
    fs, path = filesystem(location)
    return fs.exists(path)


def glob(folder: str, pattern: str) -> list[str]:
    """Files in `folder` matching `pattern` (no recursion), sorted by name, as paths or URLs like `folder`."""
    fs, path = filesystem(folder)
    if isinstance(fs, LocalFileSystem) and not os.path.isdir(path):
        return []
    with contextlib.suppress(FileNotFoundError):
        fs.invalidate_cache(path)
        return sorted((_url(fs, p) for p in fs.glob(f"{path.rstrip('/')}/{pattern}")), key=name)
    return []


def makedirs(location: str) -> None:
    """Create a local folder; object stores have no folders (keys appear with their first object)."""
    fs, path = filesystem(location)
    if isinstance(fs, LocalFileSystem):
        os.makedirs(path, exist_ok=True)


def open_read(location: str) -> IO[bytes]:
    fs, path = filesystem(location)
    return fs.open(path, "rb")


def read_bytes(location: str) -> bytes:
    fs, path = filesystem(location)
    return fs.cat_file(path)


def read_json(location: str) -> Any:
    return json.loads(read_bytes(location).decode("utf-8"))


def remove(location: str) -> bool:
    """Delete one file or object; False when it was not there."""
    fs, path = filesystem(location)
    try:
        fs.rm_file(path)
    except FileNotFoundError:
        return False
    return True


def temp_name(target: str) -> str:
    """`.NAME.HOST.PID.RANDOM.tmp` beside `target`: hidden, and tells `sweep_temporaries` who wrote it."""
    return join(parent(target), f".{name(target)}.{HOST}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


class PendingWrite:
    """A write in progress to a temporary name; `publish()` makes it appear under its name, `discard()` drops it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.fs, self.path = filesystem(target)
        self.local = isinstance(self.fs, LocalFileSystem)
        if self.local:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.tmp = filesystem(temp_name(target))[1]
        try:
            self.file: IO[bytes] = self.fs.open(self.tmp, "wb")
        except OSError as exc:
            raise StorageError(f"cannot write {target}: {exc}") from exc
        self._done = False

    def publish(self) -> None:
        """Close the temporary and put it in place: os.replace locally, copy + delete on an object store."""
        try:
            self.file.close()
            if self.local:
                os.chmod(self.tmp, FILE_MODE)  # the same permissions for every output, forecast.json included
                os.replace(self.tmp, self.path)
            else:
                self.fs.copy(self.tmp, self.path)
                self.fs.rm_file(self.tmp)
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError) and not isinstance(exc, StorageError):
                raise StorageError(f"cannot write {self.target}: {exc}") from exc
            raise
        self._done = True

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            self.fs.rm_file(self.tmp)


@contextlib.contextmanager
def commit_write(target: str) -> Iterator[IO[bytes]]:
    """Yield a binary file; its bytes appear under `target` only if the block succeeds."""
    pending = PendingWrite(target)
    try:
        yield pending.file
    except BaseException:
        pending.discard()
        raise
    pending.publish()


def write_bytes(target: str, data: bytes) -> None:
    with commit_write(target) as f:
        f.write(data)


def write_text(target: str, text: str) -> None:
    write_bytes(target, text.encode("utf-8", errors="replace"))


def write_json(target: str, obj: Any, indent: int | None = 2) -> None:
    write_text(target, json.dumps(obj, indent=indent, default=str, allow_nan=False) + "\n")


def write_parquet(target: str, table: pa.Table | Any) -> None:
    """An Arrow table (or a polars DataFrame) as one zstd Parquet file."""
    if not isinstance(table, pa.Table):
        table = table.to_arrow()
    with commit_write(target) as f:
        pq.write_table(table, f, compression=PARQUET_COMPRESSION)


def _temp_owner(file_name: str) -> tuple[str, int] | None:
    parts = file_name.rsplit(".", 4)  # .NAME.HOST.PID.RANDOM.tmp
    if len(parts) != 5 or not parts[0].startswith(".") or parts[4] != TEMP_SUFFIX[1:] or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def sweep_temporaries(folder: str, any_host: bool = True) -> list[str]:
    """Remove temporaries left in `folder` by writers that are gone; returns what was removed.

    A temporary of a live process of this host is kept. With `any_host` (the caller holds the run directory's
    lock, so no other run writes there) temporaries of other hosts and of object stores go too; without it
    they are left alone, as another machine may still be writing them.
    """
    removed = []
    for tmp in glob(folder, f".*{TEMP_SUFFIX}"):
        owner = _temp_owner(name(tmp))
        if owner is None:
            continue
        host, pid = owner
        if host == HOST and process_alive(pid):
            continue
        if host != HOST and not any_host:
            continue
        if remove(tmp):
            removed.append(tmp)
    return removed

