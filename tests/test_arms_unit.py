"""The arms piece by piece: return shaping, delegation tax, the orchestrated and routed runners
driven by scripted models, the sim's roles, and the per-arm analysis measures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from armbench.agent.loop import AgentRun, Ledger, Pick, TrialClock, default_breakpoints, run_agent
from armbench.agent.tools import (
    BASH,
    BASH_SPEC,
    DELEGATE,
    EDITOR,
    EDITOR_SPEC,
    EDITOR_VIEW_SPEC,
    Toolbox,
)
from armbench.analysis.arms import (
    NO_TAX,
    CloudFraction,
    Tax,
    cloud_fraction,
    contract_effects,
    delegation_tax,
    single_shot_scores,
)
from armbench.arms.base import ArmContext, ArmOutcome
from armbench.arms.orchestrated import run_orchestrated
from armbench.arms.returns import shape_return
from armbench.arms.routed import run_routed
from armbench.arms.routing import classifier_request, read_signals
from armbench.arms.tax import DelegationTax
from armbench.config import (
    OrchestratedArm,
    RetryPolicy,
    ReturnPolicy,
    RoutedArm,
    RoutingStrategy,
    SimModelConfig,
)
from armbench.core import (
    CallRecord,
    Limits,
    Message,
    ModelRequest,
    ModelResponse,
    Role,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    TrialRecord,
    Usage,
    extract_lenient,
    extract_strict,
    has_run_line,
)
from armbench.env import CommandResult
from armbench.env.local import LocalEnvironment
from armbench.judge.single_shot import format_score
from armbench.models.base import Model, ModelIdentity
from armbench.models.prompt_cache import linearize
from armbench.models.retry import RetryingCaller
from armbench.models.script import ScriptedTurn, ScriptModel
from armbench.pricing.ratecard import RateCard
from armbench.prompts import (
    AGENT_SYSTEM,
    CONTRACT,
    EXECUTOR_SYSTEM,
    ORCHESTRATOR_SYSTEM,
    ROUTER_SYSTEM,
    PromptSet,
)
from armbench.sim import (
    SimModel,
    SimPolicy,
    TaskBrief,
    parse_instruction,
    reference_answer,
    render_instruction,
)

LIMITS = Limits(max_iterations=12, wall_s=600, bash_timeout_s=30)
PROMPTS = PromptSet()


# --- helpers ---------------------------------------------------------------------------------


def script(name: str, *turns: dict[str, Any]) -> ScriptModel:
    return ScriptModel(name, [ScriptedTurn.model_validate(t) for t in turns])


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "input": arguments}


class Recording:
    """A model that keeps every request it is sent."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner
        self.requests: list[ModelRequest] = []

    @property
    def identity(self) -> ModelIdentity:
        return self.inner.identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return self.inner.complete(request)


Factory = Callable[[Role], Model]


@dataclass
class Builds:
    """A trial's models (`arms.ModelSeats`) over fixed factories, with a log of what was built."""

    factories: dict[str, Factory]
    routed: tuple[Model, Model] | None = None
    log: list[tuple[str, Role]] = field(default_factory=list)

    def model(self, key: str, role: Role) -> Model:
        self.log.append((key, role))
        return self.factories[key](role)

    def pair(self, local: str, cloud: str) -> tuple[Model, Model]:
        assert self.routed is not None
        return self.routed


def fixed(model: Model) -> Factory:
    return lambda _role: model


def queue(*models: Model) -> Factory:
    """A factory handing out `models` in order (one executor per delegation)."""
    pending = list(models)
    return lambda _role: pending.pop(0)


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


def context(
    root: Path,
    builds: Builds,
    *,
    checks: tuple[str, ...] = (),
    limits: Limits = LIMITS,
    env: LocalEnvironment | None = None,
) -> ArmContext:
    return ArmContext(
        task=None,  # type: ignore[arg-type]  # agentic arms never read it
        prompt="Do the task.",
        env=env or LocalEnvironment(root, home=root.parent),
        limits=limits,
        check_commands=checks,
        ledger=Ledger(TrialClock()),
        caller=RetryingCaller(RetryPolicy(), sleep=lambda _s: None),
        models=builds,
        prompts=PROMPTS,
    )


def results(messages: Sequence[Message]) -> list[ToolResultBlock]:
    return [b for m in messages for b in m.content if isinstance(b, ToolResultBlock)]


def calls_of(messages: Sequence[Message]) -> list[ToolUseBlock]:
    return [c for m in messages for c in m.tool_uses]


# --- 1. shape_return -------------------------------------------------------------------------


