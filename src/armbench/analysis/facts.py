"""Per-trial facts for reports, read from the ledger in bulk.

`show` and `export` load every ledger row as an object; a report over 100,000 trials and
millions of calls cannot. Here the database sums the ledger per trial, role, model, route and
price tier, and the costs are computed from those sums with the same rate card and the same
definitions (armbench.analysis.arms, armbench.pricing.costing) — the test suite checks both paths
give the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from armbench.analysis.arms import (
    NO_TAX,
    CloudFraction,
    Tax,
    calls_fraction,
    counted_calls,
    recorded_scores,
    recorded_tax,
)
from armbench.analysis.records import run_rate_card
from armbench.core import TOKEN_KINDS, Usage
from armbench.pricing.ratecard import RateCard
from armbench.store.attempts import attempt_call_totals, earlier_attempts
from armbench.store.rundir import Manifest, RunDirectory


@dataclass
class TrialFacts:
    trial_id: str
    arm: str
    arm_kind: str
    task: str
    replicate: int
    seed: int
    status: str
    infra_class: str | None
    wall_s: float
    iterations: int
    simulated: bool
    n_calls: int = 0
    tokens: Usage = field(default_factory=Usage)
    tokens_by_role: dict[str, Usage] = field(default_factory=dict)
    cost_by_role: dict[str, float] = field(default_factory=dict)
    tax: Tax | None = NO_TAX
    """None for an orchestrated trial with no record of it (imported): not measured, not 0."""
    cloud: CloudFraction | None = None
    scores: tuple[int, int] | None = None
    """Single-shot trials: (format score, execution score)."""
    unmeasured_roles: tuple[str, ...] = ()
    """Roles whose tokens the source never recorded (imported runs): their cost is unknown."""
    agent_report: dict[str, Any] | None = None
    """External arms: the agent's own account of what it spent, where it gave one."""

    @property
    def cost_usd(self) -> float:
        return sum(self.cost_by_role.values())

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def judged(self) -> bool:
        """Infra errors say nothing about the arm; every other outcome does."""
        return self.status != "infra_error"


def load_facts(directory: RunDirectory, card: RateCard) -> list[TrialFacts]:
    """Every trial of a run with its tokens and costs by role, in (arm, task, replicate) order."""
    with directory.read_database() as db:
        trials = db.trial_rows()
        groups = db.call_totals(card.thresholds())
    facts: dict[str, TrialFacts] = {}
    counted: dict[str, dict[str, int] | None] = {}
    for row in trials:
        extra = json.loads(row["extra"])
        counted[row["trial_id"]] = counted_calls(extra)
        facts[row["trial_id"]] = TrialFacts(
            trial_id=row["trial_id"],
            arm=row["arm"],
            arm_kind=row["arm_kind"],
            task=row["task"],
            replicate=row["replicate"],
            seed=row["seed"],
            status=row["status"],
            infra_class=row["infra_class"],
            wall_s=row["wall_s"],
            iterations=row["iterations"],
            simulated=bool(row["simulated"]),
            tax=recorded_tax(row["arm_kind"], extra, card),
            scores=recorded_scores(row["arm_kind"], extra),
            unmeasured_roles=tuple(extra.get("unmeasured_roles", ())),
            agent_report=extra.get("agent_report"),
        )
    routed: dict[str, dict[str, list[int]]] = {}
    """trial → route → [answered calls, tokens served]"""
    for g in groups:
        trial = facts[g["trial_id"]]
        usage = Usage(**{k: int(g[k]) for k in TOKEN_KINDS})
        role = g["role"]
        trial.n_calls += g["n"]
        trial.tokens += usage
        trial.tokens_by_role[role] = trial.tokens_by_role.get(role, Usage()) + usage
        cost = card.cost(
            f"{g['provider']}/{g['model']}",
            usage,
            seconds=g["latency_s"],
            prompt_tokens=g["prompt"],
        )
        trial.cost_by_role[role] = trial.cost_by_role.get(role, 0.0) + cost
        if g["route"] is not None and g["status"] == "ok":
            served = routed.setdefault(g["trial_id"], {}).setdefault(g["route"], [0, 0])
            served[0] += g["n"]
            served[1] += usage.prompt_tokens + usage.output
    for trial_id, by_route in routed.items():
        trial = facts[trial_id]
        if trial.arm_kind != "routed":
            continue
        tokens = sum(v[1] for v in by_route.values())
        calls = calls_fraction({r: v[0] for r, v in by_route.items()}, counted[trial_id])
        cloud_tokens = by_route.get("cloud", [0, 0])[1]
        trial.cloud = CloudFraction(calls, cloud_tokens, tokens)
    return list(facts.values())


@dataclass(frozen=True)
class EarlierAttempts:
    """The history of retried trials (armbench.store.attempts): left out of every count and
    median, since each trial counts once, as its latest attempt; but their calls were paid for,
    and are part of what the run spent."""

    by_trial: dict[str, int] = field(default_factory=dict)
    """Trial id → how many earlier attempts it had."""
    cost_usd: float = 0.0
    """What their calls cost, priced like the trials'."""

    @property
    def count(self) -> int:
        return sum(self.by_trial.values())


def load_earlier(directory: RunDirectory, card: RateCard) -> EarlierAttempts:
    with directory.read_database() as db:
        counts = earlier_attempts(db)
        groups = attempt_call_totals(db, card.thresholds())
    cost = sum(
        card.cost(
            f"{g['provider']}/{g['model']}",
            Usage(**{k: int(g[k]) for k in TOKEN_KINDS}),
            seconds=g["latency_s"],
            prompt_tokens=g["prompt"],
        )
        for g in groups
    )
    return EarlierAttempts(counts, cost)


@dataclass(frozen=True)
class RunFacts:
    """A run read for summaries and reports: its manifest, its prices, its trials' facts."""

    directory: RunDirectory
    manifest: Manifest
    rate_card: RateCard
    trials: list[TrialFacts]
    earlier: EarlierAttempts = field(default_factory=EarlierAttempts)
    """Earlier attempts of retried trials: not in `trials`, their spend still the run's."""

    @property
    def spent_usd(self) -> float:
        """What the run cost: every trial's latest attempt and every earlier one."""
        return sum(t.cost_usd for t in self.trials) + self.earlier.cost_usd

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


def load_run_facts(path: Path, *, rate_card: Path | None = None) -> RunFacts:
    """Like armbench.analysis.records.load_run_records, priced the same way, without loading
    each call."""
    directory = RunDirectory.open(path)
    manifest = directory.read_manifest()
    card = run_rate_card(manifest, directory.path, rate_card)
    return RunFacts(
        directory, manifest, card, load_facts(directory, card), load_earlier(directory, card)
    )


def prompt_growth(path: Path, max_calls: int = 80) -> list[dict[str, Any]]:
    """`[{task, arm, role, k, prompt, n}]`: mean prompt tokens of each role's k-th call."""
    with RunDirectory.open(path).read_database() as db:
        return db.prompt_growth(max_calls)
