"""The `flows` command: list flows, run one with options generated from its signature.

Exit codes: 0 success, 2 usage error, 1 failure (a one-line message; the traceback with --debug).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import os
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

from flows.compose import doc_args, option_sources
from flows.preflight import UsageError, early_args, plain_error, preflight
from flows.registry import FLOWS, load_flow

USAGE_ERRORS = ("InputError", "ValueError", "ListingError", "RunDirLocked")
HEARTBEAT_SETTINGS = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY"}


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` → X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


class _DefaultsHelp(argparse.HelpFormatter):
    """Shows an option's default where it has one; options without one (None, or chosen at run time) show none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, argparse.SUPPRESS, False) and action.option_strings:
            text += " (default: %(default)s)"
        return text


def build_parser(name: str, fn: Callable) -> argparse.ArgumentParser:
    """An argparse parser whose options mirror the flow function's parameters (types, defaults, docs)."""
    summary = (inspect.getdoc(fn) or "").split("\n\n", 1)[0]
    parser = argparse.ArgumentParser(prog=f"flows run {name}", description=summary, formatter_class=_DefaultsHelp)
    hints = typing.get_type_hints(fn)
    docs = doc_args(fn)
    sources = option_sources(fn)  # a composed flow's help is grouped by the stage each option belongs to
    groups: dict[str, argparse._ArgumentGroup] = {}
    for param in inspect.signature(fn).parameters.values():
        stage = sources.get(param.name)
        target = groups.setdefault(stage, parser.add_argument_group(f"{stage} options")) if stage else parser
        kind = _unwrap_optional(hints.get(param.name, str))
        flag = "--" + param.name.replace("_", "-")
        required = param.default is inspect.Parameter.empty
        default = None if required else param.default
        help_text = docs.get(param.name, "").replace("%", "%%")  # argparse formats help with %
        if kind is bool:
            target.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif typing.get_origin(kind) is list:
            (item,) = typing.get_args(kind) or (str,)
            target.add_argument(flag, action="append", type=item, default=default, required=required,
                                metavar=param.name.upper(), help=f"{help_text} (repeatable)")
        elif typing.get_origin(kind) is typing.Literal:
            choices = typing.get_args(kind)
            target.add_argument(flag, type=type(choices[0]), choices=choices, default=default, required=required,
                                help=help_text)
        else:
            metavar = param.name.upper() if kind is str else kind.__name__.upper()
            target.add_argument(flag, type=kind, default=default, required=required, metavar=metavar,
                                help=help_text)
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Prefect's logs")
    parser.add_argument("--json", action="store_true", help="print the run's counts as JSON at the end")
    return parser


def _list() -> int:
    width = max(len(n) for n in FLOWS)
    for name, (_, _, description) in FLOWS.items():
        print(f"{name:<{width}}  {description}")
    return 0


def _connect(debug: bool) -> None:
    """Use the server of `flows server start` when no Prefect API is configured; say so where it matters."""
    from flows.local_server import connect

    choice = connect()
    if choice.warning:
        print(f"flows: {choice.warning}", file=sys.stderr)
    elif choice.source == "flows server" and (debug or sys.stderr.isatty()):
        print(f"flows: Prefect API {choice.url} (started by `flows server start`)", file=sys.stderr)
    elif choice.source == "ephemeral":  # in a log too: otherwise the first seconds pass in silence
        print("flows: no Prefect server, so Prefect starts a temporary one (10-20 s); `flows server start` once "
              "makes later runs start in seconds", file=sys.stderr)