def agent_run(
    final: str,
    *,
    stop: Any = "finished",
    iterations: int = 3,
    tool_results: Sequence[str] = (),
) -> AgentRun:
    """An executor's run: one bash call per tool result, then `final` as its report."""
    messages = [Message.user_text("the instruction")]
    for index, content in enumerate(tool_results):
        use = ToolUseBlock(id=f"t{index}", name=BASH, input={"command": "check"})
        messages.append(Message(role="assistant", content=(use,)))
        result = ToolResultBlock(tool_use_id=f"t{index}", content=content)
        messages.append(Message(role="user", content=(result,)))
    messages.append(Message(role="assistant", content=(TextBlock(text=final),)))
    return AgentRun(stop, messages, iterations=iterations)


def test_free_return_keeps_the_head_and_says_how_much_was_cut() -> None:
    report = "".join(f"{i:03d}" for i in range(100))  # 300 distinct-ish characters
    policy = ReturnPolicy(policy="free", max_chars=100)
    shaped = shape_return(policy, agent_run(report), {}, {})
    assert shaped == report[:100] + "\n[... 200 more characters not returned ...]"


@pytest.mark.parametrize("length", [0, 99, 100])
def test_free_and_tail_return_a_short_report_whole(length: int) -> None:
    report = "r" * length
    for name in ("free", "tail"):
        policy = ReturnPolicy(policy=name, max_chars=100)
        assert shape_return(policy, agent_run(report), {}, {}) == report


def test_tail_return_keeps_both_ends_and_counts_the_middle() -> None:
    report = "".join(f"{i:03d}" for i in range(100))
    policy = ReturnPolicy(policy="tail", max_chars=101)  # odd: each half is 50
    shaped = shape_return(policy, agent_run(report), {}, {})
    assert shaped == report[:50] + "\n[... 200 characters not returned ...]\n" + report[-50:]


def test_free_return_is_the_executor_final_text_only() -> None:
    run = agent_run("final words", tool_results=["noise\n[exit code: 0]"])
    shaped = shape_return(ReturnPolicy(policy="free"), run, {"a.py": "1\n"}, {"a.py": "2\n"})
    assert shaped == "final words"


BEFORE = {"a.py": "x = 1\n", "keep.py": "same\n", "gone.py": "bye\n"}
AFTER = {"a.py": "x = 2\n", "keep.py": "same\n", "new.py": "hi\n"}
DIFF = (
    "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    "--- a/gone.py\n+++ b/gone.py\n@@ -1 +0,0 @@\n-bye\n"
    "--- a/new.py\n+++ b/new.py\n@@ -0,0 +1 @@\n+hi\n"
)


def test_structured_return_is_a_status_line_and_the_diff_of_the_changed_files() -> None:
    run = agent_run("ignored prose", iterations=4, tool_results=["ok\n[exit code: 0]"])
    shaped = shape_return(ReturnPolicy(policy="structured"), run, BEFORE, AFTER)
    head = "status: done; iterations: 4; last command: passed; changed: a.py, gone.py, new.py\n"
    assert shaped == head + DIFF
    assert "keep.py" not in shaped and "ignored prose" not in shaped


@pytest.mark.parametrize(
    ("stop", "status"),
    [
        ("finished", "done"),
        ("max_iterations", "stopped at its iteration cap"),
        ("wall_clock", "stopped (wall_clock)"),
    ],
)
def test_structured_status_names_how_the_executor_stopped(stop: str, status: str) -> None:
    run = agent_run("", stop=stop, iterations=2)
    shaped = shape_return(ReturnPolicy(policy="structured"), run, {"a": "1\n"}, {"a": "1\n"})
    assert shaped == f"status: {status}; iterations: 2; last command: not run; changed: nothing\n"


@pytest.mark.parametrize(
    ("tool_results", "last"),
    [
        ((), "not run"),
        (("all good\n[exit code: 0]",), "passed"),
        (("[exit code: 0]", "E   assert 1 == 2\n[exit code: 1]"), "failed"),
        (("[exit code: 1]", "[exit code: 0]\n"), "passed"),
        (("[exit code: killed (timeout)]",), "failed"),
        (("[exit code: 2]", "edited a.py"), "failed"),  # an editor result is no command
        (("no exit line here",), "not run"),
    ],
)
def test_structured_status_reports_the_last_command(
    tool_results: tuple[str, ...], last: str
) -> None:
    run = agent_run("", tool_results=tool_results, iterations=len(tool_results) + 1)
    shaped = shape_return(ReturnPolicy(policy="structured"), run, {}, {})
    assert f"; last command: {last}; " in shaped


