"""The orchestrated arm driven by scripted models: delegations, the executor's limits and
prompt, read-only orchestrators, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from arm_helpers import (
    PROMPTS,
    Builds,
    Recording,
    context,
    fixed,
    queue,
    repo,
    results,
    script,
    tool,
)

from armbench.agent.tools import (
    BASH,
    DELEGATE,
    EDITOR,
    EDITOR_SPEC,
    EDITOR_VIEW_SPEC,
)
from armbench.arms.base import ArmContext, ArmOutcome
from armbench.arms.orchestrated import run_orchestrated
from armbench.config import (
    OrchestratedArm,
    ReturnPolicy,
)
from armbench.core import (
    Limits,
    Message,
    ToolResultBlock,
)
from armbench.env import CommandResult
from armbench.env.local import LocalEnvironment
from armbench.models.base import Model
from armbench.models.prompt_cache import linearize
from armbench.models.script import ScriptModel
from armbench.prompts import (
    EXECUTOR_SYSTEM,
    ORCHESTRATOR_SYSTEM,
)

CHECK = "python -c 'import app; assert app.VALUE == 2'"
INSTRUCTION = f"Set VALUE to 2 in app.py.\nCHECK: {CHECK}\n"
REPORT = "EXECUTOR REPORT: app.py now sets VALUE = 2; the check passes."


def worker_script(report: str = REPORT) -> ScriptModel:
    return script(
        "worker",
        {
            "text": "editing",
            "tool_calls": [
                tool(
                    EDITOR,
                    command="str_replace",
                    path="app.py",
                    old_str="VALUE = 1",
                    new_str="VALUE = 2",
                )
            ],
        },
        {"tool_calls": [tool(BASH, command=CHECK)]},
        {"text": report},
    )


def orchestrate(
    tmp_path: Path,
    boss: Model,
    *executors: Model,
    arm: OrchestratedArm | None = None,
    env_factory: Callable[[Path], LocalEnvironment] | None = None,
) -> tuple[ArmOutcome, ArmContext, Builds, Path]:
    root = repo(tmp_path, {"app.py": "VALUE = 1\n"})
    builds = Builds({"boss": fixed(boss), "worker": queue(*executors)})
    env = env_factory(root) if env_factory is not None else None
    ctx = context(root, builds, checks=(CHECK,), env=env)
    arm = arm or OrchestratedArm(kind="orchestrated", orchestrator="boss", executor="worker")
    return run_orchestrated(arm, ctx), ctx, builds, root


def test_a_delegation_runs_the_executor_in_the_same_workspace(tmp_path: Path) -> None:
    boss = Recording(
        script(
            "boss",
            {"text": "delegating", "tool_calls": [tool(DELEGATE, instruction=INSTRUCTION)]},
            {"text": "All done."},
        )
    )
    outcome, ctx, builds, root = orchestrate(tmp_path, boss, worker_script())
    assert (root / "app.py").read_text() == "VALUE = 2\n"
    assert outcome.run.stop == "finished" and outcome.run.iterations == 2
    rows = ctx.ledger.rows
    assert [(r.seq, r.role, r.model, r.status) for r in rows] == [
        (1, "orchestrator", "boss", "ok"),
        (2, "executor", "worker", "ok"),
        (3, "executor", "worker", "ok"),
        (4, "executor", "worker", "ok"),
        (5, "orchestrator", "boss", "ok"),
    ]
    assert all(r.route is None for r in rows)
    assert outcome.extra["delegations"] == [
        {
            "executor_iterations": 3,
            "executor_stop": "finished",
            "instruction_chars": len(INSTRUCTION),
            "report_chars": len(REPORT),
            "returned_chars": len(REPORT),
        }
    ]
    assert outcome.extra["orchestrator_iterations"] == 2
    assert outcome.extra["returns"] == {"policy": "free", "max_chars": 1500}
    # an executor was built for the delegation
    assert builds.log == [("boss", "orchestrator"), ("worker", "executor")]
    # its conversation is kept for the transcript
    (side,) = outcome.side_conversations
    assert side["stop"] == "finished"
    assert side["messages"][0]["content"][0]["text"] == INSTRUCTION
    # the orchestrator's next request carries the report as the delegate call's result
    assert len(boss.requests) == 2
    delegate_id = boss.requests[1].messages[1].tool_uses[0].id
    last = boss.requests[1].messages[-1].content
    assert last == (ToolResultBlock(tool_use_id=delegate_id, content=REPORT),)
    # the orchestrator has the full editor, bash and the delegate tool
    assert [t.name for t in outcome.run.tools] == [EDITOR, BASH, DELEGATE]
    assert outcome.run.tools[0] == EDITOR_SPEC
    assert outcome.run.system == PROMPTS.render(ORCHESTRATOR_SYSTEM, may_edit=True)


def test_the_tax_of_a_scripted_orchestrator_is_estimated_from_the_report_share(
    tmp_path: Path,
) -> None:
    boss = Recording(
        script(
            "boss",
            {"tool_calls": [tool(DELEGATE, instruction=INSTRUCTION)]},
            {"tool_calls": [tool(BASH, command=CHECK)]},
            {"text": "All done."},
        )
    )
    outcome, _, _, _ = orchestrate(tmp_path, boss, worker_script())
    # a script bills every prompt token as plain input, so the share is exactly the block's tokens
    per_request = []
    for request in boss.requests[1:]:
        segments, _ = linearize(request)
        per_request.append(next(s.tokens for s in segments if s.ref == ("message", 2, 0)))
    record = outcome.extra["delegation_tax"]
    assert record["model"] == "script/boss"
    assert record["estimated"] is True
    assert record["tokens"]["input"] == sum(per_request)
    assert record["tokens"]["cache_read"] == record["tokens"]["output"] == 0


def test_structured_returns_over_two_delegations(tmp_path: Path) -> None:
    second = script(
        "worker",
        {"tool_calls": [tool(EDITOR, command="create", path="extra.py", file_text="X = 1\n")]},
        {"text": "made extra.py"},
    )
    boss = Recording(
        script(
            "boss",
            {"tool_calls": [tool(DELEGATE, instruction=INSTRUCTION)]},
            {"tool_calls": [tool(DELEGATE, instruction="Create extra.py with X = 1.")]},
            {"text": "All done."},
        )
    )
    arm = OrchestratedArm(
        kind="orchestrated",
        orchestrator="boss",
        executor="worker",
        returns=ReturnPolicy(policy="structured", max_chars=5000),
    )
    outcome, _, _, root = orchestrate(tmp_path, boss, worker_script(), second, arm=arm)
    assert (root / "extra.py").read_text() == "X = 1\n"
    first_text = (
        "status: done; iterations: 3; last command: passed; changed: app.py\n"
        "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-VALUE = 1\n+VALUE = 2\n"
    )
    second_text = (
        "status: done; iterations: 2; last command: not run; changed: extra.py\n"
        "--- a/extra.py\n+++ b/extra.py\n@@ -0,0 +1 @@\n+X = 1\n"
    )
    returned = [b.content for b in results(outcome.run.messages)]
    assert returned == [first_text, second_text]
    assert [d["returned_chars"] for d in outcome.extra["delegations"]] == [
        len(first_text),
        len(second_text),
    ]
    assert [d["report_chars"] for d in outcome.extra["delegations"]] == [
        len(REPORT),
        len("made extra.py"),
    ]
    assert len(outcome.side_conversations) == 2
    # the tax counts both returned blocks: the first in two later calls, the second in one
    shares = []
    for request in boss.requests[1:]:
        segments, _ = linearize(request)
        shares += [s.tokens for s in segments if s.ref in {("message", 2, 0), ("message", 4, 0)}]
    assert len(shares) == 3
    assert outcome.extra["delegation_tax"]["tokens"]["input"] == sum(shares)


def test_an_executor_stopped_at_its_cap_is_reported_so(tmp_path: Path) -> None:
    looping = script(
        "worker",
        *[{"tool_calls": [tool(BASH, command="exit 3")]} for _ in range(3)],
    )
    boss = script(
        "boss", {"tool_calls": [tool(DELEGATE, instruction="loop")]}, {"text": "giving up"}
    )
    arm = OrchestratedArm(
        kind="orchestrated",
        orchestrator="boss",
        executor="worker",
        returns=ReturnPolicy(policy="structured"),
        executor_limits=Limits(max_iterations=2),
    )
    outcome, ctx, _, _ = orchestrate(tmp_path, boss, looping, arm=arm)
    assert outcome.extra["delegations"][0]["executor_iterations"] == 2
    assert outcome.extra["delegations"][0]["executor_stop"] == "max_iterations"
    returned = results(outcome.run.messages)[0].content
    assert returned == (
        "status: stopped at its iteration cap; iterations: 2; last command: failed; "
        "changed: nothing\n"
    )
    assert [r.role for r in ctx.ledger.rows] == [
        "orchestrator",
        "executor",
        "executor",
        "orchestrator",
    ]


def test_a_read_only_orchestrator_may_view_but_not_edit(tmp_path: Path) -> None:
    boss = script(
        "boss",
        {"tool_calls": [tool(EDITOR, command="view", path="app.py")]},
        {
            "tool_calls": [
                tool(EDITOR, command="str_replace", path="app.py", old_str="1", new_str="2")
            ]
        },
        {"tool_calls": [tool(EDITOR, command="create", path="new.py", file_text="N = 1\n")]},
        {"text": "cannot edit"},
    )
    arm = OrchestratedArm(
        kind="orchestrated", orchestrator="boss", executor="worker", orchestrator_may_edit=False
    )
    outcome, _, builds, root = orchestrate(tmp_path, boss, arm=arm)
    viewed, replaced, created = results(outcome.run.messages)
    assert not viewed.is_error and "VALUE = 1" in viewed.content
    assert replaced.is_error
    assert replaced.content == (
        "error: `str_replace` is not allowed here: only `view`; delegate changes"
    )
    assert created.is_error and created.content.startswith("error: `create` is not allowed")
    assert (root / "app.py").read_text() == "VALUE = 1\n"
    assert not (root / "new.py").exists()
    assert outcome.run.tools[0] == EDITOR_VIEW_SPEC
    assert outcome.run.system == PROMPTS.render(ORCHESTRATOR_SYSTEM, may_edit=False)
    assert outcome.run.stop == "finished"
    assert outcome.extra["delegations"] == []
    assert [r for _, r in builds.log] == ["orchestrator"]


def test_an_executor_that_fails_for_good_ends_the_orchestrator_run(tmp_path: Path) -> None:
    failing = script("worker", {"error": "auth"})
    boss = script(
        "boss", {"tool_calls": [tool(DELEGATE, instruction=INSTRUCTION)]}, {"text": "never"}
    )
    outcome, ctx, _, _ = orchestrate(tmp_path, boss, failing)
    assert outcome.run.stop == "model_error"
    assert outcome.run.error is not None and outcome.run.error.infra_class == "auth"
    assert outcome.run.iterations == 1
    assert [(r.role, r.status, r.error_class) for r in ctx.ledger.rows] == [
        ("orchestrator", "ok", None),
        ("executor", "error", "auth"),
    ]
    assert outcome.extra["delegations"] == []
    assert [s["stop"] for s in outcome.side_conversations] == ["model_error"]
    # the orchestrator's conversation ends with the delegate call, no result for it
    assert outcome.run.messages[-1].role == "assistant"


def test_an_executor_error_that_passes_on_retry_is_only_a_ledger_row(tmp_path: Path) -> None:
    flaky = script("worker", {"error": "overloaded"}, {"text": "done"})
    boss = script("boss", {"tool_calls": [tool(DELEGATE, instruction="x")]}, {"text": "ok"})
    outcome, ctx, _, _ = orchestrate(tmp_path, boss, flaky)
    assert outcome.run.stop == "finished"
    assert [(r.role, r.status, r.attempt) for r in ctx.ledger.rows] == [
        ("orchestrator", "ok", 1),
        ("executor", "error", 1),
        ("executor", "ok", 2),
        ("orchestrator", "ok", 1),
    ]
    assert outcome.extra["delegations"][0]["executor_iterations"] == 1


@pytest.mark.parametrize("arguments", [{"instruction": "   \n"}, {}, {"instruction": 7}])
def test_a_bad_instruction_is_a_tool_error_not_a_crash(
    tmp_path: Path, arguments: dict[str, Any]
) -> None:
    boss = script(
        "boss", {"tool_calls": [{"name": DELEGATE, "input": arguments}]}, {"text": "oh well"}
    )
    outcome, ctx, builds, _ = orchestrate(tmp_path, boss)
    (refused,) = results(outcome.run.messages)
    assert refused.is_error
    assert refused.content == "error: `instruction` must be a non-empty string"
    assert outcome.run.stop == "finished"
    assert outcome.extra["delegations"] == [] and outcome.side_conversations == []
    assert [r for _, r in builds.log] == ["orchestrator"]
    assert [r.role for r in ctx.ledger.rows] == ["orchestrator", "orchestrator"]


def test_a_refused_delegation_pays_no_delegation_tax(tmp_path: Path) -> None:
    boss = script("boss", {"tool_calls": [tool(DELEGATE, instruction="")]}, {"text": "oh well"})
    outcome, _, _, _ = orchestrate(tmp_path, boss)
    assert outcome.extra["delegation_tax"]["tokens"]["input"] == 0


class TimeoutLog(LocalEnvironment):
    """A local environment that notes the timeout of every command."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, home=root.parent)
        self.timeouts: list[tuple[str, float]] = []

    def run(self, command: Any, *, timeout_s: float, **kwargs: Any) -> CommandResult:
        self.timeouts.append((str(command), timeout_s))
        return super().run(command, timeout_s=timeout_s, **kwargs)


