"""Layers point down only: flows → filters/stats/forecasts, never back up.

The imports are read with `ast` from the source of every module (function-level imports included), so
an arrow back up fails here instead of turning into an import cycle at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOWER = ("filters", "stats", "forecasts")


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a file imports, absolute names; relative imports resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join((*base, node.module or "")).strip("."))
            else:
                names.add(node.module or "")
    return names


def upward_imports(root: Path = ROOT) -> list[str]:
    """'file: module' for each import of `flows` from a lower layer."""
    found = []
    for layer in LOWER:
        for path in sorted((root / layer).rglob("*.py")):
            for name in sorted(imported_modules(path, root)):
                if name == "flows" or name.startswith("flows."):
                    found.append(f"{path.relative_to(root)}: {name}")
    return found


def test_lower_layers_never_import_flows() -> None:
    assert upward_imports() == [], "filters/, stats/ and forecasts/ must not import flows"


def test_the_check_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "a.py").write_text("def f():\n    from flows.sources import records\n")
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "b.py").write_text("import flows.rundir as r\nimport numpy\n")
    (tmp_path / "forecasts").mkdir()
    (tmp_path / "forecasts" / "c.py").write_text("from . import model\n")
    assert upward_imports(tmp_path) == ["filters/a.py: flows.sources", "stats/b.py: flows.rundir"]
