"""README.md is the user's manual: it must be what docs/readme/*.md and the flows' signatures give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_is_built_from_its_parts() -> None:
    proc = subprocess.run([sys.executable, "docs/build_readme.py", "--check"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_every_flow_has_a_parameter_table() -> None:
    from flows.registry import FLOWS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in FLOWS:
        assert f"### `flows run {name}`" in readme, name