def test_the_executor_runs_bash_under_its_own_timeout(tmp_path: Path) -> None:
    worker = script("worker", {"tool_calls": [tool(BASH, command="echo worker")]}, {"text": "ok"})
    boss = script(
        "boss",
        {"tool_calls": [tool(BASH, command="echo boss")]},
        {"tool_calls": [tool(DELEGATE, instruction="x")]},
        {"text": "ok"},
    )
    arm = OrchestratedArm(
        kind="orchestrated",
        orchestrator="boss",
        executor="worker",
        executor_limits=Limits(max_iterations=5, bash_timeout_s=7),
    )
    logs: list[TimeoutLog] = []

    def env_factory(root: Path) -> LocalEnvironment:
        logs.append(TimeoutLog(root))
        return logs[0]

    orchestrate(tmp_path, boss, worker, arm=arm, env_factory=env_factory)
    assert logs[0].timeouts == [("echo boss", 30), ("echo worker", 7)]


def test_the_executor_gets_its_own_system_prompt_and_full_editor(tmp_path: Path) -> None:
    worker = Recording(script("worker", {"text": "nothing to do"}))
    boss = script("boss", {"tool_calls": [tool(DELEGATE, instruction="x")]}, {"text": "ok"})
    arm = OrchestratedArm(
        kind="orchestrated", orchestrator="boss", executor="worker", orchestrator_may_edit=False
    )
    orchestrate(tmp_path, boss, worker, arm=arm)
    (request,) = worker.requests
    assert request.system == PROMPTS.render(EXECUTOR_SYSTEM)
    assert [t.name for t in request.tools] == [EDITOR, BASH]
    assert request.tools[0] == EDITOR_SPEC
    assert request.messages == (Message.user_text("x"),)
