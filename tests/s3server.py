"""A real S3 API on 127.0.0.1 for tests: moto's server mode in its own process, plus a bucket helper."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "peakdata-test", "AWS_SECRET_ACCESS_KEY": "peakdata-test-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class S3Server:
    """A running moto S3 server: its endpoint, and the storage options that reach it."""

    endpoint: str
    process: subprocess.Popen

    @property
    def options(self) -> dict:
        return {"endpoint_url": self.endpoint}

    def filesystem(self):  # noqa: ANN201 - s3fs is an optional dependency
        import s3fs

        return s3fs.S3FileSystem(endpoint_url=self.endpoint, skip_instance_cache=True)

    def bucket(self, name: str) -> str:
        self.filesystem().mkdir(name)
        return f"s3://{name}"

    def upload(self, folder: Path, url: str) -> list[str]:
        """Every file of `folder` under `url`; returns their URLs in name order."""
        fs = self.filesystem()
        urls = []
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            target = f"{url.rstrip('/')}/{path.name}"
            fs.put_file(str(path), target)
            urls.append(target)
        return urls

    def keys(self, url: str) -> list[str]:
        """Every object under `url`, relative to it."""
        fs = self.filesystem()
        base = url.removeprefix("s3://").rstrip("/")
        fs.invalidate_cache()
        return sorted(k.removeprefix(base + "/") for k in fs.find(base))


@contextlib.contextmanager
def s3_server(log: Path) -> Iterator[S3Server]:
    """Start `python -m moto.server` on a free loopback port; credentials go into this process's environment.

    The environment and fsspec's configuration (which runs with --storage-options change) are restored at the end,
    so no later test talks to a stopped endpoint.
    """
    import copy

    import fsspec.config

    saved_env = dict(os.environ)
    saved_conf = copy.deepcopy(fsspec.config.conf)
    os.environ.update(CREDENTIALS)
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()  # noqa: S310 - loopback
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield S3Server(endpoint, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.environ.clear()
        os.environ.update(saved_env)
        fsspec.config.conf.clear()
        fsspec.config.conf.update(saved_conf)
