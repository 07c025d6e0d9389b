"""quality-audit takes each option once, from the stage that declares it: one default and one help text."""

from __future__ import annotations

import inspect

import pytest

from flows.compose import ConflictingOption, compose_signature, composed, routed


def _sample(input: list[str] | None = None, out: str = "o", seed: int = 0) -> dict:
    """Sample.

    Args:
        input: Files to read.
        out: Run directory.
        seed: Seed of every random choice.
    """
    return {}


def _dedup(out: str = "o", near: bool = True, seed: int = 0) -> dict:
    """Dedup.

    Args:
        out: Run directory (read).
        near: Cluster near-duplicates.
        seed: Seed of the MinHash permutations.
    """
    return {}


def test_union_in_first_seen_order_with_the_first_description():
    sig, annotations, docs = compose_signature([_sample, _dedup])
    assert list(sig.parameters) == ["input", "out", "seed", "near"]
    assert sig.parameters["near"].default is True and annotations["near"] is bool
    assert docs["out"] == "Run directory." and docs["near"] == "Cluster near-duplicates."


def test_stages_that_disagree_on_an_option_are_refused():
    def other(seed: int = 1) -> dict:
        return {}

    with pytest.raises(ConflictingOption, match="'seed'"):
        compose_signature([_sample, other])


def test_routing_gives_each_stage_only_its_options():
    options = {"input": ["a"], "out": "run", "seed": 7, "near": False}
    assert routed(_dedup, options) == {"out": "run", "near": False, "seed": 7}
    assert routed(_sample, options, seed=3) == {"input": ["a"], "out": "run", "seed": 3}


def test_composed_function_documents_every_option():
    @composed("Both stages.", [_sample, _dedup])
    def both(**options):
        return options

    assert list(inspect.signature(both).parameters) == ["input", "out", "seed", "near"]
    assert "near: Cluster near-duplicates." in both.__doc__
    assert both(out="x") == {"out": "x"}


def test_quality_audit_reaches_every_stage_option():
    """Every option of every stage flow is an option of quality-audit, with the stage's default."""
    from flows.quality_audit import STAGE_FLOWS, quality_audit

    audit = inspect.signature(quality_audit.fn).parameters
    for stage in STAGE_FLOWS:
        for name, param in inspect.signature(stage.fn).parameters.items():
            assert name in audit, (stage.name, name)
            assert audit[name].default == param.default, (stage.name, name)
