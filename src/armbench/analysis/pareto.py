"""Pareto frontiers of a task: which arms no other beats on both axes, with the evidence.

Two pairs of axes, both minimised: cost_wall (median cost and median wall of passing trials)
and cost_success (mean cost per judged attempt, and pass rate). An arm leaves a frontier only
when another beats its resampled point on both axes in enough resamples — 95% Bonferroni-
corrected over the ordered pairs of arms — never because its point estimate happens to sit
behind another's. Each point's note says why it is where it is, when that needs saying.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from armbench.analysis import stats
from armbench.analysis.facts import TrialFacts
from armbench.analysis.report_model import Cell, Dominance, ParetoPoint

Axes = Literal["cost_wall", "cost_success"]
DOMINANCE_SUPPORT = 0.95
"""An arm leaves the Pareto frontier only when another dominates it in this share of bootstrap
resamples, Bonferroni-corrected over the ordered pairs of arms (`ParetoPoint.support_needed`)
— not because its point estimate happens to sit behind another's."""
MIN_N_DOMINANCE = 3
"""Fewer judged trials than this and an arm's dominance on cost × success is not judged (one
or two trials say next to nothing about a pass rate)."""


def _resampled_points(
    trials: list[TrialFacts], axes: str, rng: np.random.Generator, resamples: int
) -> np.ndarray | None:
    """(resamples × 2) draws of an arm's point on `axes`, both coordinates to be minimised;
    None when the arm has too few trials for its dominance to be judged (`MIN_N_DOMINANCE`).

    cost_wall: medians of resampled passing trials. cost_success: the mean cost of resampled
    judged trials, and minus a pass rate drawn from its Jeffreys posterior Beta(x + ½, n - x + ½):
    resampling 0/1 outcomes instead would make an arm that passed all of three trials pass
    all of every resample, and so never be beaten on success however few its trials."""
    if axes == "cost_wall":
        passed = [t for t in trials if t.passed]
        if len(passed) < stats.MIN_N_FOR_INTERVAL:
            return None
        values = np.array([[t.cost_usd, t.wall_s] for t in passed])
        rows = rng.integers(0, len(passed), size=(resamples, len(passed)))
        medians: np.ndarray = np.median(values[rows], axis=1)
        return medians
    judged = [t for t in trials if t.judged]
    if len(judged) < MIN_N_DOMINANCE:
        return None
    cost = np.array([t.cost_usd for t in judged])
    rows = rng.integers(0, len(judged), size=(resamples, len(judged)))
    wins = sum(t.passed for t in judged)
    rate = rng.beta(wins + 0.5, len(judged) - wins + 0.5, size=resamples)
    return np.column_stack([cost[rows].mean(axis=1), -rate])


def _point(cell: Cell, axes: Axes) -> tuple[float, float] | None:
    """The arm's point estimate on `axes`, as its cell states it; None without the data."""
    if axes == "cost_wall":
        x, y = cell.success_median.cost_usd, cell.success_median.wall_s
    else:
        x, y = cell.mean_cost_usd, cell.pass_rate
    return None if x is None or y is None else (x, y)


def pareto(
    task: str, arms: dict[str, list[TrialFacts]], cells: dict[str, Cell], seed: int, resamples: int
) -> list[ParetoPoint]:
    points: list[ParetoPoint] = []
    all_axes: tuple[Axes, ...] = ("cost_wall", "cost_success")
    for axes in all_axes:
        placed = {arm: p for arm in sorted(arms) if (p := _point(cells[arm], axes)) is not None}
        boots = {
            arm: b
            for arm in placed
            if (
                b := _resampled_points(
                    arms[arm], axes, stats.rng_for(arm, task, axes, seed=seed), resamples
                )
            )
            is not None
        }
        # Bonferroni over every ordered pair of ranked arms: that no arm leaves the frontier
        # wrongly holds for the task's whole frontier, not for each pair alone.
        needed = 1 - (1 - DOMINANCE_SUPPORT) / max(len(boots) * (len(boots) - 1), 1)
        for arm, point in placed.items():
            dominated_by = _dominated_by(arm, boots) if arm in boots else []
            on_frontier = all(d.support < needed for d in dominated_by)
            points.append(
                ParetoPoint(
                    task=task,
                    axes=axes,
                    arm=arm,
                    x=point[0],
                    y=point[1],
                    on_frontier=on_frontier,
                    dominated_by=dominated_by,
                    support_needed=round(needed, 6),
                    note=_note(axes, arm in boots, dominated_by, on_frontier, needed),
                )
            )
    return points


def _dominated_by(arm: str, boots: dict[str, np.ndarray]) -> list[Dominance]:
    """Every other ranked arm that beats `arm` on both axes in at least half the resamples."""
    found = []
    for other in sorted(boots):
        if other == arm:
            continue
        mine, theirs = boots[arm], boots[other]
        dominates = np.all(theirs <= mine, axis=1) & np.any(theirs < mine, axis=1)
        support = float(dominates.mean())
        if support >= 0.5:
            found.append(Dominance(arm=other, support=round(support, 4)))
    return found


def _note(
    axes: Axes, ranked: bool, dominated_by: list[Dominance], on_frontier: bool, needed: float
) -> str | None:
    """Why the arm is where it is, when that needs saying."""
    if not ranked:
        return _too_few_to_rank(axes)
    if not dominated_by:
        return None
    top = max(dominated_by, key=lambda d: d.support)
    if on_frontier:
        return (
            f"stays on the frontier: {top.arm} beats it on both axes in {top.support:.0%} of "
            f"resamples, short of the {needed:.1%} needed"
        )
    return f"dominated by {top.arm} in {top.support:.1%} of resamples"


def _too_few_to_rank(axes: Axes) -> str:
    if axes == "cost_wall":
        return (
            f"fewer than {stats.MIN_N_FOR_INTERVAL} passes: its medians are too uncertain to "
            "judge dominance, so it stays on the frontier"
        )
    return (
        f"fewer than {MIN_N_DOMINANCE} judged trials: too few to judge dominance, so it "
        "stays on the frontier"
    )
