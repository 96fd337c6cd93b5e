"""Building a report from a run directory: cells, comparisons, Pareto frontiers, decisions.

Everything is computed from the ledger (armbench.analysis.facts) and a rate card; the
statistics are in armbench.analysis.stats and the schema in armbench.analysis.report_model.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from armbench.analysis import ratio, stats
from armbench.analysis.decision import SIGNIFICANCE, decide
from armbench.analysis.facts import RunFacts, TrialFacts, load_run_facts
from armbench.analysis.noninferiority import DEFAULT_MARGIN
from armbench.analysis.report_model import (
    Cell,
    Comparison,
    Decision,
    Dominance,
    MedianIntervals,
    Medians,
    PairedTest,
    ParetoPoint,
    Report,
)
from armbench.analysis.summary import arm_spend, mean, mean_cost_by_role, median
from armbench.core import TOKEN_KINDS, VERSION

Metric = Literal["cost_usd", "wall_s", "iterations", "success"]
Axes = Literal["cost_wall", "cost_success"]
DOMINANCE_SUPPORT = 0.95
"""An arm leaves the Pareto frontier only when another dominates it in this share of bootstrap
resamples, Bonferroni-corrected over the ordered pairs of arms (`ParetoPoint.support_needed`)
— not because its point estimate happens to sit behind another's."""
MIN_N_DOMINANCE = 3
"""Fewer judged trials than this and an arm's dominance on cost × success is not judged (one
or two trials say next to nothing about a pass rate)."""
NUMERIC_METRICS: dict[str, Callable[[TrialFacts], float]] = {
    "cost_usd": lambda t: t.cost_usd,
    "wall_s": lambda t: t.wall_s,
    "iterations": lambda t: float(t.iterations),
}


def _cell(arm: str, task: str, trials: list[TrialFacts]) -> Cell:
    judged = [t for t in trials if t.judged]
    passed = [t for t in judged if t.passed]
    n_pass = len(passed)
    columns = {name: [get(t) for t in passed] for name, get in NUMERIC_METRICS.items()}
    intervals = stats.median_intervals(columns)
    roles = sorted({r for t in passed for r in t.tokens_by_role})
    costs = [t.cost_usd for t in judged]
    wins = [t.passed for t in judged]
    ecps_ci = ratio.expected_cost_interval(costs, wins)
    taxes = [t.tax for t in judged if t.tax is not None]
    measured_tax = trials[0].arm_kind == "orchestrated" and bool(taxes)
    clouds = [t.cloud for t in judged if t.cloud is not None]
    calls = [c.calls for c in clouds if c.calls is not None]
    cloud = stats.pooled_share([[(c.cloud_tokens, c.served_tokens)] for c in clouds])
    return Cell(
        arm=arm,
        arm_kind=trials[0].arm_kind,
        task=task,
        n=len(trials),
        n_pass=n_pass,
        n_fail=sum(t.status == "fail" for t in trials),
        n_limit=sum(t.status == "limit" for t in trials),
        n_infra=len(trials) - len(judged),
        infra_classes=dict(Counter(str(t.infra_class) for t in trials if not t.judged)),
        pass_rate=n_pass / len(judged) if judged else None,
        pass_rate_itt=n_pass / len(trials),
        pass_rate_ci=stats.wilson(n_pass, len(judged)),
        success_median=Medians(**{k: median(v) for k, v in columns.items()}),
        success_median_ci=MedianIntervals(**intervals),
        interval_note=stats.too_few_for_interval(n_pass),
        success_median_tokens={
            kind: median([getattr(t.tokens, kind) for t in passed]) for kind in TOKEN_KINDS
        },
        success_median_tokens_by_role={
            role: {
                kind: median(
                    [
                        getattr(t.tokens_by_role[role], kind)
                        for t in passed
                        if role in t.tokens_by_role
                    ]
                )
                for kind in TOKEN_KINDS
            }
            for role in roles
        },
        mean_cost_usd=mean(costs),
        mean_cost_by_role=mean_cost_by_role(judged),
        expected_cost_per_success=ratio.expected_cost_per_success(costs, wins),
        expected_cost_per_success_ci=None if ecps_ci is None else (ecps_ci.low, ecps_ci.high),
        expected_cost_per_success_method=None if ecps_ci is None else ecps_ci.method,
        delegation_tax_tokens=mean(x.tokens for x in taxes) if measured_tax else None,
        delegation_tax_usd=mean(x.usd for x in taxes) if measured_tax else None,
        delegation_tax_estimated=any(x.estimated for x in taxes),
        cloud_fraction_calls=mean(calls),
        cloud_fraction_tokens=None if cloud is None else cloud[0],
        cloud_fraction_tokens_ci=None if cloud is None else cloud[1],
        unmeasured_roles=sorted({r for t in trials for r in t.unmeasured_roles}),
        simulated=any(t.simulated for t in trials),
    )


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
    paired: stats.Paired | None = None
    if metric == "success":
        ja, jb = [t for t in trials_a if t.judged], [t for t in trials_b if t.judged]
        xs_a, xs_b = [float(t.passed) for t in ja], [float(t.passed) for t in jb]
        pa, pb = _paired_values(ja, jb, lambda t: t.passed) if pairable else ([], [])
        if pa:
            paired = stats.paired_binary([v > 0 for v in pa], [v > 0 for v in pb])
    else:
        get = NUMERIC_METRICS[metric]
        pass_a = [t for t in trials_a if t.passed]
        pass_b = [t for t in trials_b if t.passed]
        xs_a, xs_b = [get(t) for t in pass_a], [get(t) for t in pass_b]
        pa, pb = _paired_values(pass_a, pass_b, get) if pairable else ([], [])
        if pa:
            paired = stats.paired_numeric(pa, pb)
    if not xs_a or not xs_b:
        return None
    mw = stats.mann_whitney(xs_a, xs_b)
    testable = stats.smallest_exact_p(len(xs_a), len(xs_b)) < SIGNIFICANCE
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
        paired=None if paired is None else PairedTest(**paired.__dict__),
    )


