"""Write docs/images/report-first-screen.png: the top 1,280 × 900 px of a run's report.html in headless Chromium.

    .venv/bin/flows run quality-audit --out /tmp/demo-run --demo-records 2000
    .venv/bin/python docs/report_screenshot.py /tmp/demo-run/report.html
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from cdp import open_page  # noqa: E402

OUT = Path(__file__).resolve().parent / "images" / "report-first-screen.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a report.html")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    chromium = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if chromium is None:
        sys.exit("chromium is not installed (make chromium)")
    with tempfile.TemporaryDirectory() as tmp, \
            open_page(chromium, args.report.resolve().as_uri(), Path(tmp), 1280, args.height) as page:
        page.wait_for_charts()
        page.screenshot(args.out, 1280, args.height)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1000:.0f} KB)")


if __name__ == "__main__":
    main()
