"""A minimal Chrome DevTools Protocol client for the browser tests: open a page in headless Chromium, wait for
the report's charts, evaluate JavaScript in it (DevTools evaluation is not subject to the page's CSP), and
take clipped screenshots. Only the Chromium process it starts is ever stopped.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]

WAIT_FOR_CHARTS = """
new Promise((resolve, reject) => {
  const start = Date.now();
  (function poll() {
    const root = document.documentElement;
    if (location.protocol !== "about:" && root && root.hasAttribute("data-charts-failed")) {
      resolve(true); return;
    }
    if (Date.now() - start > TIMEOUT_MS) { reject(new Error("charts not drawn in time")); return; }
    setTimeout(poll, 100);
  })();
})
"""


class Page:
    """One Chromium tab showing `url`."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str, timeout_ms: int = 120_000) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise), as JSON."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True,
                           timeout=timeout_ms)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for_charts(self, timeout_ms: int = 120_000) -> None:
        """Until the report's renderer has drawn (or failed) every chart; the page may still be navigating
        from about:blank when this starts, which destroys the first evaluation's context: that one is retried."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                self.evaluate(WAIT_FOR_CHARTS.replace("TIMEOUT_MS", str(timeout_ms)), timeout_ms + 5_000)
                return
            except RuntimeError as exc:
                if "context" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def screenshot(self, path: Path, width: int, height: int) -> Path:
        """A PNG of the top `width` × `height` CSS pixels of the page."""
        self.evaluate("window.scrollTo(0, 0); true")
        shot = self.call("Page.captureScreenshot", format="png",
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextlib.contextmanager
def open_page(chromium: str, url: str, profile: Path, width: int = 1280, height: int = 900,
              start_timeout: float = 60.0) -> Iterator[Page]:
    """Start Chromium on `url` with a `width` × `height` window and yield a DevTools connection to its tab."""
    profile.mkdir(parents=True, exist_ok=True)
    port_file = profile / "DevToolsActivePort"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
    try:
        deadline = time.monotonic() + start_timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        target = None
        while target is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:  # noqa: S310
                target = next((t for t in json.load(resp) if t.get("type") == "page"), None)
            if target is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("Chromium opened no page")
                time.sleep(0.1)
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
            page = Page(ws)
            page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
            yield page
    finally:
        proc.terminate()  # only the process started here
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
