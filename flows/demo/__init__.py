"""The synthetic demo crawl, kept apart from the measuring code.

`content` loads the vocabularies, templates and mix (`data/*.json`); `plan` decides what every capture is
and the ground truth; `pages` renders the pages; `crawl` writes them as gzipped WARC files.

`python -m flows.demo OUT_DIR --records N --files F --seed S` writes one (see docs/demo.md).
"""

from flows.demo.crawl import write_demo_crawl
from flows.demo.plan import demo_ground_truth, iter_demo_plan

__all__ = ["demo_ground_truth", "iter_demo_plan", "write_demo_crawl"]
