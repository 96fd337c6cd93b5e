"""Trial-wide caps inside arms: a cap an executor meets ends the orchestrator's trial too (the
refusal exhausts the trial's account, so even a call that would still fit is refused), and a
single-shot call refused by the budget is a `limit`, never a harness error."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from arm_helpers import Builds, Recording, context, fixed, repo, script, tool

from armbench.agent.tools import BASH, DELEGATE
from armbench.arms.orchestrated import run_orchestrated
from armbench.arms.single_shot import run_single_shot
from armbench.config import OrchestratedArm, RetryPolicy, SingleShotArm
from armbench.core import Limits
from armbench.models import Budget, CallGuard, RetryingCaller
from armbench.pricing import RateCard
from armbench.tasks.packs import load_pack

PRICES = RateCard.from_mapping(
    tomllib.loads(
        """
[models."script/boss"]
input = 0.01
output = 0.01
[models."script/dear"]
input = 100.0
output = 100.0
[models."script/answer"]
input = 1.0
output = 1.0
"""
    ),
    source="test card",
)


def guarded(guard: CallGuard) -> RetryingCaller:
    return RetryingCaller(RetryPolicy(), sleep=lambda _s: None, guard=guard)


def test_a_cap_met_by_the_executor_ends_the_orchestrators_trial(tmp_path: Path) -> None:
    boss = Recording(
        script(
            "boss",
            {"tool_calls": [tool(DELEGATE, instruction="Run the tests.")]},
            {"tool_calls": [tool(BASH, command="echo would-fit")]},
            {"text": "done"},
        )
    )
    # The executor's first call may cost ~$0.8 (8192 output tokens at $100 per million): over
    # the cap; the boss's next call (~$0.0001) would fit, but the trial is over.
    worker = script("dear", {"text": "never sent"})
    guard = CallGuard(Limits(max_cost_usd=0.5), card=PRICES)
    ctx = context(
        repo(tmp_path, {"app.py": "VALUE = 1\n"}),
        Builds({"boss": fixed(boss), "dear": fixed(worker)}),
    )
    ctx = dataclasses.replace(ctx, caller=guarded(guard))
    arm = OrchestratedArm(kind="orchestrated", orchestrator="boss", executor="dear")
    outcome = run_orchestrated(arm, ctx)
    assert outcome.run.stop == "max_cost"
    assert outcome.run.limit is not None and str(outcome.run.limit).startswith("max_cost_usd:")
    assert len(boss.requests) == 1  # no call after the executor's refusal
    assert [row.model for row in ctx.ledger.rows] == ["boss"]
    assert outcome.side_conversations[0]["stop"] == "max_cost"
    assert guard.trial_budget.spent_usd <= 0.5


def test_a_single_shot_refused_by_the_budget_is_a_limit(tmp_path: Path) -> None:
    budget = Budget(0.001)
    guard = CallGuard(Limits(), budget=budget, card=PRICES)
    ctx = context(tmp_path, Builds({"answer": fixed(script("answer", {"text": "x"}))}))
    task = load_pack("oneshot").single_shot_tasks[0]
    ctx = dataclasses.replace(ctx, caller=guarded(guard), task=task)
    outcome = run_single_shot(SingleShotArm(kind="single_shot", model="answer"), ctx)
    assert outcome.run.stop == "budget" and outcome.run.error is None
    assert ctx.ledger.rows == [] and budget.exhausted
