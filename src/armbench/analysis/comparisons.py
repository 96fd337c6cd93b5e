"""Comparisons of two arms on one task: rank tests of each metric, paired where replicates
share a workspace, Holm-adjusted within declared families.

A family is one task and one metric: the comparisons of every two arms on it. Within it the
Mann-Whitney p-values are Holm-adjusted, and so, apart, are the paired tests' p-values.
Expected cost per success, a ratio over all judged trials, has its own permutation test
(armbench.analysis.ratio) and its own family per task. A
comparison whose sizes cannot reach the significance level whatever the data is described,
not tested (`testable`), and stays out of its family.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Literal

from armbench.analysis import ratio, stats
from armbench.analysis.facts import TrialFacts
from armbench.analysis.report_model import Comparison, CostPerSuccessTest, PairedTest
from armbench.analysis.summary import median

Metric = Literal["cost_usd", "wall_s", "iterations", "attempt_cost", "success"]
NUMERIC_METRICS: dict[str, Callable[[TrialFacts], float]] = {
    "cost_usd": lambda t: t.cost_usd,
    "wall_s": lambda t: t.wall_s,
    "iterations": lambda t: float(t.iterations),
}
"""The metrics of passing trials (cells report their medians too)."""
OVER_JUDGED: dict[str, Callable[[TrialFacts], float]] = {
    "attempt_cost": lambda t: t.cost_usd,
    "success": lambda t: float(t.passed),
}
"""The metrics of every judged trial, failed ones included."""


def _paired_values(
    a: list[TrialFacts], b: list[TrialFacts], pick: Callable[[TrialFacts], float | bool]
) -> tuple[list[float], list[float]]:
    """Values of the trials of both arms that share a replicate number. In a run armbench made,
    replicate r of every arm starts from the same workspace: its breakage seed is derived from
    the task and r alone (armbench.runner.plan)."""
    by_replicate = {t.replicate: t for t in b}
    pairs = [(pick(t), pick(by_replicate[t.replicate])) for t in a if t.replicate in by_replicate]
    return [float(p[0]) for p in pairs], [float(p[1]) for p in pairs]


def _comparison(
    task: str,
    metric: Metric,
    a: tuple[str, list[TrialFacts]],
    b: tuple[str, list[TrialFacts]],
    pairable: bool,
) -> Comparison | None:
    """`pairable`: replicates with the same number started from the same workspace."""
    (arm_a, trials_a), (arm_b, trials_b) = a, b
    over_judged = metric in OVER_JUDGED
    get = OVER_JUDGED[metric] if over_judged else NUMERIC_METRICS[metric]

    def keep(t: TrialFacts) -> bool:
        return t.judged if over_judged else t.passed

    kept_a, kept_b = [t for t in trials_a if keep(t)], [t for t in trials_b if keep(t)]
    xs_a, xs_b = [get(t) for t in kept_a], [get(t) for t in kept_b]
    if not xs_a or not xs_b:
        return None
    pa, pb = _paired_values(kept_a, kept_b, get) if pairable else ([], [])
    paired: stats.Paired | None = None
    if pa and metric == "success":
        paired = stats.paired_binary([v > 0 for v in pa], [v > 0 for v in pb])
    elif pa:
        paired = stats.paired_numeric(pa, pb)
    mw = stats.mann_whitney(xs_a, xs_b)
    testable = stats.smallest_exact_p(len(xs_a), len(xs_b)) < stats.SIGNIFICANCE
    return Comparison(
        task=task,
        metric=metric,
        a=arm_a,
        b=arm_b,
        n_a=len(xs_a),
        n_b=len(xs_b),
        median_a=median(xs_a),
        median_b=median(xs_b),
        u=mw.u,
        p_exact=mw.p_exact,
        p_exact_method=mw.p_exact_method,
        p_asymptotic=mw.p_asymptotic,
        p_holm=None,
        testable=testable,
        cliffs_delta=mw.cliffs_delta,
        paired=None if paired is None else PairedTest(**paired.__dict__, p_holm=None),
    )


def comparisons(task: str, arms: dict[str, list[TrialFacts]], pairable: bool) -> list[Comparison]:
    """Every two arms on `task`, on each metric, each metric a Holm family."""
    out: list[Comparison] = []
    metrics: tuple[Metric, ...] = ("cost_usd", "wall_s", "iterations", "attempt_cost", "success")
    for metric in metrics:
        family = [
            c
            for (a, b) in itertools.combinations(sorted(arms), 2)
            if (c := _comparison(task, metric, (a, arms[a]), (b, arms[b]), pairable)) is not None
        ]
        adjusted = stats.holm(
            [
                (c.p_exact if c.p_exact is not None else c.p_asymptotic) if c.testable else None
                for c in family
            ]
        )
        paired = stats.holm([c.paired.p if c.paired else None for c in family])
        for c, p, q in zip(family, adjusted, paired, strict=True):
            pair = None if c.paired is None else c.paired.model_copy(update={"p_holm": q})
            out.append(c.model_copy(update={"p_holm": p, "paired": pair}))
    return out


def cost_per_success_tests(
    task: str, arms: dict[str, list[TrialFacts]], seed: int
) -> list[CostPerSuccessTest]:
    """Every two arms on `task` with judged trials, on expected cost per success: one Holm
    family per task."""
    found = []
    for a, b in itertools.combinations(sorted(arms), 2):
        ja = [t for t in arms[a] if t.judged]
        jb = [t for t in arms[b] if t.judged]
        if not ja or not jb:
            continue
        costs_a, wins_a = [t.cost_usd for t in ja], [t.passed for t in ja]
        costs_b, wins_b = [t.cost_usd for t in jb], [t.passed for t in jb]
        rng = stats.rng_for(task, a, b, "cost_per_success", seed=seed)
        test = ratio.cost_per_success_test(costs_a, wins_a, costs_b, wins_b, rng)
        found.append(
            CostPerSuccessTest(
                task=task,
                a=a,
                b=b,
                n_a=len(ja),
                n_b=len(jb),
                expected_cost_per_success_a=ratio.expected_cost_per_success(costs_a, wins_a),
                expected_cost_per_success_b=ratio.expected_cost_per_success(costs_b, wins_b),
                p=test.p,
                method=test.method,
                p_holm=None,
                testable=test.smallest_p < stats.SIGNIFICANCE,
            )
        )
    adjusted = stats.holm([t.p if t.testable else None for t in found])
    return [t.model_copy(update={"p_holm": p}) for t, p in zip(found, adjusted, strict=True)]