def _comparisons(task: str, arms: dict[str, list[TrialFacts]], pairable: bool) -> list[Comparison]:
    out: list[Comparison] = []
    metrics: tuple[Metric, ...] = ("cost_usd", "wall_s", "iterations", "success")
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
        out += [c.model_copy(update={"p_holm": p}) for c, p in zip(family, adjusted, strict=True)]
    return out


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


def _pareto(
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
            dominated_by = []
            for other in sorted(boots):
                if other == arm or arm not in boots:
                    continue
                mine, theirs = boots[arm], boots[other]
                dominates = np.all(theirs <= mine, axis=1) & np.any(theirs < mine, axis=1)
                support = float(dominates.mean())
                if support >= 0.5:
                    dominated_by.append(Dominance(arm=other, support=round(support, 4)))
            on_frontier = all(d.support < needed for d in dominated_by)
            note = _too_few_to_rank(axes) if arm not in boots else None
            if on_frontier and dominated_by:
                top = max(dominated_by, key=lambda d: d.support)
                note = (
                    f"stays on the frontier: {top.arm} beats it on both axes in "
                    f"{top.support:.0%} of resamples, short of the {needed:.1%} needed"
                )
            elif not on_frontier:
                top = max(dominated_by, key=lambda d: d.support)
                note = f"dominated by {top.arm} in {top.support:.1%} of resamples"
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
                    note=note,
                )
            )
    return points


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