def test_structured_return_caps_the_diff_not_the_status_line() -> None:
    before = {f"m{i}.py": "".join(f"line {j}\n" for j in range(40)) for i in range(3)}
    after = {p: t.replace("line", "LINE") for p, t in before.items()}
    run = agent_run("", iterations=1)
    full = shape_return(ReturnPolicy(policy="structured", max_chars=10**6), run, before, after)
    head, diff = full.split("\n", 1)
    head += "\n"
    assert (
        head == "status: done; iterations: 1; last command: not run; changed: m0.py, m1.py, m2.py\n"
    )
    assert diff.count("--- a/") == 3 and len(diff) > 1000
    capped = shape_return(ReturnPolicy(policy="structured", max_chars=300), run, before, after)
    keep = 300 - len(head)
    assert (
        capped
        == head + diff[:keep] + f"\n[... {len(diff) - keep} more characters not returned ...]"
    )


def test_structured_diff_keeps_lines_apart_for_files_without_a_final_newline() -> None:
    run = agent_run("", iterations=1)
    shaped = shape_return(
        ReturnPolicy(policy="structured"), run, {"a.py": "x = 1", "b.py": "y\n"}, {"a.py": "x = 2"}
    )
    lines = shaped.splitlines()
    assert "-x = 1" in lines and "+x = 2" in lines and "--- a/b.py" in lines


# --- 2. DelegationTax ------------------------------------------------------------------------


def use(call_id: str, name: str = DELEGATE) -> Message:
    return Message(role="assistant", content=(ToolUseBlock(id=call_id, name=name, input={}),))


def result(call_id: str, text: str) -> Message:
    return Message(role="user", content=(ToolResultBlock(tool_use_id=call_id, content=text),))


def response(usage: Usage, blocks: dict[tuple[int, int], Usage] | None = None) -> ModelResponse:
    return ModelResponse(
        content=(TextBlock(text="ok"),),
        stop_reason="end_turn",
        usage=usage,
        latency_s=0.0,
        latency_simulated=True,
        model_id="m",
        block_usage=blocks,
    )


def test_exact_tax_sums_the_billing_of_returned_blocks_over_requests() -> None:
    first = ModelRequest(
        system="s",
        messages=(
            Message.user_text("task"),
            use("d1"),
            result("d1", "executor report one"),
            use("b1", BASH),
            result("b1", "bash output"),
        ),
    )
    second = ModelRequest(
        system="s",
        messages=(*first.messages, use("d2"), result("d2", "executor report two")),
    )
    tax = DelegationTax("sim/boss")
    tax.add(
        first,
        response(
            Usage(input=500, output=9, cache_read=100),
            {
                (0, 0): Usage(input=400),
                (1, 0): Usage(input=20),
                (2, 0): Usage(cache_read=100),
                (3, 0): Usage(input=30),
                (4, 0): Usage(input=50),
            },
        ),
        {"d1"},
    )
    tax.add(
        second,
        response(
            Usage(input=7, output=5, cache_read=600, cache_write_5m=40, cache_write_1h=3),
            {
                (0, 0): Usage(cache_read=400),
                (1, 0): Usage(cache_read=20),
                (2, 0): Usage(cache_read=100),
                (3, 0): Usage(cache_read=30),
                (4, 0): Usage(cache_read=50),
                (5, 0): Usage(cache_write_1h=3),
                (6, 0): Usage(cache_write_5m=40),
            },
        ),
        {"d1", "d2"},
    )
    assert tax.record() == {
        "model": "sim/boss",
        "tokens": {
            "input": 0,
            "output": 0,
            "cache_write_5m": 40,
            "cache_write_1h": 0,
            "cache_read": 200,
            "reasoning": 0,
        },
        "estimated": False,
    }


def test_a_request_without_returned_blocks_adds_nothing_and_estimates_nothing() -> None:
    request = ModelRequest(
        system="s", messages=(Message.user_text("t"), use("b1", BASH), result("b1", "out"))
    )
    tax = DelegationTax("p/m")
    tax.add(request, response(Usage(input=1000, cache_read=50)), {"d9"})
    tax.add(request, response(Usage(input=1000)), set())
    assert tax.record() == {
        "model": "p/m",
        "tokens": dict.fromkeys(
            ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "reasoning"), 0
        ),
        "estimated": False,
    }


