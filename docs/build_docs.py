"""Write docs/flows.md, every flow's options as tables, from the flows' signatures and docstrings.

The README is written by hand (a user's manual of a few hundred lines); this reference page is generated so
that it cannot drift from the code. `python docs/build_docs.py` rewrites it; `--check` exits 1 when it is not
what the code gives (a test runs it).
"""

from __future__ import annotations

import inspect
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "flows.md"
INTRO = (
    "`flows list` prints every flow; `flows run NAME --help` prints these options (types, defaults and help come "
    "from the code). Every flow also takes `--debug` (tracebacks and Prefect's logs) and `--json` (the run's "
    "counts as JSON at the end). Exit codes: 0 success, 2 a mistake in the options (said before anything starts), "
    "1 failure with a one-line message. `quality-audit` takes every option of the stages it runs, each with the "
    "stage's default and help."
)


def _type_name(annotation: object) -> str:
    from flows.cli import _unwrap_optional

    kind = _unwrap_optional(annotation)
    if typing.get_origin(kind) is typing.Literal:
        return " \\| ".join(str(a) for a in typing.get_args(kind))
    if typing.get_origin(kind) is list:
        return "list (repeat the option)"
    return getattr(kind, "__name__", str(kind))


def flow_tables() -> str:
    """One table per flow from its signature and docstring, as `flows run NAME --help` shows them."""
    from flows.compose import doc_args, option_sources
    from flows.registry import FLOWS, load_flow

    out = ["# Flows and their options", "", INTRO, ""]
    for name, (_module, _attr, description) in FLOWS.items():
        fn = load_flow(name).fn
        hints, docs, sources = typing.get_type_hints(fn), doc_args(fn), option_sources(fn)
        stage_column = bool(sources)
        head = "| option | type | default | meaning |" + (" stage |" if stage_column else "")
        out += [f"## `flows run {name}`", "", description + ".", "", head,
                "|---|---|---|---|" + ("---|" if stage_column else "")]
        for p in inspect.signature(fn).parameters.values():
            default = ("required" if p.default is inspect.Parameter.empty
                       else "—" if p.default is None else f"`{p.default}`")
            meaning = docs.get(p.name, "").replace("|", "\\|")
            row = (f"| `--{p.name.replace('_', '-')}` | {_type_name(hints.get(p.name, str))} | {default} | "
                   f"{meaning} |")
            out.append(row + (f" {sources.get(p.name, '')} |" if stage_column else ""))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    text = flow_tables()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/flows.md is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"docs/flows.md: {text.count(chr(10)):,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
