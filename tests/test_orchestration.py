"""Deployments without a server: infra/prefect.yaml covers every flow with the intended schedules, `flows serve`
builds the same schedules, `latest` resolves to the newest crawl offline, and the compose file keeps its promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import polars as pl
import pytest
import yaml

from flows import deployments
from flows.deployments import (
    COLLINFO_URL,
    PREFECT_FILE,
    WORK_POOL,
    load_specs,
    newest_crawl,
    point_latest,
    select_specs,
    to_schedule,
)
from flows.registry import FLOWS

REPO = Path(__file__).resolve().parents[1]
AUDIT = deployments.audit_latest_crawl.with_options(retries=0)  # the 15-minute flow retry is for production
INFRA = REPO / "infra"

# The real shape of https://index.commoncrawl.org/collinfo.json (newest first there; not relied upon here).
COLLINFO = [
    {"id": "CC-MAIN-2024-51", "name": "December 2024 Index", "timegate": "https://index.commoncrawl.org/CC-MAIN-2024-51/",
     "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2024-51-index", "from": "2024-12-01T20:10:14",
     "to": "2024-12-15T02:22:03"},
    {"id": "CC-MAIN-2025-08", "name": "February 2025 Index", "timegate": "", "cdx-api": ""},
    {"id": "CC-MAIN-2025-33", "name": "August 2025 Index", "timegate": "", "cdx-api": ""},
    {"id": "CC-MAIN-2025-26", "name": "June 2025 Index", "timegate": "", "cdx-api": ""},
    {"id": "CC-MAIN-2008-2009", "name": "Index of 2008 - 2009", "timegate": "", "cdx-api": ""},
]


@pytest.fixture(scope="module")
def specs() -> list[deployments.DeploymentSpec]:
    return load_specs(REPO / PREFECT_FILE)


def test_every_registered_flow_has_a_deployment_on_the_process_pool(specs):
    deployed = {s.flow_name for s in specs}
    assert set(FLOWS) <= deployed, f"flows without a deployment: {set(FLOWS) - deployed}"
    names = [s.full_name for s in specs]
    assert len(names) == len(set(names))
    assert {s.work_pool for s in specs} == {WORK_POOL}
    for spec in specs:
        assert (REPO / spec.entrypoint.split(":")[0]).is_file(), spec.entrypoint


def test_schedules_monthly_audit_of_the_newest_crawl_and_weekly_forecast(specs):
    scheduled = {s.full_name: s for s in specs if s.schedules}
    assert set(scheduled) == {"audit-latest-crawl/monthly", "forecast/weekly"}
    monthly, weekly = scheduled["audit-latest-crawl/monthly"], scheduled["forecast/weekly"]
    assert [s["cron"] for s in monthly.schedules] == ["0 6 3 * *"]
    assert monthly.parameters["crawl"] == ["latest"] and monthly.concurrency_limit == 1
    assert [s["cron"] for s in weekly.schedules] == ["0 7 * * 1"]
    # The weekly forecast reads what the monthly audit points runs/latest at.
    assert weekly.parameters["stocks"] == f"{monthly.parameters['runs']}/latest/stocks.json"
    for spec in scheduled.values():
        schedule = to_schedule(spec.schedules[0])
        assert schedule.cron == spec.schedules[0]["cron"] and schedule.timezone == "UTC"


def test_deployment_parameters_are_parameters_of_the_flows(specs):
    """A parameter a flow does not take would only fail when the schedule fires, a month later."""
    import inspect

    for spec in specs:
        fn = spec.load_flow().fn
        accepted = inspect.signature(fn).parameters
        assert set(spec.parameters) <= set(accepted), (spec.full_name, set(spec.parameters) - set(accepted))


def test_serve_builds_the_yaml_schedules(specs):
    chosen = select_specs(specs, ["audit-latest-crawl/monthly", "forecast/weekly"])
    built = deployments.runner_deployments(chosen)
    assert [d.name for d in built] == ["monthly", "weekly"]
    for spec, deployment in zip(chosen, built):
        assert [s.schedule.cron for s in deployment.schedules] == [s["cron"] for s in spec.schedules]
        assert deployment.parameters == spec.parameters and deployment.tags == ["peakdata"]
    with pytest.raises(ValueError, match="unknown deployment"):
        select_specs(specs, ["forecast/nightly"])


def test_to_schedule_kinds():
    assert to_schedule({"interval": 3600, "timezone": "UTC"}).interval.total_seconds() == 3600
    assert to_schedule({"rrule": "FREQ=WEEKLY;BYDAY=MO"}).rrule == "FREQ=WEEKLY;BYDAY=MO"
    assert to_schedule({"cron": "0 0 * * *", "active": False}).active is False
    with pytest.raises(ValueError):
        to_schedule({"timezone": "UTC"})


def test_newest_crawl_orders_by_year_and_week_not_by_position():
    assert newest_crawl(COLLINFO) == "CC-MAIN-2025-33"
    assert newest_crawl(list(reversed(COLLINFO))) == "CC-MAIN-2025-33"
    with pytest.raises(ValueError, match="no CC-MAIN"):
        newest_crawl([{"id": "CC-MAIN-2008-2009"}, {"name": "x"}])


def test_resolve_latest_from_a_local_collinfo(tmp_path):
    path = tmp_path / "collinfo.json"
    path.write_text(json.dumps(COLLINFO))
    resolve = deployments.resolve_crawls.fn
    assert resolve(["latest"], str(path)) == ["CC-MAIN-2025-33"]
    assert resolve(["CC-MAIN-2024-51", "latest", "CC-MAIN-2025-33"], f"file://{path}") == [
        "CC-MAIN-2024-51", "CC-MAIN-2025-33"]
    assert resolve(["CC-MAIN-2023-50"], "/nonexistent/collinfo.json") == ["CC-MAIN-2023-50"]  # not read
    with pytest.raises(ValueError, match="CC-MAIN-YYYY-WW"):
        resolve(["../../etc"], str(path))
    path.write_bytes(b"\x1f\x8b not json")
    with pytest.raises(ValueError):
        resolve(["latest"], str(path))
    assert COLLINFO_URL.startswith("https://")


def test_point_latest_replaces_the_link(tmp_path):
    runs = tmp_path / "runs"
    (runs / "CC-MAIN-2025-26").mkdir(parents=True)
    (runs / "CC-MAIN-2025-33").mkdir()
    point_latest(runs, runs / "CC-MAIN-2025-26")
    point_latest(runs, runs / "CC-MAIN-2025-33")
    assert (runs / "latest").resolve() == (runs / "CC-MAIN-2025-33").resolve()
    assert Path(runs / "latest").readlink() == Path("CC-MAIN-2025-33")  # relative: the folder can move
    assert sorted(p.name for p in runs.iterdir()) == ["CC-MAIN-2025-26", "CC-MAIN-2025-33", "latest"]


@pytest.fixture
def fake_audit(monkeypatch):
    """A quality-audit stand-in with the real parameter names, recording its calls."""
    calls: list[dict] = []

    def quality_audit(input=None, out="x", crawl=None, format="warc", files=None, records_per_file=None,
                      base_url="https://data.commoncrawl.org/", seed=0, runner="threads", workers=None):
        calls.append(dict(locals()))
        Path(out).mkdir(parents=True, exist_ok=True)
        return {"counts": {"documents": 3}, "failures": calls[-1].get("failures", [])}

    module = types.ModuleType("flows.quality_audit")
    module.quality_audit = _Callable(quality_audit)
    monkeypatch.setitem(sys.modules, "flows.quality_audit", module)
    return calls


class _Callable:
    """Called like a flow; `.fn` is what the wrapper inspects for the parameter names."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, **kwargs):
        return self.fn(**kwargs)


