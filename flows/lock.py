"""One writer per run directory: a lock that names its holder, refuses or waits, and survives dead holders.

Locally the lock is `flock` on RUN/.peakdata.lock (the kernel releases it when the holder dies, so a dead holder's
lock is taken over at once; the file names the holder for the message). On an object store it is the object
RUN/.peakdata.lock created only if absent (S3: a conditional PUT, If-None-Match) and refreshed by the holder every
HEARTBEAT_S seconds; a lock whose heartbeat is older than STALE_AFTER_S, or whose holder is a dead process of this
host, is taken over with a conditional replace (S3: If-Match on the stale lock's ETag), so of two takers one wins.
fsspec back-ends without conditional writes (gcs, abfs, ...) check then write: two writers starting within the
same ~100 ms could both believe they hold it (documented in docs/robustness.md).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import secrets
import sys
import threading
import time
import typing
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from flows import storage
from flows.processes import process_alive

LOCK_NAME = ".peakdata.lock"
HEARTBEAT_S = 20.0
STALE_AFTER_S = 120.0
WAIT_POLL_S = 2.0

_held: dict[str, _Lock] = {}  # root -> lock held by this process (re-entered by the stages of quality-audit)
_held_guard = threading.Lock()
log = logging.getLogger(__name__)


class RunDirLocked(RuntimeError):
    """Another writer holds the run directory."""


def _flow_run_id() -> str | None:
    with contextlib.suppress(Exception):
        from prefect.runtime import flow_run

        return flow_run.id
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _age_s(stamp: str | None) -> float:
    try:
        return time.time() - datetime.fromisoformat(str(stamp)).timestamp()
    except ValueError:
        return float("inf")


def describe(holder: dict) -> str:
    """`host H, pid P, flow run R, since T` of a lock's content."""
    parts = [f"host {holder.get('host', '?')}", f"pid {holder.get('pid', '?')}",
             f"flow run {holder.get('flow_run_id') or 'none (not under Prefect)'}",
             f"since {holder.get('started_at', '?')}"]
    if holder.get("heartbeat_at"):
        parts.append(f"last heartbeat {holder['heartbeat_at']}")
    return ", ".join(parts)


def _refusal(root: str, holder: dict) -> str:
    return (f"run directory {root} is in use by another writer ({describe(holder)}). Wait for it to finish "
            "(re-run with --wait to queue behind it), write to another --out, or, if that run is gone, delete "
            f"{storage.join(root, LOCK_NAME)} (a dead local process's lock is taken over automatically; on object "
            f"storage after {STALE_AFTER_S:.0f} s without a heartbeat)")


