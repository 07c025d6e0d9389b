"""Deployments: `flows deploy` registers infra/prefect.yaml on a Prefect server, `flows serve` serves the same
deployments (same schedules and parameters) from one process, and `audit_latest_crawl` is the monthly audit
of the newest Common Crawl snapshot.

infra/prefect.yaml is the single source of both commands, so a team's work-pool setup and a laptop's
`flows serve` run the same schedules.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from prefect import flow, task
from prefect.tasks import exponential_backoff

from flows import storage

PREFECT_FILE = Path("infra") / "prefect.yaml"
WORK_POOL = "peakdata-process"
COLLINFO_URL = "https://index.commoncrawl.org/collinfo.json"
LATEST = "latest"
LATEST_LINK = "latest"
CRAWL_NAME = re.compile(r"CC-MAIN-(\d{4})-(\d{2})")
MAX_COLLINFO_BYTES = 8 << 20  # the real file is ~40 kB


# ----------------------------------------------------------------------------------- the yaml file


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment of infra/prefect.yaml, as both `flows deploy` and `flows serve` use it."""

    name: str
    entrypoint: str  # "flows/forecast.py:forecast", relative to the repository root
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    work_pool: str | None = None
    concurrency_limit: int | None = None

    @property
    def module(self) -> str:
        """Dotted module of the entrypoint (flows/forecast.py → flows.forecast)."""
        path = self.entrypoint.rsplit(":", 1)[0]
        return path.removesuffix(".py").replace("/", ".")

    @property
    def attribute(self) -> str:
        return self.entrypoint.rsplit(":", 1)[1]

    def load_flow(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attribute)

    @property
    def flow_name(self) -> str:
        """The flow's name, from the registry when it is a registered flow (no import), else by import."""
        from flows.registry import FLOWS

        for name, (module, attribute, _) in FLOWS.items():
            if (module, attribute) == (self.module, self.attribute):
                return name
        return self.load_flow().name

    @property
    def full_name(self) -> str:
        """`flow-name/deployment-name`, as `prefect deployment run` takes it."""
        return f"{self.flow_name}/{self.name}"


def repo_root() -> Path:
    """The checkout that holds flows/ and infra/ (entrypoints and relative run paths are relative to it)."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / PREFECT_FILE).exists() else Path.cwd()


def load_specs(prefect_file: Path) -> list[DeploymentSpec]:
    """The deployments of a prefect.yaml (YAML anchors resolved; `definitions` is only a source of anchors)."""
    config = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    specs = []
    for entry in config.get("deployments") or []:
        limit = entry.get("concurrency_limit")
        specs.append(DeploymentSpec(
            name=entry["name"], entrypoint=entry["entrypoint"], parameters=dict(entry.get("parameters") or {}),
            schedules=list(entry.get("schedules") or []), tags=list(entry.get("tags") or []),
            description=entry.get("description"), work_pool=(entry.get("work_pool") or {}).get("name"),
            concurrency_limit=limit.get("limit") if isinstance(limit, dict) else limit,
        ))
    return specs


def select_specs(specs: list[DeploymentSpec], names: list[str] | None) -> list[DeploymentSpec]:
    """The deployments named `flow/deployment` (all when no name is given); an unknown name is an error."""
    if not names:
        return specs
    by_name = {s.full_name: s for s in specs}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown deployment(s) {unknown}; known: {sorted(by_name)}")
    return [by_name[n] for n in names]


def to_schedule(config: dict[str, Any]) -> Any:
    """A prefect.yaml schedule entry (cron, interval or rrule) as a `prefect.schedules.Schedule`."""
    from prefect.schedules import Cron, Interval, RRule

    common = {k: config[k] for k in ("timezone", "active", "parameters", "slug") if k in config}
    if "cron" in config:
        return Cron(config["cron"], day_or=config.get("day_or", True), **common)
    if "interval" in config:
        return Interval(config["interval"], anchor_date=config.get("anchor_date"), **common)
    if "rrule" in config:
        return RRule(config["rrule"], **common)
    raise ValueError(f"schedule without cron, interval or rrule: {config}")


# ---------------------------------------------------------------------------------- flows deploy


def _api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def ensure_work_pool(name: str) -> bool:
    """Create the process work pool unless it exists (prefect deploy refuses a missing pool); True if created."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))
            return True


def deploy_command(prefect_file: Path, names: list[str] | None) -> list[str]:
    """The `prefect deploy` command line: every deployment of the file, or the named ones."""
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect)] if prefect.exists() else [sys.executable, "-m", "prefect"]
    command += ["--no-prompt", "deploy", "--prefect-file", str(prefect_file)]
    if names:
        for name in names:
            command += ["--name", name]
    else:
        command.append("--all")
    return command


