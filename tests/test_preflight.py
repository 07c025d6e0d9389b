"""Mistakes in a flow's options are answered before Prefect starts, in plain sentences without class names."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.preflight import UsageError, census_refusal, early_args, plain_error, preflight
from flows.sources.remote import RemoteReadError

CLASS_NAME = ("Error:", "Exception", "Traceback")


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}
    return subprocess.run([sys.executable, "-m", "flows.cli", "run", *argv], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


@pytest.mark.parametrize(("argv", "says"), [
    (["--input", "no/such/file.warc.gz"], "matches no file"),
    (["--crawl", "CC-MAIN-2025", "--files", "2"], "like CC-MAIN-2025-33"),
    (["--file-fraction", "2"], "at most 1"),
    (["--files", "0"], "at least 1"),
    (["--high-threshold", "1.5"], "between 0 and 1"),
])
def test_mistakes_are_plain_usage_errors(tmp_path, argv, says):
    proc = _cli("quality-audit", *argv, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr
    assert not any(word in proc.stderr for word in CLASS_NAME), proc.stderr
    assert not (tmp_path / ".prefect").exists()  # Prefect never started, and never writes to the cwd


def test_out_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot be created or written"):
        preflight("quality-audit", {"out": str(blocker / "run")})
    with pytest.raises(UsageError, match="is a file"):
        preflight("crawl-sample", {"out": str(blocker)})


def test_folder_without_supported_files_lists_the_formats(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("hello")
    with pytest.raises(UsageError) as err:
        preflight("quality-audit", {"input": [str(tmp_path / "in")], "out": str(tmp_path / "out")})
    for fmt in ("warc", "wet", "jsonl", "parquet"):
        assert fmt in str(err.value)


def test_stage_flows_need_an_existing_run_directory(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        preflight("tally-stocks", {"out": str(tmp_path / "missing")})
    preflight("tally-stocks", {"out": str(tmp_path)})  # exists: fine


def test_implicit_census_is_refused_with_the_file_count(tmp_path):
    crawl = "CC-MAIN-2025-33"
    entries = [f"crawl-data/{crawl}/segments/1/warc/f{i}.warc.gz" for i in range(1234)]
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress("\n".join(entries).encode()))
    args = {"crawl": [crawl], "format": "warc", "files": None, "file_fraction": None, "census": False,
            "listing": str(listing), "base_url": str(tmp_path), "out": str(tmp_path / "out")}
    with pytest.raises(UsageError) as err:
        preflight("quality-audit", args)
    message = str(err.value)
    assert "1,234 warc files" in message and "--files" in message and "--census" in message
    assert "TB" in message or "GB" in message
    preflight("quality-audit", args | {"census": True})
    preflight("quality-audit", args | {"files": 3})


def test_census_size_estimate_scales_with_files():
    small, large = census_refusal("CC-MAIN-2025-33", "wet", 10), census_refusal("CC-MAIN-2025-33", "wet", 90_000)
    assert "10 wet files" in small and "90,000 wet files" in large
    assert "GB" in small and "TB" in large


def test_network_errors_say_what_to_do():
    text = plain_error(RemoteReadError("connection", "https://data.commoncrawl.org/crawl-data/x/warc.paths.gz"))
    assert "could not be reached" in text and "--base-url" in text and "--listing" in text
    assert "RemoteReadError" not in text


def test_unreachable_listing_is_a_plain_usage_error(tmp_path):
    """A census check against a server that refuses connections: plain words, what to try, no class name."""
    args = {"crawl": ["CC-MAIN-2025-33"], "format": "warc", "census": False, "files": None, "file_fraction": None,
            "base_url": str(tmp_path / "no-mirror-here"), "listing": None, "out": str(tmp_path / "out")}
    with pytest.raises(UsageError) as err:
        preflight("crawl-sample", args)
    assert "could not read the warc listing of CC-MAIN-2025-33" in str(err.value)
    assert "--listing" in str(err.value)


def test_unresolvable_crawl_server_stops_before_the_run(tmp_path):
    args = {"crawl": ["CC-MAIN-2025-33"], "files": 2, "base_url": "https://no-such-host.invalid/",
            "format": "warc", "census": False, "out": str(tmp_path / "out")}
    with pytest.raises(UsageError) as err:
        preflight("quality-audit", args)
    assert "could not be reached" in str(err.value) and "--base-url" in str(err.value)


def test_early_args_read_only_shared_options():
    args = early_args("quality-audit", ["--input", "a", "--input", "b", "--files", "x", "--no-near", "--seed", "3"])
    assert args["input"] == ["a", "b"] and "files" not in args and args["census"] is False
    assert "census" not in early_args("tally-stocks", ["--out", "o"])

