"""Where the third-party data lives: `$PEAKDATA_SHARED_DATA`, else `../shared/data` beside the checkout.

One definition for the tools and the tests (`tests/conftest.py` imports it), so they never look in two
different places.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "PEAKDATA_SHARED_DATA"


def shared_data_dir() -> Path:
    """The shared data folder (it may not exist: callers say what is missing)."""
    return Path(os.environ.get(ENV_VAR, REPO_ROOT.parent / "shared" / "data"))


def require_shared_data() -> Path:
    """The shared data folder, or a plain-words error naming where it was looked for."""
    path = shared_data_dir()
    if not path.is_dir():
        raise FileNotFoundError(f"shared data folder {path} is missing (set {ENV_VAR} to where it is)")
    return path
