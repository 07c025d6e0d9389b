"""Prefect settings peakdata needs on any machine, applied before Prefect is imported."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Several processes starting at once on 2 cores need more than the default 20 s.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
}


def configure_prefect_environment() -> None:
    """Set Prefect defaults unless the user already chose (their PREFECT_API_URL / PREFECT_HOME win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" not in os.environ:
        home = default_prefect_home()
        with contextlib.suppress(OSError):  # Prefect creates only the last folder of the path itself
            home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)


def default_prefect_home() -> Path:
    """Prefect's database and settings live per user (XDG state folder), never in the directory a run starts in."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser() / "peakdata" / "prefect"
