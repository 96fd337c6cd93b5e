"""The routed arm driven by scripted models: constant, cascade and classifier strategies."""

from __future__ import annotations

from pathlib import Path

import pytest
from arm_helpers import Builds, Factory, Recording, context, fixed, repo, script, tool

from armbench.agent.tools import (
    BASH,
    EDITOR,
)
from armbench.arms.base import ArmContext, ArmOutcome
from armbench.arms.routed import run_routed
from armbench.config import (
    RoutedArm,
    RoutingStrategy,
)
from armbench.models.base import Model

GATE = "python check.py"
CHECK_PY = "import pathlib, sys\nsys.exit(0 if pathlib.Path('ok').exists() else 1)\n"


def route(
    tmp_path: Path,
    strategy: RoutingStrategy,
    local: Model,
    cloud: Model,
    router: Model | None = None,
) -> tuple[ArmOutcome, ArmContext]:
    tmp_path.mkdir(exist_ok=True)
    root = repo(tmp_path, {"check.py": CHECK_PY})
    factories: dict[str, Factory] = {} if router is None else {"cheap": fixed(router)}
    builds = Builds(factories, routed=(local, cloud))
    ctx = context(root, builds, checks=(GATE,))
    arm = RoutedArm(kind="routed", local="small", cloud="big", strategy=strategy)
    return run_routed(arm, ctx), ctx


@pytest.mark.parametrize("target", ["local", "cloud"])
def test_constant_strategies_send_every_call_one_way(tmp_path: Path, target: str) -> None:
    chosen = script(target, {"tool_calls": [tool(BASH, command="echo hi")]}, {"text": "done"})
    idle = script("idle")  # any call to it fails: it has no turns
    local, cloud = (chosen, idle) if target == "local" else (idle, chosen)
    strategy = RoutingStrategy(name=f"always-{target}")
    outcome, ctx = route(tmp_path, strategy, local, cloud)
    assert outcome.run.stop == "finished"
    assert [(r.role, r.model, r.route) for r in ctx.ledger.rows] == [("solo", target, target)] * 2
    reason = f"strategy always-{target} sends every call there"
    assert outcome.run.decisions == [
        {"call": 1, "route": target, "reason": reason},
        {"call": 2, "route": target, "reason": reason},
    ]
    assert outcome.extra["routing"] == outcome.run.decisions
    assert outcome.extra["strategy"] == strategy.model_dump()
    assert [t.name for t in outcome.run.tools] == [EDITOR, BASH]


def test_cascade_escalates_after_a_failed_check_and_stays(tmp_path: Path) -> None:
    local = script("small", {"tool_calls": [tool(BASH, command=GATE)]})
    cloud = script(
        "big",
        {"tool_calls": [tool(EDITOR, command="create", path="ok", file_text="")]},
        {"tool_calls": [tool(BASH, command=GATE)]},
        {"text": "fixed"},
    )
    outcome, ctx = route(tmp_path, RoutingStrategy(name="cascade"), local, cloud)
    assert outcome.run.stop == "finished"
    assert [(r.model, r.route) for r in ctx.ledger.rows] == [
        ("small", "local"),
        ("big", "cloud"),
        ("big", "cloud"),
        ("big", "cloud"),
    ]
    decisions = outcome.run.decisions
    assert [d["call"] for d in decisions] == [1, 2, 3, 4]
    assert [d["route"] for d in decisions] == ["local", "cloud", "cloud", "cloud"]
    assert str(decisions[0]["reason"]).startswith("staying local: 0 failed checks in a row")
    assert decisions[1]["reason"] == (
        "escalating to cloud: 1 failed check in a row (escalates at 1)"
    )
    assert str(decisions[2]["reason"]).startswith("staying on cloud since the escalation at turn 1")


