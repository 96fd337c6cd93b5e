"""Per arm × task: how often it passed and what a pass typically cost — the `show` view.

Reads trial facts (armbench.analysis.facts), never every call, so it stays quick and small on
runs with millions of ledger rows."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from armbench.analysis import stats
from armbench.analysis.contract import ContractEffect, classify_contract_effect
from armbench.analysis.facts import RunFacts, TrialFacts
from armbench.analysis.report_model import ArmSpend


@dataclass(frozen=True)
class SummaryRow:
    arm: str
    task: str
    n: int
    passes: int
    fails: int
    limits: int
    infra_errors: int
    median_cost_usd: float | None
    """Among passing trials; None when nothing passed."""
    median_wall_s: float | None
    median_iterations: float | None

    @property
    def success_rate(self) -> float | None:
        """Passes over trials that were not infra errors (those say nothing about the arm)."""
        judged = self.n - self.infra_errors
        return self.passes / judged if judged else None


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def summarize(run: RunFacts) -> list[SummaryRow]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, trial in enumerate(run.trials):
        groups.setdefault((trial.arm, trial.task), []).append(index)
    cells = []
    for (arm, task), members in sorted(groups.items()):
        trials = [run.trials[i] for i in members]
        passed = [t for t in trials if t.status == "pass"]
        cells.append(
            SummaryRow(
                arm=arm,
                task=task,
                n=len(trials),
                passes=len(passed),
                fails=sum(t.status == "fail" for t in trials),
                limits=sum(t.status == "limit" for t in trials),
                infra_errors=sum(t.status == "infra_error" for t in trials),
                median_cost_usd=median([t.cost_usd for t in passed]),
                median_wall_s=median([t.wall_s for t in passed]),
                median_iterations=median([float(t.iterations) for t in passed]),
            )
        )
    return cells


def mean_cost_by_role(judged: list[TrialFacts]) -> dict[str, float]:
    """role → mean dollars per trial of `judged`."""
    roles: dict[str, float] = {}
    for t in judged:
        for role, cost in t.cost_by_role.items():
            roles[role] = roles.get(role, 0.0) + cost / len(judged)
    return roles


def arm_spend(arm: str, trials: list[TrialFacts]) -> ArmSpend:
    """Where an arm's money went: mean dollars per judged trial by role (failed ones included;
    an infra error's cost says nothing about the arm and is often unknown), its delegation tax
    where measured, and for routed arms the cloud fraction: the share of served tokens pooled
    over its judged trials, with a task-clustered interval (trials when it ran one task)."""
    judged = [t for t in trials if t.judged]
    taxes = [t.tax for t in judged if t.tax is not None]
    measured_tax = trials[0].arm_kind == "orchestrated" and bool(taxes)
    clouds = [t.cloud for t in judged if t.cloud is not None]
    by_task: dict[str, list[tuple[int, int]]] = {}
    for t in judged:
        if t.cloud is not None:
            by_task.setdefault(t.task, []).append((t.cloud.cloud_tokens, t.cloud.served_tokens))
    clusters = list(by_task.values())
    clustered: Literal["tasks", "trials"] = "tasks" if len(clusters) > 1 else "trials"
    if len(clusters) == 1:
        clusters = [[unit] for unit in clusters[0]]
    cloud = stats.pooled_share(clusters)
    n_infra = len(trials) - len(judged)
    infra_ci = stats.wilson(n_infra, len(trials))
    assert infra_ci is not None  # an arm has trials
    return ArmSpend(
        arm=arm,
        arm_kind=trials[0].arm_kind,
        trials=len(trials),
        spent_usd=sum(t.cost_usd for t in trials),
        spent_judged_usd=sum(t.cost_usd for t in judged),
        n_infra=n_infra,
        infra_rate=n_infra / len(trials),
        infra_rate_ci=infra_ci,
        mean_cost_by_role=mean_cost_by_role(judged),
        delegation_tax_usd=mean([x.usd for x in taxes]) if measured_tax else None,
        delegation_tax_estimated=any(x.estimated for x in taxes),
        cloud_fraction_calls=mean([c.calls for c in clouds if c.calls is not None]),
        cloud_fraction_tokens=None if cloud is None else cloud[0],
        cloud_fraction_tokens_ci=None if cloud is None else cloud[1],
        cloud_fraction_clusters=None if cloud is None else clustered,
    )


def spend_by_arm(run: RunFacts) -> list[ArmSpend]:
    by_arm: dict[str, list[TrialFacts]] = {}
    for trial in run.trials:
        by_arm.setdefault(trial.arm, []).append(trial)
    return [arm_spend(arm, trials) for arm, trials in sorted(by_arm.items())]


@dataclass(frozen=True)
class ContractRow:
    """A single-shot model's format and execution rates without and with the contract."""

    model: str
    n_without: int
    n_with: int
    format_without: float | None
    execution_without: float | None
    format_with: float | None
    execution_with: float | None
    effect: ContractEffect | None
    """From the rates (armbench.analysis.contract.classify_contract_effect); None unless both
    ways were run."""


