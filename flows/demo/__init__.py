"""The synthetic demo crawl, kept apart from the measuring code: `crawl` writes it, `content` loads its data.

`python -m flows.demo OUT_DIR --records N --files F --seed S` writes one (see docs/readme/demo.md).
"""

from flows.demo.crawl import demo_ground_truth, iter_demo_plan, write_demo_crawl

__all__ = ["demo_ground_truth", "iter_demo_plan", "write_demo_crawl"]
