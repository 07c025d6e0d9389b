"""README.md is the user's manual: short, answer first, every link resolving; docs/flows.md matches the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_flow_reference_is_generated_from_the_code() -> None:
    proc = subprocess.run([sys.executable, "docs/build_docs.py", "--check"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_every_flow_has_an_options_table() -> None:
    from flows.registry import FLOWS

    reference = (REPO / "docs" / "flows.md").read_text(encoding="utf-8")
    for name in FLOWS:
        assert f"## `flows run {name}`" in reference, name


def test_readme_is_a_manual_of_a_few_hundred_lines() -> None:
    lines = README.splitlines()
    assert 100 < len(lines) < 450, len(lines)
    first_screen = "\n".join(lines[:40])
    assert "--input" in first_screen and "make run" in first_screen and "make test" in first_screen
    for section in ("Quick start", "Your own data", "Reading the answer", "Sampling Common Crawl", "Deployment",
                    "Scale-out", "GPU", "Troubleshooting"):
        assert re.search(rf"^## .*{section}", README, flags=re.M), section


def test_every_local_link_and_anchor_resolves() -> None:
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.*)$", README, flags=re.M)}
    for target in re.findall(r"\]\(([^)]+)\)", README):
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, target
        else:
            assert (REPO / target.split("#")[0]).exists(), target
