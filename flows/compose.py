"""One definition per option: a flow made of stages takes its options from the stages' own signatures.

A stage flow's signature is its typed configuration (Prefect validates it, the CLI and its help are generated
from it). `quality-audit` runs every stage, so instead of repeating their options — and letting defaults and
help texts drift — it takes the union of the stages' parameters and hands each stage the ones it declares.
An option shared by several stages (`out`, `seed`, `workers`) must mean the same in each: same type, same
default; `compose_signature` refuses stages that disagree.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any


class ConflictingOption(TypeError):
    """Two stages declare one option with different types or defaults."""


def doc_args(fn: Callable) -> dict[str, str]:
    """Parameter descriptions from the Google-style `Args:` section of a function's docstring."""
    doc = inspect.getdoc(fn) or ""
    section = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    described: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"\s{0,4}(\w+):\s*(.*)", line)
        if match and not line.startswith(" " * 5):
            current = match.group(1)
            described[current] = match.group(2).strip()
        elif current and line.strip():
            described[current] += " " + line.strip()
    return described


def _parameters(fn: Callable) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(fn)
    return [p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(fn).parameters.values()]


def compose_signature(parts: Sequence[Callable]) -> tuple[inspect.Signature, dict[str, Any], dict[str, str]]:
    """The union of the parts' keyword parameters, in first-seen order, with their descriptions.

    Returns the signature, the annotations (for `__annotations__`) and the descriptions by name.
    """
    signature, annotations, docs, _ = _compose(parts)
    return signature, annotations, docs


def _compose(parts: Sequence[Callable]) -> tuple[inspect.Signature, dict[str, Any], dict[str, str], dict[str, str]]:
    params: dict[str, inspect.Parameter] = {}
    docs: dict[str, str] = {}
    owner: dict[str, str] = {}
    for part in parts:
        described = doc_args(part)
        for p in _parameters(part):
            seen = params.get(p.name)
            if seen is None:
                params[p.name], owner[p.name] = p.replace(kind=inspect.Parameter.KEYWORD_ONLY), part.__name__
                docs[p.name] = described.get(p.name, "")
            elif seen.annotation != p.annotation or seen.default != p.default:
                raise ConflictingOption(
                    f"option {p.name!r}: {owner[p.name]} declares {seen.annotation} = {seen.default!r}, "
                    f"{part.__name__} declares {p.annotation} = {p.default!r}; one option must mean one thing")
    annotations = {name: p.annotation for name, p in params.items()}
    return inspect.Signature(list(params.values())), annotations, docs, owner


def option_sources(fn: Callable) -> dict[str, str]:
    """For a composed flow function: which stage each option comes from (empty for any other function)."""
    return dict(getattr(inspect.unwrap(fn), "option_sources", None) or getattr(fn, "option_sources", None) or {})


def _stage_name(owner: str) -> str:
    return owner.strip("_").replace("_", "-")


def routed(stage: Callable, options: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """The options a stage declares, taken from `options` (then `overrides`)."""
    names = inspect.signature(stage).parameters
    return {k: v for k, v in {**options, **overrides}.items() if k in names}


def composed(summary: str, parts: Sequence[Callable]) -> Callable[[Callable], Callable]:
    """Give a `**options` function the composed signature and an `Args:` docstring built from the parts'.

    Apply it below Prefect's `@flow`, which then validates and documents every option like a stage's.
    """
    signature, annotations, docs, owner = _compose(parts)

    def decorate(fn: Callable) -> Callable:
        fn.__signature__ = signature.replace(return_annotation=dict)  # type: ignore[attr-defined]
        fn.__annotations__ = annotations | {"return": dict}
        fn.option_sources = {name: _stage_name(part) for name, part in owner.items()}  # type: ignore[attr-defined]
        args = "\n".join(f"    {name}: {text}" for name, text in docs.items())
        fn.__doc__ = f"{summary}\n\nArgs:\n{args}\n"
        return fn

    return decorate