@contextlib.contextmanager
def _without_heartbeats() -> Iterator[None]:
    """No flow-run heartbeats, unless the user asked for them.

    Prefect 3.8 joins each flow run's heartbeat thread at exit, and that thread sleeps in 1 s steps: up to 1 s of
    wall time per flow run, for an event that only crash-detection automations read. A `flows run` process
    reports its own crash; deployments (workers) keep their heartbeats because they never pass through here.
    """
    if HEARTBEAT_SETTINGS & os.environ.keys():
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _quiet_prefect_services() -> None:
    """Prefect's background services log under their class names, outside the `prefect` logger that
    PREFECT_LOGGING_LEVEL quiets: at exit, "EventsWorker - Still processing items" would follow our one-line
    messages whenever task-run events are still being sent. Their errors still show."""
    for name in ("EventsWorker", "APILogWorker"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _run(name: str, argv: list[str]) -> int:
    if name not in FLOWS:
        print(f"flows: unknown flow {name!r}; `flows list` shows the flows", file=sys.stderr)
        return 2
    if not {"-h", "--help"} & set(argv):
        try:  # before the flow's module (and Prefect, seconds to import) is loaded
            preflight(name, early_args(name, argv))
        except UsageError as exc:
            print(f"flows run {name}: {exc}", file=sys.stderr)
            return 2
    flow = load_flow(name)
    args = vars(build_parser(name, flow.fn).parse_args(argv))
    debug = args.pop("debug")
    as_json = args.pop("json")
    if not debug:
        _quiet_prefect_services()
    _connect(debug)
    try:
        with _without_heartbeats():
            result = flow(**args)
    except KeyboardInterrupt:
        print("flows: interrupted; re-run the same command to resume (finished shards are kept)", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        usage = type(exc).__name__ in USAGE_ERRORS
        hint = "" if usage else " (re-run with --debug for the traceback; finished shards are kept)"
        print(f"flows run {name}: {plain_error(exc)}{hint}", file=sys.stderr)
        return 2 if usage else 1
    _print_summary(name, result, args.get("out"), as_json)
    failures = result.get("failures") if isinstance(result, dict) else None
    if failures:
        print(f"flows run {name}: {len(failures)} shard(s) failed: {failures[0]['error']} — re-run to retry them",
              file=sys.stderr)
        return 1
    return 0


def _print_summary(name: str, result: Any, out: str | None, as_json: bool) -> None:
    """A short human summary on stdout (the answer, for an audit); counts as JSON only with --json."""
    counts = result.get("counts") if isinstance(result, dict) else None
    if as_json:
        print(json.dumps({"flow": name, "counts": counts, "out": out}, indent=2, default=str))
    elif name in ("quality-audit", "forecast") and out:
        from flows.summary import summary_lines

        print("\n".join(summary_lines(out)))
    elif counts and "documents" in counts:
        print(f"flows run {name}: {counts['documents']:,} documents from {counts.get('files', 0):,} file(s) "
              f"into {out}")
    elif isinstance(result, str):
        print(result)
    else:
        print(f"flows run {name}: done" + (f" ({out})" if out else ""))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--debug" not in argv:  # before Prefect is imported: our one-line messages replace its logs
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        if argv[:1] == ["run"]:  # and the temporary server's: its services' shutdown noise came after "done"
            os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
    parser = argparse.ArgumentParser(prog="flows", description="peakdata flows: measure text stocks, forecast.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the flows")
    run = sub.add_parser("run", help="run a flow: flows run NAME [--param value ...]; NAME --help lists them",
                         add_help=False)
    run.add_argument("name", nargs="?")
    sub.add_parser("deploy", help="register every flow's deployment from infra/prefect.yaml", add_help=False)
    sub.add_parser("serve", help="serve the deployments from this process (no work pool needed)", add_help=False)
    sub.add_parser("server", help="start|stop|status|env of a background Prefect server that `flows run` reuses",
                   add_help=False)
    if argv[:1] == ["server"]:
        from flows import local_server  # no Prefect import: status answers at once

        return local_server.main(argv[1:])
    if argv[:1] in (["deploy"], ["serve"]):
        from flows import deployments  # Prefect deployment machinery only when asked for

        return deployments.deploy_main(argv[1:]) if argv[0] == "deploy" else deployments.serve_main(argv[1:])
    if len(argv) >= 1 and argv[0] == "run":
        if len(argv) < 2 or argv[1].startswith("-"):
            print("usage: flows run NAME [--param value ...]   (flows list shows NAME)", file=sys.stderr)
            return 2
        return _run(argv[1], argv[2:])
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list()
    return 2


if __name__ == "__main__":
    sys.exit(main())
