"""The end of a run says where the report is and what the answer is, from the run's own files."""

from __future__ import annotations

import json

from flows.summary import summary_lines


def _tier(median: float, ci: list[float] | None, text: str) -> dict:
    return {"supply": {"usable": {"median": median, "ci90": ci}}, "answer": {"text": text}}


def test_summary_names_the_report_the_answer_and_the_warnings(tmp_path):
    forecast = {
        "scenario": "measured", "meta": {"years": [2024, 2025]},
        "tiers": {"high": _tier(8.9e13, [2.0e13, 3.1e14], "median 2029.8 (ci80: 2027.8 to 2033.8)"),
                  "medium_or_better": _tier(3.3e14, None, "already exhausted by 2024")},
        "languages": {"zh": {"tiers": {"high": _tier(2.6e13, [8.3e12, 8.4e13], "median 2026.9 (ci80: 2025 to 2028)")}}},
        "supply": {"warnings": ["Small sample: 12 deduplicated documents (fewer than 1000)."]},
    }
    (tmp_path / "forecast.json").write_text(json.dumps(forecast))
    (tmp_path / "manifest.json").write_text(json.dumps({"demo": True}))
    text = "\n".join(summary_lines(str(tmp_path)))
    assert f"Report: {tmp_path / 'report.html'}" in text
    assert "high" in text and "89T tokens [90%: 20T-310T]" in text and "median 2029.8 (ci80: 2027.8 to 2033.8)" in text
    assert "medium or better" in text and "(90% interval n/a)" in text and "already exhausted by 2024" in text
    assert "zh" in text and "26T tokens" in text
    assert "Warning: Small sample" in text and "synthetic demo" in text


def test_without_a_forecast_only_the_report_is_named(tmp_path):
    assert summary_lines(str(tmp_path)) == [f"Report: {tmp_path / 'report.html'}"]
