"""`python -m flows.demo OUT_DIR --records N --files F --seed S`: write a demo crawl (load tests, demos)."""

import sys

from flows.demo.crawl import main

sys.exit(main())
