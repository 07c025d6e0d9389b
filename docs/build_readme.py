"""Assemble README.md from docs/readme/*.md and tables generated from the flows' signatures.

The README is the user's manual; its parts are kept one topic per file, and the flow-parameter tables are
generated from the code so that they cannot drift. `make readme` rewrites README.md; `--check` exits 1 when
README.md is not what the parts and the code give (a test runs it).

    .venv/bin/python docs/build_readme.py [--check]
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ROOT / "docs" / "readme"
# Part files in reading order; FLOWS is generated, "core" is split at its Troubleshooting section, which goes
# near the end where users look for it.
ORDER = ("core", "FLOWS", "demo", "commoncrawl", "dedup", "signals", "classifiers", "stocks", "forecast", "report",
         "orchestration", "robustness", "performance", "TROUBLESHOOTING", "development")
FLOWS_INTRO = (
    "`flows list` prints every flow; `flows run NAME --help` prints these tables from the flow's signature (types, "
    "defaults and descriptions come from the code, so they cannot drift). Every flow also takes `--debug` "
    "(tracebacks and Prefect logs). Exit codes: 0 success, 2 usage error, 1 failure with a one-line message. A "
    "progress bar (files, records, docs/s) shows on long stages when attached to a terminal."
)


def normalise(text: str) -> str:
    """Shift a part's headings so that its top level is `##` (parts are written as stand-alone pages)."""
    lines = text.strip().splitlines()
    levels, fence = [], False
    for line in lines:
        fence ^= line.startswith("```")
        if not fence and (m := re.match(r"^(#+) ", line)):
            levels.append(len(m.group(1)))
    shift = 2 - min(levels) if levels else 0
    out, fence = [], False
    for line in lines:
        fence ^= line.startswith("```")
        if not fence and (m := re.match(r"^(#+) (.*)", line)):
            line = "#" * (len(m.group(1)) + shift) + " " + m.group(2)
        out.append(line)
    return "\n".join(out)


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
    from flows.compose import doc_args as _doc_args
    from flows.registry import FLOWS, load_flow

    out = ["## Flows and their parameters", "", FLOWS_INTRO, ""]
    for name, (_module, _attr, description) in FLOWS.items():
        fn = load_flow(name).fn
        hints, docs = typing.get_type_hints(fn), _doc_args(fn)
        out += [f"### `flows run {name}`", "", description + ".", "", "| option | type | default | meaning |",
                "|---|---|---|---|"]
        for p in inspect.signature(fn).parameters.values():
            default = ("required" if p.default is inspect.Parameter.empty
                       else "—" if p.default is None else f"`{p.default}`")
            meaning = docs.get(p.name, "").replace("|", "\\|")
            out.append(f"| `--{p.name.replace('_', '-')}` | {_type_name(hints.get(p.name, str))} | {default} | "
                       f"{meaning} |")
        out.append("")
    return "\n".join(out).rstrip()


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def build() -> str:
    core_main, trouble = (PARTS / "core.md").read_text(encoding="utf-8").split("## Troubleshooting", 1)
    sections = []
    for name in ORDER:
        if name == "core":
            sections.append(normalise(core_main))
        elif name == "FLOWS":
            sections.append(flow_tables())
        elif name == "TROUBLESHOOTING":
            sections.append("## Troubleshooting" + trouble.rstrip())
        else:
            sections.append(normalise((PARTS / f"{name}.md").read_text(encoding="utf-8")))
    titles = [m.group(1) for s in sections for m in re.finditer(r"^## (.*)$", s, flags=re.M)]
    toc = "\n".join(["## Contents", ""] + [f"- [{t}](#{_anchor(t)})" for t in titles])
    intro = (PARTS / "intro.md").read_text(encoding="utf-8").rstrip()
    return intro + "\n\n" + toc + "\n\n" + "\n\n".join(sections) + "\n"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    text, target = build(), ROOT / "README.md"
    if "--check" in sys.argv[1:]:
        if target.read_text(encoding="utf-8") != text:
            print("README.md is out of date: run `make readme`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"README.md: {len(text):,} characters, {text.count(chr(10)):,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
