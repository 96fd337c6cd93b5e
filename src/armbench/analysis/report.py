"""Building a report from a run directory: cells, comparisons, Pareto frontiers, decisions.

Everything is computed from the ledger (armbench.analysis.facts) and a rate card. This module
makes the cells and puts the report together; each conclusion has a module of its own
(`comparisons`, `pareto`, `decision`), and the statistics theirs (`stats`, `ratio`,
`noninferiority`). The schema is armbench.analysis.report_model.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from armbench.analysis import ratio, stats
from armbench.analysis.comparisons import NUMERIC_METRICS, cost_per_success_tests
from armbench.analysis.comparisons import comparisons as compare
from armbench.analysis.decision import decide
from armbench.analysis.facts import RunFacts, TrialFacts, load_run_facts
from armbench.analysis.grouping import group_cells, task_groups, unjudged_spend
from armbench.analysis.noninferiority import DEFAULT_MARGIN
from armbench.analysis.pareto import DOMINANCE_SUPPORT
from armbench.analysis.pareto import pareto as frontier
from armbench.analysis.report_model import (
    Cell,
    Comparison,
    CostPerSuccessTest,
    Decision,
    GroupCell,
    MedianIntervals,
    Medians,
    ParetoPoint,
    Report,
)
from armbench.analysis.summary import arm_spend, mean, mean_cost_by_role, median
from armbench.core import TOKEN_KINDS, VERSION


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
    group_by: str | None = None,
) -> Report:
    """The report of the run in `path`, priced with its own rate card or with `rate_card` for
    the models that card names; decisions at the non-inferiority `margin` (in pass rate);
    with `group_by`, arms over groups of tasks sharing that metadata field (GroupingError when
    a task lacks it)."""
    run = load_run_facts(path, rate_card=rate_card)
    manifest, card, facts = run.manifest, run.rate_card, run.trials
    by_cell: dict[tuple[str, str], list[TrialFacts]] = {}
    for t in facts:
        by_cell.setdefault((t.task, t.arm), []).append(t)
    cells = [_cell(arm, task, trials) for (task, arm), trials in sorted(by_cell.items())]
    comparisons: list[Comparison] = []
    per_success: list[CostPerSuccessTest] = []
    pareto: list[ParetoPoint] = []
    decisions: list[Decision] = []
    for task in sorted({t.task for t in facts}):
        arms = {arm: trials for (k, arm), trials in by_cell.items() if k == task}
        # Imported trials were not seeded: the same number says nothing about their workspace.
        comparisons += compare(task, arms, pairable=manifest.imported is None)
        per_success += cost_per_success_tests(task, arms, seed)
        task_cells = {c.arm: c for c in cells if c.task == task}
        pareto += frontier(task, arms, task_cells, seed, stats.BOOTSTRAP_RESAMPLES)
        decisions.append(decide(task, list(task_cells.values()), arms, margin, seed))
    by_arm: dict[str, list[TrialFacts]] = {}
    for t in facts:
        by_arm.setdefault(t.arm, []).append(t)
    spends = [arm_spend(arm, trials) for arm, trials in sorted(by_arm.items())]
    infra_p = stats.rates_differ(
        [(a.n_infra, a.trials) for a in spends], stats.rng_for("infra", seed=seed)
    )
    groups: list[GroupCell] = []
    if group_by is not None:
        by_task = task_groups(manifest.config, group_by, {t.task for t in facts})
        groups = group_cells(group_by, by_task, facts)
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
        cost_per_success_tests=per_success,
        pareto=pareto,
        decisions=decisions,
        arms=spends,
        group_by=group_by,
        groups=groups,
        unjudged=unjudged_spend(manifest.imported, group_by),
    )