def test_estimated_tax_apportions_prompt_kinds_by_the_blocks_token_share() -> None:
    request = ModelRequest(
        system="You are a lead.",
        messages=(
            Message.user_text("Please do the task " * 20),
            use("d1"),
            result("d1", "Here is what I changed: " + "details " * 60),
            use("b1", BASH),
            result("b1", "pytest output " * 30),
        ),
    )
    usage = Usage(input=1000, output=77, cache_write_5m=500, cache_write_1h=50, cache_read=3000)
    segments, _ = linearize(request)
    block = next(s.tokens for s in segments if s.ref == ("message", 2, 0))
    share = block / sum(s.tokens for s in segments)
    assert 0 < share < 0.5
    tax = DelegationTax("openai/gpt")
    tax.add(request, response(usage), {"d1"})
    assert tax.estimated is True
    assert tax.tokens["input"] == pytest.approx(1000 * share)
    assert tax.tokens["cache_write_5m"] == pytest.approx(500 * share)
    assert tax.tokens["cache_write_1h"] == pytest.approx(50 * share)
    assert tax.tokens["cache_read"] == pytest.approx(3000 * share)
    assert tax.tokens["output"] == 0 and tax.tokens["reasoning"] == 0
    record = tax.record()
    assert record["estimated"] is True
    assert record["tokens"]["input"] == round(1000 * share)
    assert record["tokens"]["cache_read"] == round(3000 * share)
    assert all(isinstance(v, int) for v in record["tokens"].values())


def test_estimated_tax_counts_every_returned_block_of_the_request() -> None:
    request = ModelRequest(
        system="s",
        messages=(
            Message.user_text("task"),
            use("d1"),
            result("d1", "first report " * 10),
            use("d2"),
            result("d2", "second report " * 25),
        ),
    )
    segments, _ = linearize(request)
    total = sum(s.tokens for s in segments)
    tokens = {s.ref: s.tokens for s in segments}
    tax = DelegationTax("p/m")
    tax.add(request, response(Usage(input=total)), {"d1", "d2"})
    # plain input apportioned by share over a fully uncached prompt is exactly the blocks' tokens
    assert tax.tokens["input"] == pytest.approx(
        tokens[("message", 2, 0)] + tokens[("message", 4, 0)]
    )
    only_first = DelegationTax("p/m")
    only_first.add(request, response(Usage(input=total)), {"d1"})
    assert only_first.tokens["input"] == pytest.approx(tokens[("message", 2, 0)])


def test_record_rounds_accumulated_fractions() -> None:
    tax = DelegationTax("p/m")
    tax.tokens.update(input=3.4, cache_read=2.6, cache_write_5m=0.49, cache_write_1h=7.0)
    assert tax.record()["tokens"] == {
        "input": 3,
        "output": 0,
        "cache_write_5m": 0,
        "cache_write_1h": 7,
        "cache_read": 3,
        "reasoning": 0,
    }


# --- 3. run_orchestrated ---------------------------------------------------------------------

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


# --- 4. run_routed ---------------------------------------------------------------------------

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


# --- 5. the sim's roles ----------------------------------------------------------------------

STRONG = SimModelConfig(provider="sim", skill=1.0, min_cacheable_tokens=100)
WEAK = SimModelConfig(provider="sim", skill=0.0, min_cacheable_tokens=100)
FOUR = {
    "a.py": "ALPHA = 1\n",
    "b.py": "BRAVO = 2\n",
    "c.py": "CHARLIE = 3\n",
    "d.py": "DELTA = 4\n",
}


def test_a_shared_policy_decides_at_the_skill_of_the_model_answering(tmp_path: Path) -> None:
    root = repo(tmp_path, {})
    brief = TaskBrief(solution=FOUR)
    shared = SimPolicy(STRONG, brief, seed=3)
    weak = SimModel("weak", WEAK, brief, 3, policy=shared)
    strong = SimModel("strong", STRONG, brief, 3, policy=shared)
    # calls 1..9: view a, create a, view b, create b, ... ; the creates of a and c go to weak
    weak_calls = {2, 6}

    def choose(messages: Sequence[Message]) -> Pick:
        call = 1 + sum(m.role == "assistant" for m in messages)
        if call in weak_calls:
            return Pick(weak, "solo", route="local")
        return Pick(strong, "solo", route="cloud")

    ledger = Ledger(TrialClock())
    run = run_agent(
        choose,
        Toolbox(LocalEnvironment(root, home=root.parent), bash_timeout_s=30),
        prompt="p",
        max_iterations=20,
        wall_s=600,
        ledger=ledger,
        caller=RetryingCaller(RetryPolicy(), sleep=lambda _s: None),
        system=PROMPTS.render(AGENT_SYSTEM),
    )
    assert run.stop == "finished" and run.iterations == 9
    turns = [m for m in run.messages if m.role == "assistant"]
    creates = [
        (index + 1, c.input)
        for index, turn in enumerate(turns)
        for c in turn.tool_uses
        if c.input.get("command") == "create"
    ]
    assert [(call, args["path"]) for call, args in creates] == [
        (2, "a.py"),
        (4, "b.py"),
        (6, "c.py"),
        (8, "d.py"),
    ]
    for call, args in creates:
        right = args["file_text"] == FOUR[args["path"]]
        assert right == (call not in weak_calls), (call, args)
    assert [r.model for r in ledger.rows] == [
        "weak" if i + 1 in weak_calls else "strong" for i in range(9)
    ]
    for path, target in FOUR.items():
        assert ((root / path).read_text() == target) == (path in {"b.py", "d.py"})


