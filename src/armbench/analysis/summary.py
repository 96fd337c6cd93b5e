"""Per arm × task: how often it passed and what a pass typically cost — the `show` view.

Reads trial facts (armbench.analysis.facts), never every call, so it stays quick and small on
runs with millions of ledger rows."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from armbench.analysis.facts import RunFacts, TrialFacts
from armbench.judge.single_shot import ContractEffect, classify_contract_effect


@dataclass(frozen=True)
class Cell:
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


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(run: RunFacts) -> list[Cell]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, trial in enumerate(run.trials):
        groups.setdefault((trial.arm, trial.task), []).append(index)
    cells = []
    for (arm, task), members in sorted(groups.items()):
        trials = [run.trials[i] for i in members]
        passed = [t for t in trials if t.status == "pass"]
        cells.append(
            Cell(
                arm=arm,
                task=task,
                n=len(trials),
                passes=len(passed),
                fails=sum(t.status == "fail" for t in trials),
                limits=sum(t.status == "limit" for t in trials),
                infra_errors=sum(t.status == "infra_error" for t in trials),
                median_cost_usd=_median([t.cost_usd for t in passed]),
                median_wall_s=_median([t.wall_s for t in passed]),
                median_iterations=_median([float(t.iterations) for t in passed]),
            )
        )
    return cells


@dataclass(frozen=True)
class ArmSpend:
    """Where an arm's money went: mean dollars per trial by role, its delegation tax, and for
    routed arms the mean cloud fraction — over all its trials, failed ones included."""

    arm: str
    kind: str
    trials: int
    cost_by_role: dict[str, float]
    delegation_tax_usd: float
    delegation_tax_estimated: bool
    cloud_calls: float | None
    cloud_tokens: float | None


def spend_by_arm(run: RunFacts) -> list[ArmSpend]:
    by_arm: dict[str, list[TrialFacts]] = {}
    for trial in run.trials:
        by_arm.setdefault(trial.arm, []).append(trial)
    spends = []
    for arm, trials in sorted(by_arm.items()):
        roles: dict[str, float] = {}
        for trial in trials:
            for role, cost in trial.cost_by_role.items():
                roles[role] = roles.get(role, 0.0) + cost / len(trials)
        taxes = [t.tax for t in trials]
        clouds = [t.cloud for t in trials if t.cloud is not None]
        spends.append(
            ArmSpend(
                arm=arm,
                kind=trials[0].arm_kind,
                trials=len(trials),
                cost_by_role=roles,
                delegation_tax_usd=sum(t.usd for t in taxes) / len(trials),
                delegation_tax_estimated=any(t.estimated for t in taxes),
                cloud_calls=statistics.mean(c.calls for c in clouds) if clouds else None,
                cloud_tokens=statistics.mean(c.tokens for c in clouds) if clouds else None,
            )
        )
    return spends


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
    """From the rates (armbench.judge.single_shot.classify_contract_effect); None unless both
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
