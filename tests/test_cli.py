"""The `flows` CLI: listing, generated --help, exit codes and one-line messages."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flows.cli import build_parser, main
from flows.registry import FLOWS, load_flow


def test_list_names_every_flow(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in FLOWS:
        assert name in out


def test_help_is_generated_from_signature(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "crawl-sample", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--input INPUT" in out and "(repeatable)" in out and "{auto,threads,processes,dask}" in out
    assert "--file-fraction FLOAT" in out and "--workers INT" in out
    assert "Fraction of the listing" in out  # description comes from the docstring


def test_parser_types_and_booleans():
    parser = build_parser("quality-audit", load_flow("quality-audit").fn)
    args = vars(parser.parse_args(["--input", "a", "--input", "b", "--no-near", "--draws", "10", "--seed", "3"]))
    assert args["input"] == ["a", "b"] and args["near"] is False and args["draws"] == 10 and args["seed"] == 3
    assert args["exact"] is True and args["out"] == "peakdata-out"


def test_usage_errors_exit_2(capsys):
    assert main(["run"]) == 2
    assert main(["run", "no-such-flow"]) == 2
    assert "flows list" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "crawl-sample", "--workers", "many"])
    assert exit_info.value.code == 2


def test_missing_input_is_a_usage_error(tmp_path):
    """A whole process, as users run it: a clear one-line message and exit 2, no traceback."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}  # as a user's shell has it
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "crawl-sample", "--input", str(tmp_path / "nope*.warc.gz"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "matches no file" in proc.stderr
    assert "Traceback" not in proc.stderr
