"""Which arm to use for a task: the cheapest whose success is shown not to be worse than the
best arm's by more than a declared margin.

1. **The best arm** is the one with the highest pass rate over judged trials; among arms tied
   on it, the one with the most judged trials, then the cheapest per success (the data give
   no ground to prefer one on success). It is always a candidate.
2. **Every other arm is tested against it for non-inferiority** at the margin (one-sided
   Miettinen-Nurminen score test, armbench.analysis.noninferiority), and the p-values of
   those tests are Holm-adjusted together: an arm is a candidate when its adjusted p is
   below the significance level. Overlapping intervals are not evidence of equivalence; a
   small arm that cannot show non-inferiority is not a candidate, whatever its point
   estimate. (The old rule — a Wilson upper bound reaching the best arm's lower bound — let
   5 of 10 qualify against 10 of 10.)
3. **The pick is the cheapest candidate by expected cost per success**, with the uncertainty
   of that ranking stated: the share of bootstrap resamples (each arm's judged trials
   resampled on their own) in which it is still the cheapest candidate. A candidate whose
   cost is incomplete (a role with no recorded tokens) has a lower bound for a cost: it is
   never picked over a complete one it might exceed, and is named instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from armbench.analysis import stats
from armbench.analysis.facts import TrialFacts
from armbench.analysis.noninferiority import non_inferiority
from armbench.analysis.report_model import Cell, Decision, NonInferiorityTest


def _tests(best: Cell, others: Sequence[Cell], margin: float) -> list[NonInferiorityTest]:
    judged = best.n - best.n_infra
    confidence = 1 - stats.SIGNIFICANCE
    results = [
        non_inferiority(c.n_pass, c.n - c.n_infra, best.n_pass, judged, margin, confidence)
        for c in others
    ]
    adjusted = stats.holm([r.p for r in results])
    return [
        NonInferiorityTest(
            arm=cell.arm,
            difference=r.difference,
            lower_bound=r.lower_bound,
            p=r.p,
            p_holm=p,
            non_inferior=p < stats.SIGNIFICANCE,
        )
        for cell, r, p in zip(others, results, adjusted, strict=True)
        if p is not None  # every p is given, so Holm gives every one back
    ]


def _cheapest_support(
    pick: str, candidates: Sequence[str], trials: Mapping[str, list[TrialFacts]], seed: int
) -> float | None:
    """Share of resamples in which `pick` has the lowest expected cost per success among the
    candidates (a resample without a pass costs infinitely much per success)."""
    if len(candidates) < 2:
        return None
    resampled = {}
    for arm in candidates:
        judged = [t for t in trials[arm] if t.judged]
        cost = np.array([t.cost_usd for t in judged])
        win = np.array([t.passed for t in judged], dtype=float)
        rng = stats.rng_for(arm, "cheapest", seed=seed)
        rows = rng.integers(0, len(judged), size=(stats.BOOTSTRAP_RESAMPLES, len(judged)))
        wins = win[rows].sum(axis=1)
        with np.errstate(divide="ignore"):
            resampled[arm] = np.where(wins > 0, cost[rows].sum(axis=1) / wins, np.inf)
    others = np.min([resampled[a] for a in candidates if a != pick], axis=0)
    return float(np.mean(resampled[pick] < others))


def _cost(cell: Cell) -> float:
    """Expected cost per success, infinite where nothing passed (a free arm costs 0, not
    nothing: it must rank first, not last)."""
    return np.inf if cell.expected_cost_per_success is None else cell.expected_cost_per_success


def _no_pick(task: str, reason: str, best: Cell | None, margin: float) -> Decision:
    return Decision(
        task=task,
        arm=None,
        expected_cost_per_success=None,
        pass_rate=None,
        best_arm=None if best is None else best.arm,
        best_pass_rate=None if best is None else best.pass_rate,
        margin=margin,
        tests=[],
        candidates=[],
        cheapest_support=None,
        cost_lower_bound=False,
        incomplete_cost=[],
        reason=reason,
    )


def decide(
    task: str,
    cells: Sequence[Cell],
    trials: Mapping[str, list[TrialFacts]],
    margin: float,
    seed: int,
) -> Decision:
    """The decision for `task` (module docstring)."""
    rated = [c for c in cells if c.pass_rate is not None]
    if not rated:
        return _no_pick(task, "every trial of this task was an infra error", None, margin)
    best = max(
        rated,
        key=lambda c: (
            c.pass_rate or 0.0,
            c.n - c.n_infra,
            -_cost(c),
            c.arm,
        ),
    )
    if not best.n_pass:
        return _no_pick(task, "no arm passed this task", best, margin)
    tests = _tests(best, [c for c in rated if c.arm != best.arm], margin)
    shown = {t.arm for t in tests if t.non_inferior}
    candidates = [c for c in rated if c.arm == best.arm or c.arm in shown]
    complete = [c for c in candidates if not c.unmeasured_roles] or candidates
    pick = min(complete, key=lambda c: (_cost(c), c.arm))
    assert pick.expected_cost_per_success is not None
    incomplete = sorted(
        c.arm
        for c in candidates
        if c.unmeasured_roles and c.arm != pick.arm and _cost(c) < pick.expected_cost_per_success
    )
    names = sorted(c.arm for c in candidates)
    support = _cheapest_support(pick.arm, names, trials, seed)
    reason = _reason(best, tests, pick, support, incomplete, margin)
    return Decision(
        task=task,
        arm=pick.arm,
        expected_cost_per_success=pick.expected_cost_per_success,
        pass_rate=pick.pass_rate,
        best_arm=best.arm,
        best_pass_rate=best.pass_rate,
        margin=margin,
        tests=tests,
        candidates=names,
        cheapest_support=support,
        cost_lower_bound=bool(pick.unmeasured_roles),
        incomplete_cost=incomplete,
        reason=reason,
    )


def _reason(
    best: Cell,
    tests: Sequence[NonInferiorityTest],
    pick: Cell,
    support: float | None,
    incomplete: Sequence[str],
    margin: float,
) -> str:
    shown = [t.arm for t in tests if t.non_inferior]
    head = f"{best.arm} passes most ({best.pass_rate:.0%} of {best.n - best.n_infra})"
    if not tests:
        parts = [f"{head}; no other arm was judged on this task"]
    elif not shown:
        parts = [
            f"{head}; no other arm is shown within {margin:.0%} of it (non-inferiority, "
            f"Holm over {len(tests)} test(s)): more trials could show one"
        ]
    else:
        parts = [
            f"{head}; shown within {margin:.0%} of it: {', '.join(shown)}; cheapest per "
            f"success among them: {pick.arm}"
        ]
        if support is not None:
            parts.append(f"cheapest in {support:.0%} of bootstrap resamples")
    if pick.unmeasured_roles:
        parts.append("its cost leaves out roles never recorded: a lower bound")
    if incomplete:
        parts.append(f"{', '.join(incomplete)} may be cheaper: their cost is incomplete")
    return "; ".join(parts)
