"""The report in a real browser: headless Chromium draws every chart with no console message, the screenshot
is not blank, hostile crawled strings never execute, and at 1,280 px the first screen holds the answer (an
exhaustion year with its interval, a token stock) with nothing wider than the window.

Chromium is the Debian package (`apt-get install chromium chromium-driver`; `make test` installs it). Without
it these tests skip locally and fail under CI, where a skip would hide a broken set-up.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from cdp import open_page
from test_report import write_run_dir

from flows.report import write_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000"]


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (apt-get install chromium chromium-driver)")
    pytest.skip("chromium is not installed")


@dataclass
class Rendered:
    """A report as Chromium left it: source page, DOM after load, console lines, screenshot (if taken)."""

    page: Path
    dom: str
    console: list[str]
    screenshot: Path | None


@pytest.fixture(scope="module")
def rendered(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """The realistic and the hostile report, rendered by two Chromium processes at once (they take ~10 s each,
    mostly parsing plotly.js)."""
    jobs = {}
    for name, hostile in (("full", False), ("hostile", True)):
        tmp = tmp_path_factory.mktemp(name)
        page = build_report(write_run_dir(tmp / "run", hostile=hostile))
        shot = tmp / "report.png" if not hostile else None
        args = [chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1000", "--dump-dom",
                *([f"--screenshot={shot}"] if shot else []), page.as_uri()]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
        jobs[name] = (page, shot, proc)
    out = {}
    for name, (page, shot, proc) in jobs.items():
        try:
            dom, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            proc.kill()  # only the process this fixture started
            raise
        assert proc.returncode == 0, err[-2000:]
        console = [line for line in err.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
        out[name] = Rendered(page, dom, console, shot)
    return out


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) as a height × width × channels array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + length])
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    rows = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: running sum per channel
            cur = np.cumsum(line.reshape(width, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average / Paeth depend on the byte just decoded: a plain loop
            res, up, raw = [0] * stride, prev.tolist(), line.tolist()
            for i in range(stride):
                left = res[i - bpp] if i >= bpp else 0
                if kind == 3:
                    res[i] = (raw[i] + ((left + up[i]) >> 1)) & 255
                else:
                    ul = up[i - bpp] if i >= bpp else 0
                    pa, pb, pc = abs(up[i] - ul), abs(left - ul), abs(left + up[i] - 2 * ul)
                    res[i] = (raw[i] + (left if pa <= pb and pa <= pc else up[i] if pb <= pc else ul)) & 255
            cur = np.array(res, dtype=np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp).astype(np.uint8)


class Tags(HTMLParser):
    """Every element and its attributes in a document (script bodies are not parsed as markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def chart_count(page: str) -> int:
    return len(re.findall(r'<div class="chart" id="', page))


def test_report_renders_every_chart_without_console_errors(rendered: dict[str, Rendered]) -> None:
    run = rendered["full"]
    expected = chart_count(run.page.read_text(encoding="utf-8"))
    assert expected == 16  # 13 kinds, one tornado per tier
    assert run.console == []
    assert f'data-charts-drawn="{expected}"' in run.dom and 'data-charts-failed="0"' in run.dom
    assert run.dom.count('class="main-svg"') >= expected
    assert 'class="chart chart-error"' not in run.dom

    assert run.screenshot is not None
    pixels = decode_png(run.screenshot.read_bytes())[..., :3]
    assert pixels.shape[:2] == (1000, 1280)
    colours = np.unique(pixels[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 50 and pixels.std() > 20
    assert (pixels.reshape(-1, 3) < 200).any(axis=1).mean() > 0.05  # ink on the page, not just background


def test_hostile_run_directory_cannot_execute(rendered: dict[str, Rendered]) -> None:
    run = rendered["hostile"]
    assert run.console == []
    assert "<pwned" not in run.dom  # no payload ran: each would have appended a <pwned-…> element
    assert re.search(r"<title>peakdata report</title>", run.dom)  # nor changed the title
    tags = Tags()
    tags.feed(run.dom)
    assert not {"img", "iframe", "object", "embed"} & {t for t, _ in tags.seen}
    handlers = [(t, a) for t, attrs in tags.seen for a, v in attrs if a.startswith("on")]
    assert handlers == []  # no element got an inline event handler from the data
    links = [v for _, attrs in tags.seen for a, v in attrs if a in ("href", "src", "xlink:href") and v]
    assert not [v for v in links if v.strip().lower().startswith(("javascript:", "data:text"))]
    expected = chart_count(run.page.read_text(encoding="utf-8"))
    assert f'data-charts-drawn="{expected}"' in run.dom and 'data-charts-failed="0"' in run.dom
    assert "&lt;/script&gt;&lt;script&gt;document.body.appendChild" in run.dom  # shown as text instead


FIRST_SCREEN = 800  # px: what a 1,280 × 800 window shows before any scrolling

LAYOUT = """
(() => {
  window.scrollTo(0, 0);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  const parts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width > 0 && r.top < FIRST_SCREEN && r.bottom > 0) parts.push(node.textContent.trim());
  }
  const wide = [...document.querySelectorAll("main, section, .table-wrap, table, .chart, figure")]
    .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.tagName + "#" + (el.id || el.className));
  return {text: parts.join(" "), scrollWidth: document.documentElement.scrollWidth, wide: wide,
          failed: document.documentElement.getAttribute("data-charts-failed"),
          drawn: document.documentElement.getAttribute("data-charts-drawn")};
})()
""".replace("FIRST_SCREEN", str(FIRST_SCREEN))


@pytest.fixture(scope="module")
def at_1280(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The realistic report in a 1,280 px wide window: layout facts and a screenshot of the first screen."""
    tmp = tmp_path_factory.mktemp("at1280")
    page = build_report(write_run_dir(tmp / "run"))
    with open_page(chromium, page.as_uri(), tmp / "profile", width=1280, height=900) as tab:
        tab.wait_for_charts()
        facts = tab.evaluate(LAYOUT)
        shot = tab.screenshot(tmp / "first-screen.png", 1280, 900)
    return facts, shot


def test_first_screen_holds_the_answer(at_1280: tuple[dict, Path]) -> None:
    facts, shot = at_1280
    text = " ".join(facts["text"].split())
    # an exhaustion year with its 80% interval, and a token stock with unit and interval, without scrolling
    assert re.search(r"\b20\d\d\.\d (20\d\d\.\d|20\d\d or earlier) – 20\d\d\.\d\b", text), text
    assert re.search(r"\b\d+(\.\d+)?[KMBTP] tokens \d+(\.\d+)?[KMBTP] – \d+(\.\d+)?[KMBTP]\b", text), text
    assert "Exhaustion year, median" in text and "80% interval" in text and "tokens on the indexed web" in text
    assert "records read" not in text  # bookkeeping is further down
    pixels = decode_png(shot.read_bytes())[..., :3]
    assert pixels.shape[:2] == (900, 1280) and pixels.std() > 20


def test_nothing_is_wider_than_1280_px(at_1280: tuple[dict, Path]) -> None:
    facts, _ = at_1280
    assert facts["scrollWidth"] <= 1280
    assert facts["wide"] == []  # no table or chart scrolls sideways or sticks out of the window
    assert facts["failed"] == "0" and int(facts["drawn"]) == 16


def build_report(run: Path) -> Path:
    """report.html of a run directory, written as the report flow writes it."""
    return Path(write_report(str(run)))