def test_cascade_with_deescalation_goes_back_local_after_a_pass(tmp_path: Path) -> None:
    local = script("small", {"tool_calls": [tool(BASH, command=GATE)]}, {"text": "all good"})
    cloud = script(
        "big",
        {"tool_calls": [tool(EDITOR, command="create", path="ok", file_text="")]},
        {"tool_calls": [tool(BASH, command=GATE)]},
    )
    strategy = RoutingStrategy(name="cascade", deescalate=True)
    outcome, ctx = route(tmp_path, strategy, local, cloud)
    assert [r.route for r in ctx.ledger.rows] == ["local", "cloud", "cloud", "local"]
    assert [d["route"] for d in outcome.run.decisions] == ["local", "cloud", "cloud", "local"]
    assert str(outcome.run.decisions[3]["reason"]).startswith("de-escalating to local")


def test_a_classifier_strategy_records_router_rows_before_each_call(tmp_path: Path) -> None:
    router = Recording(script("cheap", {"text": "LOCAL"}, {"text": "I'd say CLOUD."}))
    local = script("small", {"tool_calls": [tool(BASH, command=GATE)]})
    cloud = script("big", {"text": "done"})
    strategy = RoutingStrategy(name="classifier", classifier="cheap")
    outcome, ctx = route(tmp_path, strategy, local, cloud, router)
    assert outcome.run.stop == "finished"
    assert [(r.role, r.model, r.route, r.status) for r in ctx.ledger.rows] == [
        ("router", "cheap", None, "ok"),
        ("solo", "small", "local", "ok"),
        ("router", "cheap", None, "ok"),
        ("solo", "big", "cloud", "ok"),
    ]
    assert [d["route"] for d in outcome.run.decisions] == ["local", "cloud"]
    assert str(outcome.run.decisions[0]["reason"]).startswith("classifier answered 'LOCAL' with")
    assert "1 failed check in a row" in str(outcome.run.decisions[1]["reason"])
    assert [req.max_tokens for req in router.requests] == [16, 16]
    assert outcome.run.iterations == 2


def test_a_routed_call_that_fails_keeps_its_decision_and_route(tmp_path: Path) -> None:
    cloud = script("big", {"error": "overloaded"}, {"text": "done"}, {"error": "quota"})
    local = script("small")
    strategy = RoutingStrategy(name="always-cloud")
    outcome, ctx = route(tmp_path, strategy, local, cloud)
    assert outcome.run.stop == "finished"  # the retry answered
    assert [(r.route, r.status, r.attempt) for r in ctx.ledger.rows] == [
        ("cloud", "error", 1),
        ("cloud", "ok", 2),
    ]
    assert len(outcome.run.decisions) == 1
    again, ctx = route(tmp_path / "again", strategy, local, script("big", {"error": "quota"}))
    assert again.run.stop == "model_error" and again.run.iterations == 0
    assert again.run.decisions == [
        {"call": 1, "route": "cloud", "reason": "strategy always-cloud sends every call there"}
    ]
    assert [(r.route, r.status, r.error_class) for r in ctx.ledger.rows] == [
        ("cloud", "error", "quota")
    ]


@pytest.mark.parametrize("answered", [0, 1])
def test_a_failing_classifier_ends_the_run_as_model_error(tmp_path: Path, answered: int) -> None:
    router = script("cheap", *[{"text": "LOCAL"}] * answered, {"error": "auth"})
    local = script("small", *[{"tool_calls": [tool(BASH, command="true")]}] * answered)
    strategy = RoutingStrategy(name="classifier", classifier="cheap")
    outcome, ctx = route(tmp_path, strategy, local, script("big"), router)
    assert outcome.run.stop == "model_error"
    assert outcome.run.error is not None and outcome.run.error.infra_class == "auth"
    assert outcome.run.iterations == answered
    assert len(outcome.run.decisions) == answered
    assert [(r.role, r.status) for r in ctx.ledger.rows] == [
        ("router", "ok"),
        ("solo", "ok"),
    ] * answered + [("router", "error")]