def deploy_main(argv: list[str]) -> int:
    """`flows deploy`: create the work pool if needed, then `prefect deploy` the deployments of prefect.yaml."""
    parser = argparse.ArgumentParser(
        prog="flows deploy", description="Register the deployments of infra/prefect.yaml on the Prefect server "
        "in PREFECT_API_URL (infra/local-stack.sh env prints it), creating the process work pool if needed.")
    parser.add_argument("--prefect-file", type=Path, default=None, help="default: <repo>/infra/prefect.yaml")
    parser.add_argument("--name", action="append", metavar="FLOW/DEPLOYMENT",
                        help="deploy only this one (repeatable; default: all)")
    parser.add_argument("--pool", default=WORK_POOL, help="work pool to create when missing")
    parser.add_argument("--no-create-pool", action="store_true", help="fail instead of creating a missing pool")
    parser.add_argument("--dry-run", action="store_true", help="print the deployments and the command; deploy none")
    args = parser.parse_args(argv)
    root = repo_root()
    prefect_file = (args.prefect_file or root / PREFECT_FILE).resolve()
    try:
        specs = select_specs(load_specs(prefect_file), args.name)
    except (OSError, ValueError, KeyError) as exc:
        print(f"flows deploy: {exc}", file=sys.stderr)
        return 2
    command = deploy_command(prefect_file, args.name)
    if args.dry_run:
        print(json.dumps({"root": str(root), "command": command, "deployments": [_describe(s) for s in specs]},
                         indent=2))
        return 0
    if not _api_url():
        print("flows deploy: PREFECT_API_URL is not set, so there is no server to deploy to; start one "
              "(infra/local-stack.sh up, then eval \"$(infra/local-stack.sh env)\") or use `flows serve`",
              file=sys.stderr)
        return 2
    pools = sorted({s.work_pool for s in specs if s.work_pool} or {args.pool})
    try:
        for pool in [] if args.no_create_pool else pools:
            if ensure_work_pool(pool):
                print(f"flows deploy: created work pool {pool!r} (type process)")
    except Exception as exc:  # unreachable server, wrong credentials: one line, not a traceback
        print(f"flows deploy: cannot reach the Prefect API at {_api_url()}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    # prefect deploy records the directory it runs in as the flows' working directory (no `pull` section).
    done = subprocess.run(command, cwd=root, env=os.environ | {"PREFECT_CLI_PROMPT": "false"}, check=False)
    return 0 if done.returncode == 0 else 1


def _describe(spec: DeploymentSpec) -> dict[str, Any]:
    return {"name": spec.full_name, "entrypoint": spec.entrypoint, "work_pool": spec.work_pool,
            "schedules": spec.schedules, "parameters": spec.parameters}


# ----------------------------------------------------------------------------------- flows serve


def runner_deployments(specs: list[DeploymentSpec]) -> list[Any]:
    """`flow.to_deployment(...)` of every spec, with the yaml's schedules, parameters and tags."""
    deployments = []
    for spec in specs:
        deployments.append(spec.load_flow().to_deployment(
            name=spec.name, schedules=[to_schedule(s) for s in spec.schedules] or None,
            parameters=spec.parameters, tags=spec.tags, description=spec.description,
            concurrency_limit=spec.concurrency_limit,
        ))
    return deployments


def serve_main(argv: list[str]) -> int:
    """`flows serve`: serve the deployments of prefect.yaml from this process (no work pool or worker needed)."""
    parser = argparse.ArgumentParser(
        prog="flows serve", description="Serve the deployments of infra/prefect.yaml from this process until "
        "interrupted: schedules fire and `prefect deployment run` works without a work pool. Uses the server in "
        "PREFECT_API_URL, or a local ephemeral one.")
    parser.add_argument("--prefect-file", type=Path, default=None, help="default: <repo>/infra/prefect.yaml")
    parser.add_argument("--name", action="append", metavar="FLOW/DEPLOYMENT",
                        help="serve only this one (repeatable; default: all)")
    parser.add_argument("--limit", type=int, default=None, help="most flow runs at once (default: no limit)")
    parser.add_argument("--dry-run", action="store_true", help="print the deployments; serve none")
    args = parser.parse_args(argv)
    root = repo_root()
    prefect_file = (args.prefect_file or root / PREFECT_FILE).resolve()
    try:
        specs = select_specs(load_specs(prefect_file), args.name)
    except (OSError, ValueError, KeyError) as exc:
        print(f"flows serve: {exc}", file=sys.stderr)
        return 2
    os.chdir(root)  # run paths (runs/...) resolve against the repository root, as with `flows deploy`
    deployments = runner_deployments(specs)
    if args.dry_run:
        print(json.dumps([_describe(s) for s in specs], indent=2))
        return 0
    from prefect import serve

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how users stop serving
        serve(*deployments, limit=args.limit)
    return 0


# ---------------------------------------------------------------- the monthly audit of the newest crawl


def _read_limited(source: str, timeout: float = 60) -> bytes:
    """Bytes of a URL or local path (http(s) with a timeout, other schemes through fsspec)."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": "peakdata (+crawl resolver)"})
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            data = response.read(MAX_COLLINFO_BYTES + 1)
    elif "://" in source and not source.startswith("file://"):
        import fsspec

        with fsspec.open(source, "rb") as f:
            data = f.read(MAX_COLLINFO_BYTES + 1)
    else:
        data = Path(source.removeprefix("file://")).read_bytes()[: MAX_COLLINFO_BYTES + 1]
    if len(data) > MAX_COLLINFO_BYTES:
        raise ValueError(f"{source}: larger than {MAX_COLLINFO_BYTES} bytes; not a crawl list")
    return data


def newest_crawl(collinfo: list[dict[str, Any]] | dict[str, Any]) -> str:
    """The newest `CC-MAIN-YYYY-WW` id of a Common Crawl collinfo.json (by year and week, not file order)."""
    entries = collinfo if isinstance(collinfo, list) else collinfo.get("crawls", [])
    ids = [e.get("id", "") if isinstance(e, dict) else str(e) for e in entries]
    valid = [i for i in ids if CRAWL_NAME.fullmatch(i)]
    if not valid:
        raise ValueError("no CC-MAIN-YYYY-WW crawl id in the crawl list")
    return max(valid, key=lambda i: tuple(int(g) for g in CRAWL_NAME.fullmatch(i).groups()))


@task(name="resolve-crawls", retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10))
def resolve_crawls(crawls: list[str], collinfo: str = COLLINFO_URL) -> list[str]:
    """Replace `latest` by the newest crawl in Common Crawl's collinfo.json (fetched at run time, so a
    schedule registered once always samples the newest snapshot); names pass through, validated."""
    resolved: list[str] = []
    for name in crawls:
        if name == LATEST:
            name = newest_crawl(json.loads(_read_limited(collinfo)))
        elif not CRAWL_NAME.fullmatch(name):
            raise ValueError(f"crawl {name!r} is neither {LATEST!r} nor a name of the form CC-MAIN-YYYY-WW")
        if name not in resolved:
            resolved.append(name)
    return resolved


def point_latest(runs: Path, target: Path) -> None:
    """Make RUNS/latest a symlink to `target` atomically (readers never see it missing or half-made)."""
    link = runs / LATEST_LINK
    tmp = runs / f".{LATEST_LINK}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, runs))
    os.replace(tmp, link)


class ShardFailures(RuntimeError):
    """Some shards failed: the run is reported failed (and runs/latest left alone) but finished shards stay."""


# One flow-level retry 15 minutes later: the re-run reuses every finished shard, so it only retries what failed
# (a shard whose task retries ran out, an unreachable collinfo.json).
@flow(name="audit-latest-crawl", log_prints=True, retries=1, retry_delay_seconds=900)
def audit_latest_crawl(
    crawl: list[str] | None = None,
    runs: str = "runs",
    format: Literal["warc", "wet", "wat"] = "wet",
    files: int | None = 20,
    records_per_file: int | None = 1000,
    base_url: str | None = None,
    collinfo: str = COLLINFO_URL,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> dict:
    """quality-audit of the newest Common Crawl snapshot into RUNS/<crawl>/, then RUNS/latest → it.

    The run directory is named after the resolved crawl, so a re-run in the same month resumes the same
    folder (finished shards are reused) and a new snapshot gets a new one.

    Args:
        crawl: Crawl names, or `latest` for the newest one in collinfo (default: latest).
        runs: Folder of the run directories (relative to the working directory of the run), or a URL
            (s3://bucket/runs: then RUNS/latest.json names the newest run instead of a symbolic link).
        format: Common Crawl files to read: wet, warc or wat.
        files: Files drawn per crawl.
        records_per_file: Records sampled per file (all when empty).
        base_url: Where the crawl files are read from (default: data.commoncrawl.org).
        collinfo: URL or path of Common Crawl's collinfo.json (the list of crawls).
        seed: Seed of the file and record draws.
        options: More quality-audit parameters, by name (e.g. {"runner": "processes", "workers": 4}).
    """
    from flows.quality_audit import quality_audit

    crawls = resolve_crawls(crawl or [LATEST], collinfo)
    out = storage.join(storage.absolute(runs), "+".join(crawls))  # a path or URL (s3://bucket/runs)
    known = inspect.signature(quality_audit.fn).parameters
    wanted = {"crawl": crawls, "format": format, "files": files, "records_per_file": records_per_file,
              "base_url": base_url}
    missing = [k for k in ("crawl", "format", "files") if k not in known]
    if missing:
        raise TypeError(f"quality-audit has no parameter(s) {missing}: this peakdata cannot sample Common Crawl")
    parameters = {k: v for k, v in wanted.items() if v is not None} | dict(options or {})
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise TypeError(f"quality-audit has no parameter(s) {unknown}")
    print(f"auditing {', '.join(crawls)} into {out}")
    manifest = quality_audit(out=str(out), seed=seed, **parameters)
    failures = manifest.get("failures") or []
    if failures:
        raise ShardFailures(f"{len(failures)} shard(s) failed, first: {failures[0].get('error')}; runs/latest "
                            "unchanged; re-run the deployment to retry them (finished shards are kept)")
    if storage.is_url(out):  # object stores have no symbolic links: RUNS/latest.json names the newest run
        storage.write_json(storage.join(runs, f"{LATEST_LINK}.json"), {"out": out, "crawls": crawls})
    else:
        point_latest(Path(runs), Path(out))
    return {"crawls": crawls, "out": out, "counts": manifest.get("counts")}