def _notes(
    facts: list[TrialFacts], cells: list[Cell], imported: dict[str, object] | None
) -> list[str]:
    notes: list[str] = []
    if any(t.simulated for t in facts):
        notes.append("Simulated models: these numbers exercise the harness, not real models.")
    if imported:
        listed = imported.get("notes")
        notes += [str(n) for n in listed] if isinstance(listed, list) else []
    unmeasured = sorted({(c.arm, r) for c in cells for r in c.unmeasured_roles})
    if unmeasured:
        listed = ", ".join(f"{arm} ({role})" for arm, role in unmeasured)
        notes.append(
            f"Tokens never recorded for: {listed}. Their cost is unknown, not $0; the cost "
            "columns of those arms leave it out."
        )
    infra = [t for t in facts if not t.judged]
    if infra:
        spent = sum(t.cost_usd for t in infra)
        notes.append(
            f"{len(infra)} infra error(s) are excluded from pass rates, medians and expected "
            "cost (they measure the provider or harness, not the arm); `pass_rate_itt` counts "
            f"them as misses. Their calls cost ${spent:.4f}, counted in each arm's `spent_usd` "
            "beside `spent_judged_usd`; `infra_rate` per arm, and `infra_rates_p` tests "
            "whether arms differ in it."
        )
    small = [c for c in cells if c.interval_note is not None and c.n_pass]
    if small:
        notes.append(
            f"{len(small)} cell(s) have fewer than {stats.MIN_N_FOR_INTERVAL} passes: their "
            "medians are shown without intervals, since none can be stated honestly."
        )
    return notes


def _earlier_note(run: RunFacts) -> list[str]:
    """Retried trials count once, as their latest attempt; what the earlier ones cost is
    still money the run spent."""
    earlier = run.earlier
    if not earlier.count:
        return []
    return [
        f"{earlier.count} earlier attempt(s) of {len(earlier.by_trial)} trial(s) retried after "
        f"infra errors are kept in the run's history and left out of every cell; their calls "
        f"cost ${earlier.cost_usd:.4f}, part of the run's ${run.spent_usd:.4f}."
    ]


def build_report(
    path: Path,
    *,
    rate_card: Path | None = None,
    seed: int = 0,
    margin: float = DEFAULT_MARGIN,
) -> Report:
    """The report of the run in `path`, priced with its own rate card or with `rate_card` for
    the models that card names; decisions at the non-inferiority `margin` (in pass rate)."""
    run = load_run_facts(path, rate_card=rate_card)
    manifest, card, facts = run.manifest, run.rate_card, run.trials
    by_cell: dict[tuple[str, str], list[TrialFacts]] = {}
    for t in facts:
        by_cell.setdefault((t.task, t.arm), []).append(t)
    cells = [_cell(arm, task, trials) for (task, arm), trials in sorted(by_cell.items())]
    comparisons: list[Comparison] = []
    pareto: list[ParetoPoint] = []
    decisions: list[Decision] = []
    for task in sorted({t.task for t in facts}):
        arms = {arm: trials for (k, arm), trials in by_cell.items() if k == task}
        # Imported trials were not seeded: the same number says nothing about their workspace.
        comparisons += _comparisons(task, arms, pairable=manifest.imported is None)
        task_cells = {c.arm: c for c in cells if c.task == task}
        pareto += _pareto(task, arms, task_cells, seed, stats.BOOTSTRAP_RESAMPLES)
        decisions.append(decide(task, list(task_cells.values()), arms, margin, seed))
    by_arm: dict[str, list[TrialFacts]] = {}
    for t in facts:
        by_arm.setdefault(t.arm, []).append(t)
    spends = [arm_spend(arm, trials) for arm, trials in sorted(by_arm.items())]
    infra_p = stats.rates_differ(
        [(a.n_infra, a.trials) for a in spends], stats.rng_for("infra", seed=seed)
    )
    return Report(
        run_id=manifest.run_id,
        name=manifest.name,
        armbench_version=VERSION,
        simulated=manifest.simulated or any(t.simulated for t in facts),
        imported=manifest.imported,
        rate_card_source=card.source,
        notes=_notes(facts, cells, manifest.imported) + _earlier_note(run),
        confidence=stats.CONFIDENCE,
        margin=margin,
        bootstrap_resamples=stats.BOOTSTRAP_RESAMPLES,
        bootstrap_seed=seed,
        dominance_support=DOMINANCE_SUPPORT,
        trials=len(facts),
        statuses=dict(Counter(t.status for t in facts)),
        infra_classes=dict(Counter(str(t.infra_class) for t in facts if not t.judged)),
        infra_rates_p=infra_p,
        cells=cells,
        comparisons=comparisons,
        pareto=pareto,
        decisions=decisions,
        arms=spends,
    )