@pytest.mark.parametrize(("target", "right"), [("local", False), ("cloud", True)])
def test_a_routed_sim_pair_plays_one_coder(tmp_path: Path, target: str, right: bool) -> None:
    root = repo(tmp_path, {})
    brief = TaskBrief(solution=FOUR)
    shared = SimPolicy(STRONG, brief, seed=8)
    pair = (
        SimModel("weak", WEAK, brief, 8, policy=shared),
        SimModel("strong", STRONG, brief, 8, policy=shared),
    )
    ctx = context(root, Builds({}, routed=pair))
    strategy = RoutingStrategy(name=f"always-{target}")
    outcome = run_routed(RoutedArm(kind="routed", local="w", cloud="s", strategy=strategy), ctx)
    assert outcome.run.stop == "finished"
    assert {r.route for r in ctx.ledger.rows} == {target}
    assert all((root / p).read_text() == t for p, t in FOUR.items()) is right
    assert all((root / p).read_text() != t for p, t in FOUR.items()) is not right


def bash_turns(*outcomes: int) -> list[Message]:
    messages = [Message.user_text("Fix the bug. Run `pytest -q`.")]
    for index, code in enumerate(outcomes):
        call = ToolUseBlock(id=f"c{index}", name=BASH, input={"command": "pytest -q"})
        messages.append(Message(role="assistant", content=(call,)))
        text = f"{'F' if code else '.'}\n[exit code: {code}]"
        messages.append(
            Message(role="user", content=(ToolResultBlock(tool_use_id=f"c{index}", content=text),))
        )
    return messages


@pytest.mark.parametrize(
    ("outcomes", "expected"), [((), "LOCAL"), ((1,), "LOCAL"), ((1, 1), "CLOUD"), ((1, 0), "LOCAL")]
)
def test_the_router_sim_answers_like_the_reference_at_full_skill(
    outcomes: tuple[int, ...], expected: str
) -> None:
    messages = bash_turns(*outcomes)
    request = classifier_request(
        messages, read_signals(messages, ("pytest -q",)), system=PROMPTS.render(ROUTER_SYSTEM)
    )
    assert reference_answer(request) == expected
    sensible = SimModel("r", STRONG, TaskBrief(), 1, role="router")
    contrary = SimModel("r", WEAK, TaskBrief(), 1, role="router")
    for _ in range(3):
        answer = sensible.complete(request)
        assert answer.content == (TextBlock(text=expected),)
        assert answer.stop_reason == "end_turn" and not answer.tool_uses
        flipped = contrary.complete(request).content[0]
        assert isinstance(flipped, TextBlock)
        assert flipped.text == ("LOCAL" if expected == "CLOUD" else "CLOUD")


SOLUTION = {"hello.py": "def greeting() -> str:\n    return 'hello'\n\nprint(greeting())\n"}


def test_the_single_shot_sim_follows_the_contract_at_full_skill() -> None:
    brief = TaskBrief(solution=SOLUTION, check_commands=("python hello.py",))
    prompt = PROMPTS.render(CONTRACT, prompt="Write hello.py.", files=["hello.py"])
    request = ModelRequest(system="", messages=(Message.user_text(prompt),))
    answer = SimModel("s", STRONG, brief, 4, role="single_shot").complete(request)
    assert not answer.tool_uses
    text = answer.content[0].text  # type: ignore[union-attr]
    assert format_score(text, ["hello.py"]) == 1
    assert extract_strict(text, ["hello.py"]) == SOLUTION
    assert has_run_line(text) and "RUN: python hello.py" in text.splitlines()