def test_audit_latest_crawl_resolves_names_the_run_dir_and_points_latest(
        fake_audit, tmp_path, monkeypatch, prefect_harness):
    collinfo = tmp_path / "collinfo.json"
    collinfo.write_text(json.dumps(COLLINFO))
    runs = tmp_path / "runs"
    result = AUDIT(crawl=["latest"], runs=str(runs), collinfo=str(collinfo), options={"runner": "processes"})
    assert result["crawls"] == ["CC-MAIN-2025-33"] and result["out"] == str(runs / "CC-MAIN-2025-33")
    (call,) = fake_audit
    assert call["crawl"] == ["CC-MAIN-2025-33"] and call["format"] == "wet" and call["files"] == 20
    assert call["records_per_file"] == 1000 and call["runner"] == "processes" and call["out"] == result["out"]
    assert call["base_url"] == "https://data.commoncrawl.org/"  # not overridden when not given
    assert (runs / "latest").resolve() == (runs / "CC-MAIN-2025-33").resolve()
    with pytest.raises(TypeError, match="no_such_option"):
        AUDIT(crawl=["CC-MAIN-2024-51"], runs=str(runs), options={"no_such_option": 1})


def test_failed_shards_fail_the_run_and_keep_latest(fake_audit, tmp_path, monkeypatch, prefect_harness):
    def failing(out="x", crawl=None, format="warc", files=None, records_per_file=None, seed=0):
        Path(out).mkdir(parents=True, exist_ok=True)
        return {"counts": {}, "failures": [{"shard": "a", "error": "OSError: disk"}]}

    monkeypatch.setattr(sys.modules["flows.quality_audit"], "quality_audit", _Callable(failing))
    runs = tmp_path / "runs"
    with pytest.raises(deployments.ShardFailures, match="OSError: disk"):
        AUDIT(crawl=["CC-MAIN-2024-51"], runs=str(runs))
    assert not (runs / "latest").exists()
    assert deployments.audit_latest_crawl.retries == 1  # in production, one retry of what failed, 15 min later