class _Lock:
    """The lock of one run directory held by this process."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.location = storage.join(root, LOCK_NAME)
        self.depth = 0
        self.holder = {"host": storage.HOST, "pid": os.getpid(), "flow_run_id": _flow_run_id(),
                       "started_at": _now(), "heartbeat_at": _now(), "token": secrets.token_hex(8),
                       "command": " ".join(sys.argv[:3])[:200]}

    # ------------------------------------------------------------------ local: flock on a file in the folder
    def _acquire_local(self, wait: bool) -> None:
        import fcntl

        storage.makedirs(self.root)
        path = storage.filesystem(self.location)[1]
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), storage.FILE_MODE)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_local(path)
                if not wait:
                    os.close(fd)
                    raise RunDirLocked(_refusal(self.root, holder)) from None
                if not announced:
                    log.warning("waiting for run directory %s, held by %s", self.root, describe(holder))
                    announced = True
                time.sleep(WAIT_POLL_S / 4)
        previous = _read_local(path)
        if previous.get("host") == storage.HOST and previous.get("pid") and not process_alive(int(previous["pid"])):
            log.warning("took over the lock of %s: %s (that process no longer runs)", self.root, describe(previous))
        os.ftruncate(fd, 0)
        self.holder.pop("heartbeat_at", None)  # the kernel's flock needs no heartbeat
        os.pwrite(fd, json.dumps(self.holder, indent=1).encode() + b"\n", 0)
        self._fd = fd

    def _release_local(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # the file stays (removing it would race a waiter's open); empty = free
        os.close(self._fd)

    # ------------------------------------------------------------- object stores: a heartbeated lock object
    def _acquire_remote(self, wait: bool) -> None:
        fs, path = storage.filesystem(self.location)
        announced = False
        while True:
            if self._create(fs, path):
                break
            holder, etag = _read_remote(fs, path)
            if holder is None:
                continue  # released between our create and our read: try again
            stale = (_age_s(holder.get("heartbeat_at")) > STALE_AFTER_S
                     or (holder.get("host") == storage.HOST and not process_alive(int(holder.get("pid") or 0))))
            if stale and self._replace(fs, path, etag):
                log.warning("took over the stale lock of %s: %s", self.root, describe(holder))
                break
            if not stale and not wait:
                raise RunDirLocked(_refusal(self.root, holder))
            if not announced and not stale:
                log.warning("waiting for run directory %s, held by %s", self.root, describe(holder))
                announced = True
            time.sleep(WAIT_POLL_S)
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, args=(fs, path), daemon=True,
                                      name=f"peakdata-lock-heartbeat {self.root}")
        self._beat.start()

    def _payload(self) -> bytes:
        return json.dumps(self.holder | {"heartbeat_at": _now()}, indent=1).encode() + b"\n"

    def _create(self, fs: Any, path: str) -> bool:
        try:
            fs.pipe_file(path, self._payload(), mode="create")
        except FileExistsError:
            return False
        except FileNotFoundError as exc:  # S3: NoSuchBucket
            raise storage.StorageError(f"cannot write to {self.root}: {exc} (create the bucket first, or check "
                                       "--out and the endpoint in --storage-options / AWS_ENDPOINT_URL)") from exc
        except PermissionError as exc:
            raise storage.StorageError(f"cannot write to {self.root}: access denied ({exc}); check the "
                                       "credentials (AWS_ACCESS_KEY_ID..., fsspec config, --storage-options)") from exc
        except TypeError as exc:  # a back-end without create mode: check, then write (a short race window)
            if "mode" not in str(exc):
                raise
            if fs.exists(path):
                return False
            fs.pipe_file(path, self._payload())
        return True

    def _replace(self, fs: Any, path: str, etag: str | None) -> bool:
        """Replace the lock object only if it is still the one read (S3: If-Match)."""
        try:
            if etag and _is_s3(fs):
                fs.pipe_file(path, self._payload(), IfMatch=etag)
            else:
                fs.rm_file(path)
                return self._create(fs, path)
        except (FileExistsError, FileNotFoundError):
            return False
        except OSError as exc:
            text = str(exc).lower().replace("-", "")
            if "precondition" in text or "412" in text or "conditional" in text:  # S3 PreconditionFailed
                return False
            raise
        return True

    def _heartbeat(self, fs: Any, path: str) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                holder, etag = _read_remote(fs, path)
                if holder is None or holder.get("token") != self.holder["token"]:
                    log.error("lost the lock of %s (now held by %s): another writer took it over", self.root,
                              describe(holder or {}))
                    return
                if not self._replace(fs, path, etag):
                    log.error("could not refresh the lock of %s", self.root)
            except Exception as exc:  # a transient store error: the next beat tries again
                log.warning("lock heartbeat of %s failed: %s", self.root, exc)

    def _release_remote(self) -> None:
        self._stop.set()
        self._beat.join(timeout=5)
        fs, path = storage.filesystem(self.location)
        with contextlib.suppress(Exception):
            holder, _ = _read_remote(fs, path)
            if holder and holder.get("token") == self.holder["token"]:
                fs.rm_file(path)

    def acquire(self, wait: bool) -> None:
        (self._acquire_remote if storage.is_url(self.root) else self._acquire_local)(wait)

    def release(self) -> None:
        (self._release_remote if storage.is_url(self.root) else self._release_local)()


def _is_s3(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("s3", "s3a")


def _read_local(path: str) -> dict:
    with contextlib.suppress(OSError, ValueError), open(path, encoding="utf-8") as f:
        value = json.loads(f.read() or "{}")
        return value if isinstance(value, dict) else {}
    return {}


def _read_remote(fs: Any, path: str) -> tuple[dict | None, str | None]:
    """The lock object's content and ETag, or (None, None) when there is none."""
    try:
        fs.invalidate_cache(path)
        info = fs.info(path)
        data = fs.cat_file(path)
    except FileNotFoundError:
        return None, None
    try:
        holder = json.loads(data or b"{}")
    except ValueError:
        holder = {}
    return (holder if isinstance(holder, dict) else {}), info.get("ETag") or info.get("etag")


@contextlib.contextmanager
def run_lock(root: str, wait: bool = False) -> Iterator[dict]:
    """Hold the run directory's lock for the block (re-entrant within a process); yields the holder's record.

    Refuses at once with `RunDirLocked` naming the holder, or with `wait` waits until the holder finishes.
    """
    root = storage.absolute(root)
    with _held_guard:
        lock = _held.get(root)
        if lock is not None:
            lock.depth += 1
    if lock is None:
        lock = _Lock(root)
        lock.acquire(wait)
        lock.depth = 1
        with _held_guard:
            _held[root] = lock
        try:
            _sweep(root)
        except BaseException:
            run_lock_release(root)
            raise
    try:
        yield lock.holder
    finally:
        with _held_guard:
            lock.depth -= 1
            done = lock.depth == 0
            if done:
                _held.pop(root, None)
        if done:
            lock.release()


def _sweep(root: str) -> None:
    """What killed writers of earlier runs left half-written, in every table: once, on taking the lock."""
    from flows.rundir import RunDir

    removed = RunDir(root).sweep()
    if removed:
        log.info("removed %d temporary file(s) of earlier runs from %s", len(removed), root)


def run_lock_release(root: str) -> None:
    """Release this process's lock of `root` (when taking it did not complete)."""
    with _held_guard:
        lock = _held.pop(root, None)
    if lock is not None:
        lock.release()


def holds_run_dir(fn: Callable) -> Callable:
    """Run a flow function that writes the run directory `out` under its lock, with its storage options applied.

    The function's `storage_options` (JSON) go into fsspec's configuration first, and `wait` decides between
    refusing and queueing behind another writer. The stages called by quality-audit re-enter its lock.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        out = bound.arguments["out"]
        storage.configure(bound.arguments.get("storage_options"), str(out))
        with run_lock(str(out), wait=bool(bound.arguments.get("wait"))):
            return fn(*bound.args, **bound.kwargs)

    # Evaluated annotations: Prefect and the CLI resolve string annotations in the wrapper's module, not fn's.
    hints = typing.get_type_hints(fn)
    wrapper.__annotations__ = hints
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation))
    return wrapper