def test_the_single_shot_sim_at_zero_skill_breaks_format_and_code() -> None:
    brief = TaskBrief(solution=SOLUTION, check_commands=("python hello.py",))
    prompt = PROMPTS.render(CONTRACT, prompt="Write hello.py.", files=["hello.py"])
    request = ModelRequest(system="", messages=(Message.user_text(prompt),))
    text = SimModel("s", WEAK, brief, 4, role="single_shot").complete(request).content[0]
    assert isinstance(text, TextBlock)
    assert format_score(text.text, ["hello.py"]) == 0
    lenient = extract_lenient(text.text, ["hello.py"])
    assert set(lenient) == {"hello.py"} and lenient != SOLUTION


@pytest.mark.parametrize("role", ["solo", "orchestrator", "executor", "router", "single_shot"])
def test_sim_responses_bill_each_message_block(role: Role) -> None:
    uncached = STRONG.model_copy(update={"cache": False})
    brief = TaskBrief(solution={"a.py": "A = 1\n"}, check_commands=("true",))
    messages = (
        Message.user_text("do it"),
        Message(
            role="assistant",
            content=(
                TextBlock(text="checking"),
                ToolUseBlock(id="c1", name=BASH, input={"command": "true"}),
            ),
        ),
        Message(
            role="user", content=(ToolResultBlock(tool_use_id="c1", content="[exit code: 0]"),)
        ),
    )
    request = ModelRequest(system="sys", messages=messages, tools=(EDITOR_SPEC, BASH_SPEC))
    answer = SimModel("m", uncached, brief, 2, role=role).complete(request)
    assert answer.block_usage is not None
    assert set(answer.block_usage) == {(0, 0), (1, 0), (1, 1), (2, 0)}
    segments, _ = linearize(request)
    by_ref = {s.ref: s.tokens for s in segments}
    for (m, b), usage in answer.block_usage.items():
        assert usage == Usage(input=by_ref[("message", m, b)])
    assert answer.usage.input == sum(by_ref.values())


def test_sim_block_usage_follows_the_prompt_cache() -> None:
    cached = STRONG.model_copy(update={"min_cacheable_tokens": 0})
    model = SimModel("m", cached, TaskBrief(solution={"a.py": "A = 1\n"}), 2, role="solo")
    opening = (Message.user_text("do it " * 50),)
    first = ModelRequest(
        system="sys",
        messages=opening,
        tools=(EDITOR_SPEC,),
        cache_breakpoints=default_breakpoints(opening),
    )
    answer = model.complete(first)
    assert answer.block_usage is not None
    assert answer.block_usage[(0, 0)].cache_write_5m > 0  # a cold cache: written
    call = answer.tool_uses[0]
    messages = (
        *opening,
        Message(role="assistant", content=answer.content),
        Message(role="user", content=(ToolResultBlock(tool_use_id=call.id, content="error: no"),)),
    )
    second = ModelRequest(
        system="sys",
        messages=messages,
        tools=(EDITOR_SPEC,),
        cache_breakpoints=default_breakpoints(messages),
    )
    again = model.complete(second)
    tokens = {s.ref: s.tokens for s in linearize(second)[0]}
    # the prefix the first call wrote is read; everything after it up to the last user block
    # is written
    assert again.block_usage == {
        (0, 0): Usage(cache_read=tokens[("message", 0, 0)]),
        (1, 0): Usage(cache_write_5m=tokens[("message", 1, 0)]),
        (1, 1): Usage(cache_write_5m=tokens[("message", 1, 1)]),
        (2, 0): Usage(cache_write_5m=tokens[("message", 2, 0)]),
    }
    assert again.usage.cache_read == sum(
        tokens[r] for r in (("tool", 0, 0), ("system", 0, 0), ("message", 0, 0))
    )
    assert again.usage.input == 0


def orchestrate_sims(tmp_path: Path, *, may_edit: bool) -> tuple[ArmOutcome, ArmContext, Path]:
    check = "python -c 'import a; assert a.ALPHA == 1'"
    root = repo(tmp_path, {"a.py": "ALPHA = 0\n"})
    brief = TaskBrief(solution={"a.py": "ALPHA = 1\n"}, check_commands=(check,))
    built = iter(range(100))

    def boss(role: Role) -> Model:
        return SimModel("boss", STRONG, brief, 11, role=role)

    def worker(role: Role) -> Model:  # it learns what to do from the instruction it is given
        return SimModel("worker", WEAK, TaskBrief(), 20 + next(built), role=role)

    limits = LIMITS.model_copy(update={"max_iterations": 30})
    ctx = context(root, Builds({"boss": boss, "worker": worker}), checks=(check,), limits=limits)
    arm = OrchestratedArm(
        kind="orchestrated",
        orchestrator="boss",
        executor="worker",
        orchestrator_may_edit=may_edit,
        returns=ReturnPolicy(policy="structured"),
    )
    return run_orchestrated(arm, ctx), ctx, root