def _rates(pairs: list[tuple[int, int]]) -> tuple[float | None, float | None]:
    """Mean format and execution scores (None for no trials)."""
    if not pairs:
        return None, None
    return sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)


def contract_table(run: RunFacts) -> list[ContractRow]:
    arms = run.manifest.config.get("arms", {})
    scores: dict[str, dict[bool, list[tuple[int, int]]]] = {}
    for trial in run.trials:
        pair = trial.scores
        arm = arms.get(trial.arm) or {}
        if pair is not None:
            by_contract = scores.setdefault(str(arm.get("model")), {True: [], False: []})
            by_contract[bool(arm.get("contract"))].append(pair)
    rows = []
    for model, by_contract in sorted(scores.items()):
        fw, ew = _rates(by_contract[False])
        fc, ec = _rates(by_contract[True])
        effect = None
        if None not in (fw, ew, fc, ec):
            effect = classify_contract_effect((fw or 0.0, ew or 0.0), (fc or 0.0, ec or 0.0))
        rows.append(
            ContractRow(
                model, len(by_contract[False]), len(by_contract[True]), fw, ew, fc, ec, effect
            )
        )
    return rows


@dataclass(frozen=True)
class AgentAccountRow:
    """An external arm's own account of its spend beside armbench's ledger, over the trials
    whose agent gave one."""

    arm: str
    trials: int
    """Trials with an account of the agent's own."""
    calls_ledger: int
    calls_agent: int | None
    """None: the agent does not count its calls."""
    cost_ledger_usd: float
    cost_agent_usd: float | None
    """At the agent's own prices; None: it states none."""
    token_difference: int | None
    """The agent's tokens less the ledger's, every kind summed, where its terms map onto
    armbench's six; None where they do not."""


def agent_accounts(run: RunFacts) -> list[AgentAccountRow]:
    rows = []
    for arm in sorted({t.arm for t in run.trials if t.arm_kind == "external"}):
        told = [t for t in run.trials if t.arm == arm and t.agent_report is not None]
        if not told:
            continue
        reports = [t.agent_report for t in told if t.agent_report is not None]
        calls = [r.get("calls") for r in reports]
        costs = [r.get("cost_usd") for r in reports]
        differences = [r.get("difference") for r in reports]
        rows.append(
            AgentAccountRow(
                arm=arm,
                trials=len(told),
                calls_ledger=sum(int(r.get("ledger_calls", 0)) for r in reports),
                calls_agent=None if None in calls else sum(int(c or 0) for c in calls),
                cost_ledger_usd=sum(t.cost_usd for t in told),
                cost_agent_usd=None if None in costs else sum(float(c or 0) for c in costs),
                token_difference=None
                if None in differences
                else sum(sum(d.values()) for d in differences if d is not None),
            )
        )
    return rows