def test_deploy_without_a_server_is_a_usage_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "deploy"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "PREFECT_API_URL is not set" in proc.stderr and "Traceback" not in proc.stderr
    dry = subprocess.run([sys.executable, "-m", "flows.cli", "deploy", "--dry-run"], capture_output=True,
                         text=True, timeout=300, env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["root"] == str(REPO)
    assert plan["command"][1:] == ["--no-prompt", "deploy", "--prefect-file", str(INFRA / "prefect.yaml"), "--all"]
    assert {d["name"] for d in plan["deployments"]} >= {"audit-latest-crawl/monthly", "forecast/weekly"}


def test_compose_stack_is_loopback_only_with_auth_everywhere():
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "server", "deploy", "worker"}
    assert "ports" not in services["postgres"]
    assert services["server"]["ports"] == ["${PEAKDATA_BIND:-127.0.0.1}:${PREFECT_PORT:-4200}:4200"]
    server_env = services["server"]["environment"]
    assert server_env["PREFECT_SERVER_API_AUTH_STRING"].startswith("${PREFECT_AUTH")
    assert server_env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    for client in ("deploy", "worker"):
        assert services[client]["environment"]["PREFECT_API_AUTH_STRING"].startswith("${PREFECT_AUTH")
    assert WORK_POOL in services["worker"]["command"]
    dockerfile = (INFRA / "Dockerfile").read_text()
    assert "USER peakdata" in dockerfile and "infra/prefect.yaml" in dockerfile


def test_auth_setting_names_exist_in_the_installed_prefect():
    """The names the stack sets must be real settings (a typo would leave the API open)."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_SERVER_API_AUTH_STRING

    assert PREFECT_SERVER_API_AUTH_STRING.name == "PREFECT_SERVER_API_AUTH_STRING"
    assert PREFECT_API_AUTH_STRING.name == "PREFECT_API_AUTH_STRING"
    script = (INFRA / "local-stack.sh").read_text()
    assert "PREFECT_SERVER_API_AUTH_STRING=" in script and "PREFECT_API_AUTH_STRING=" in script


def test_monthly_audit_end_to_end_on_a_local_bucket(shared_data, prefect_harness, tmp_path):
    """The monthly deployment's flow for real, offline: `latest` → the newest crawl of a local collinfo.json,
    sampled from a Common-Crawl-like bucket on 127.0.0.1; the same month again reuses every shard."""
    from ccbucket import build_bucket, serve_bucket

    bucket = build_bucket(shared_data, tmp_path / "bucket", files_per_listing=5)
    collinfo = tmp_path / "collinfo.json"
    collinfo.write_text(json.dumps([{"id": "CC-MAIN-2023-50"}, {"id": "CC-MAIN-2025-33"}]))
    runs = tmp_path / "runs"
    params = {"crawl": ["latest"], "runs": str(runs), "collinfo": str(collinfo), "format": "warc", "files": 2,
              "records_per_file": None, "options": {"draws": 2000, "workers": 1}}
    with serve_bucket(bucket.root) as server:
        first = AUDIT(base_url=server.url, **params)
        out = runs / "CC-MAIN-2025-33"
        shards = {p.name: p.stat().st_ino for p in (out / "documents").iterdir()}
        again = AUDIT(base_url=server.url, **params)
    assert first["crawls"] == again["crawls"] == ["CC-MAIN-2025-33"] and first["out"] == str(out)
    assert (runs / "latest").resolve() == out.resolve()
    manifest = json.loads((out / "manifest.json").read_text())
    stratum = manifest["sampling"]["strata"]["CC-MAIN-2025-33"]
    assert stratum["format"] == "warc" and stratum["population_files"] == 5 and stratum["sampled_files"] == 2
    documents = pl.read_parquet(sorted((out / "documents").glob("part-*.parquet")))
    assert set(documents["crawl"]) == {"CC-MAIN-2025-33"} and documents.height == first["counts"]["documents"] > 0
    assert {p.name: p.stat().st_ino for p in (out / "documents").iterdir()} == shards  # reused, not rewritten
    assert (out / "report.html").exists() and (out / "stocks.json").exists()
