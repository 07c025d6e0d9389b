"""Offline build and maintenance scripts: they make the data files the product ships, and are not shipped.

Run them as `python -m tools.<name>` from the repository root; `tools.shared_data` is the one place that
says where the third-party data (`../shared/data`) lives.
"""
