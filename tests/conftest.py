"""Shared fixtures: where the real third-party data lives, and a Prefect test harness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.shared_data import ENV_VAR, REPO_ROOT, shared_data_dir

__all__ = ["REPO_ROOT", "shared_data_dir"]

# Test files that start servers, Prefect flow runs, Chromium, Dask clusters or subprocess pipelines, or
# read large data: `slow`. Everything else is `unit` (`pytest -m unit`, the fast subset: minutes on 2 cores).
# A test that needs the Prefect harness is slow wherever it is; a test may also mark itself `slow`.
SLOW_FILES = frozenset({
    "test_classifiers_torch.py",  # PyTorch training runs
    "test_cli_server.py",  # a Prefect server process
    "test_crawl_sample_cc.py",  # a local Common Crawl bucket over HTTP
    "test_dedup_near.py",  # datatrove's MinHash pipeline on real documents
    "test_faults.py",  # killed and restarted runs
    "test_memory_bounds.py",  # large inputs, peak-memory measurement in subprocesses
    "test_orchestration.py",  # Prefect deployments, Dask
    "test_orchestration_stack.py",  # PostgreSQL + Prefect server + worker
    "test_report_browser.py",  # headless Chromium
    "test_resume.py",  # interrupted flow runs against a Prefect API
})
SLOW_FIXTURES = frozenset({"prefect_harness"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test exactly one speed: `slow` by the rules above, else `unit`."""
    for item in items:
        slow = (
            item.get_closest_marker("slow") is not None
            or item.path.name in SLOW_FILES
            or not SLOW_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        )
        if slow and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
        elif not slow:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder; fails under CI when missing (a skipped test there would hide a broken setup)."""
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data folder {path} is missing (set {ENV_VAR})")
        pytest.skip(f"shared data folder {path} is missing")
    return path


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect API for the session's flow runs (~10 s once instead of per flow)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(home / "results")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
