"""Trials for the analysis tests: the facts a report is built from, made here with the verdict,
cost and wall time a test chooses (armbench.analysis.facts.TrialFacts)."""

from __future__ import annotations

from typing import Any

from armbench.analysis.facts import TrialFacts
from armbench.core import Usage


def trial_facts(
    arm: str,
    i: int,
    passed: bool,
    cost: float,
    *,
    wall_s: float = 1.0,
    task: str = "t",
    **extra: Any,
) -> TrialFacts:
    """Replicate i + 1 of a solo `arm` on `task`."""
    return TrialFacts(
        trial_id=f"{arm}.{i}",
        arm=arm,
        arm_kind="solo",
        task=task,
        replicate=i + 1,
        seed=i,
        status="pass" if passed else "fail",
        infra_class=None,
        wall_s=wall_s,
        iterations=1,
        simulated=False,
        tokens=Usage(input=1),
        cost_by_role={"solo": cost},
        **extra,
    )
