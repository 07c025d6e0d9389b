"""What a running stage tells its user: progress inside a file, and an early stop when its first files fail."""

from __future__ import annotations

import pytest


def test_a_stage_stops_when_its_first_files_all_fail():
    from flows.runners import FIRST_FAILURES, FirstShardsFailed, _stop_if_all_failing

    failing = {i: OSError("connection refused") for i in range(FIRST_FAILURES)}
    with pytest.raises(FirstShardsFailed, match="the first 5 of 40 files all failed") as err:
        _stop_if_all_failing("read-file", failing, 40)
    assert "connection refused" in str(err.value) and "--base-url" in str(err.value)
    _stop_if_all_failing("read-file", failing, FIRST_FAILURES)  # nothing left to spare: the run reports them all
    _stop_if_all_failing("read-file", failing | {0: {"documents": 3}}, 40)  # one success: go on


def test_progress_moves_inside_a_file(monkeypatch, capsys):
    """Records read by a running shard show before the shard ends; without a terminal, as plain lines."""
    import time as _time

    from flows import live_counts, runners

    monkeypatch.setattr(runners, "HEARTBEAT_S", 0.2)
    with runners.StageProgress("read-file", total=3) as progress:
        live_counts.add_records(2500)  # a reader's batches, before its file is done
        assert progress.status().startswith("2,500 records")
        _time.sleep(0.9)
        progress.advance({"records_read": 2500, "documents": 2400})
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("read-file:")]
    assert lines and "0/3 files, 2,500 records" in lines[0]