def test_a_view_only_sim_orchestrator_delegates_its_repairs(tmp_path: Path) -> None:
    outcome, ctx, root = orchestrate_sims(tmp_path, may_edit=False)
    calls = calls_of(outcome.run.messages)
    names = [c.name for c in calls]
    assert set(names) <= {BASH, DELEGATE}
    assert not any(c.name == EDITOR and c.input.get("command") != "view" for c in calls)
    # one first delegation, then one per failed verification (4 repair rounds at skill 1.0)
    assert names == [BASH, DELEGATE] + [BASH, DELEGATE] * 4
    assert len(outcome.extra["delegations"]) == 5
    assert (root / "a.py").read_text() != "ALPHA = 1\n"  # the zero-skill executor never gets it
    executor_rows = [r for r in ctx.ledger.rows if r.role == "executor"]
    assert executor_rows and all(r.model == "worker" for r in executor_rows)
    for delegate in (c for c in calls if c.name == DELEGATE):
        assert parse_instruction(delegate.input["instruction"]).solution == {"a.py": "ALPHA = 1\n"}


def test_an_editing_sim_orchestrator_repairs_itself(tmp_path: Path) -> None:
    outcome, _, root = orchestrate_sims(tmp_path, may_edit=True)
    calls = calls_of(outcome.run.messages)
    assert [c.name for c in calls].count(DELEGATE) == 1
    edits = [c for c in calls if c.name == EDITOR and c.input["command"] != "view"]
    assert edits and all(c.input["path"] == "a.py" for c in edits)
    assert (root / "a.py").read_text() == "ALPHA = 1\n"
    assert outcome.run.stop == "finished"


def test_the_sim_orchestrator_delegates_instructions_an_executor_can_parse() -> None:
    instruction = render_instruction({"a.py": "A = 1\n", "gone.py": None}, ["pytest -q"])
    parsed = parse_instruction(instruction)
    assert parsed.solution == {"a.py": "A = 1\n", "gone.py": None}
    assert parsed.check_commands == ("pytest -q",)


# --- 6. analysis.arms ------------------------------------------------------------------------


def trial(
    trial_id: str,
    *,
    arm: str = "arm",
    arm_kind: str = "solo",
    task: str = "t1",
    replicate: int = 0,
    calls: tuple[CallRecord, ...] = (),
    extra: dict[str, Any] | None = None,
) -> TrialRecord:
    return TrialRecord(
        trial_id=trial_id,
        arm=arm,
        arm_kind=arm_kind,
        task=task,
        replicate=replicate,
        seed=0,
        status="pass",
        stop_reason="finished",
        wall_s=1.0,
        iterations=len(calls),
        simulated=True,
        started_at=0.0,
        ended_at=1.0,
        calls=calls,
        extra=extra or {},
    )


def row(seq: int, role: Role, route: Any, usage: Usage, status: str = "ok") -> CallRecord:
    return CallRecord(
        seq=seq,
        role=role,
        provider="sim",
        model="m",
        model_id="m",
        attempt=1,
        status=status,  # type: ignore[arg-type]
        usage=usage,
        latency_s=0.1,
        latency_simulated=True,
        started_at=0.0,
        route=route,
    )


CARD = RateCard.from_mapping(
    {
        "models": {
            "sim/boss": {
                "input": 3.0,
                "output": 15.0,
                "cache_write_5m": 3.75,
                "cache_write_1h": 6.0,
                "cache_read": 0.3,
            }
        }
    },
    source="test card",
)


def test_delegation_tax_is_priced_at_the_orchestrator_rates() -> None:
    record = {
        "model": "sim/boss",
        "tokens": {
            "input": 1000,
            "output": 0,
            "cache_write_5m": 2000,
            "cache_write_1h": 100,
            "cache_read": 10000,
            "reasoning": 0,
        },
        "estimated": True,
    }
    tax = delegation_tax(trial("t", extra={"delegation_tax": record}), CARD)
    assert tax.tokens == 13100 and tax.estimated is True
    assert tax.usd == pytest.approx((1000 * 3 + 2000 * 3.75 + 100 * 6 + 10000 * 0.3) / 1e6)


def test_delegation_tax_reads_a_recorded_tax() -> None:
    tax = DelegationTax("sim/boss")
    tax.tokens.update(cache_read=400.2, input=9.6)
    parsed = delegation_tax(trial("t", extra={"delegation_tax": tax.record()}), CARD)
    assert (parsed.tokens, parsed.estimated) == (410, False)
    assert parsed.usd == pytest.approx((10 * 3 + 400 * 0.3) / 1e6)


def test_no_tax_without_a_record() -> None:
    assert delegation_tax(trial("t"), CARD) == NO_TAX == Tax(0, 0.0, False)
    assert delegation_tax(trial("t", extra={"delegation_tax": None}), CARD) == NO_TAX


def test_cloud_fraction_counts_answered_routed_calls_only() -> None:
    calls = (
        row(1, "router", None, Usage(input=5000, output=1)),
        row(2, "solo", "local", Usage(input=100, output=10)),
        row(3, "router", None, Usage(input=5000, output=1)),
        row(4, "solo", "cloud", Usage(input=999), status="error"),
        row(5, "solo", "cloud", Usage(input=300, cache_read=100, output=50)),
        row(6, "solo", "local", Usage(input=40)),
    )
    fraction = cloud_fraction(trial("t", arm_kind="routed", calls=calls))
    assert fraction is not None
    assert fraction.calls == pytest.approx(1 / 3)
    assert fraction.tokens == pytest.approx(450 / 600)


def test_cloud_fraction_of_all_cloud_and_of_no_tokens() -> None:
    calls = (row(1, "solo", "cloud", Usage()), row(2, "solo", "cloud", Usage()))
    assert cloud_fraction(trial("t", arm_kind="routed", calls=calls)) == CloudFraction(1.0, 0.0)


def test_cloud_fraction_is_none_for_other_arms_and_unanswered_routed_trials() -> None:
    ok = (row(1, "solo", "cloud", Usage(input=10)),)
    assert cloud_fraction(trial("t", arm_kind="solo", calls=ok)) is None
    assert cloud_fraction(trial("t", arm_kind="orchestrated", calls=ok)) is None
    failed = (
        row(1, "router", None, Usage(input=3)),
        row(2, "solo", "local", Usage(), status="error"),
    )
    assert cloud_fraction(trial("t", arm_kind="routed", calls=failed)) is None
    assert cloud_fraction(trial("t", arm_kind="routed")) is None


def scored(
    trial_id: str, arm: str, task: str, replicate: int, fmt: int, execution: int
) -> TrialRecord:
    return trial(
        trial_id,
        arm=arm,
        arm_kind="single_shot",
        task=task,
        replicate=replicate,
        extra={"format_score": fmt, "execution_score": execution},
    )


ARMS = {
    "plain": {"kind": "single_shot", "model": "m1", "contract": False},
    "strict": {"kind": "single_shot", "model": "m1", "contract": True},
    "other": {"kind": "single_shot", "model": "m2", "contract": False},
    "solo": {"kind": "solo", "model": "m1"},
}


def test_contract_effects_pair_trials_by_model_task_and_replicate() -> None:
    trials = [
        scored("p-t1-0", "plain", "t1", 0, 0, 0),
        scored("s-t1-0", "strict", "t1", 0, 1, 1),
        scored("p-t1-1", "plain", "t1", 1, 0, 1),
        scored("s-t1-1", "strict", "t1", 1, 1, 1),
        scored("p-t2-0", "plain", "t2", 0, 1, 1),
        scored("s-t2-0", "strict", "t2", 0, 0, 0),
        scored("p-t3-0", "plain", "t3", 0, 1, 1),  # its pair ran replicate 1 only
        scored("s-t3-1", "strict", "t3", 1, 1, 1),
        scored("o-t1-0", "other", "t1", 0, 0, 0),  # another model: pairs with nothing
        trial("x-t4-0", arm="strict", arm_kind="single_shot", task="t4"),  # not scored
        scored("p-t4-0", "plain", "t4", 0, 0, 0),
        trial("solo-t1-0", arm="solo", arm_kind="solo", task="t1"),
    ]
    assert contract_effects(trials, ARMS) == {
        "p-t1-0": "execution_gain",
        "s-t1-0": "execution_gain",
        "p-t1-1": "format_only",
        "s-t1-1": "format_only",
        "p-t2-0": "regression",
        "s-t2-0": "regression",
    }


def test_single_shot_scores_only_for_scored_single_shot_trials() -> None:
    assert single_shot_scores(scored("x", "strict", "t", 0, 1, 0)) == (1, 0)
    assert single_shot_scores(trial("x", arm_kind="single_shot")) is None
    solo = trial("x", arm_kind="solo", extra={"format_score": 1, "execution_score": 1})
    assert single_shot_scores(solo) is None
