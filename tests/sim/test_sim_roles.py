"""The sim in each role: shared policies, the router, single-shot answers, block billing, and
an orchestrator with a simulated executor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from arm_helpers import LIMITS, PROMPTS, Builds, calls_of, context, repo

from armbench.agent.loop import Ledger, Pick, TrialClock, default_breakpoints, run_agent
from armbench.agent.tools import (
    BASH,
    BASH_SPEC,
    DELEGATE,
    EDITOR,
    EDITOR_SPEC,
    Toolbox,
)
from armbench.arms.base import ArmContext, ArmOutcome
from armbench.arms.orchestrated import run_orchestrated
from armbench.arms.routed import run_routed
from armbench.arms.routing import classifier_request, read_signals
from armbench.config import (
    OrchestratedArm,
    RetryPolicy,
    ReturnPolicy,
    RoutedArm,
    RoutingStrategy,
    SimModelConfig,
)
from armbench.core import (
    Message,
    ModelRequest,
    Role,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
    extract_lenient,
    extract_strict,
    has_run_line,
)
from armbench.env.local import LocalEnvironment
from armbench.judge.single_shot import format_score
from armbench.models.base import Model
from armbench.models.prompt_cache import linearize
from armbench.models.retry import RetryingCaller
from armbench.prompts import (
    AGENT_SYSTEM,
    CONTRACT,
    EXECUTOR_SYSTEM,
    ROUTER_SYSTEM,
)
from armbench.sim import (
    SimModel,
    SimPolicy,
    TaskBrief,
    parse_instruction,
    reference_answer,
    render_instruction,
)

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


def test_an_executor_sim_learns_its_brief_from_the_instruction_that_opens_its_conversation() -> (
    None
):
    instruction = render_instruction({"a.py": "A = 1\n"}, ["python -c 'import a'"])
    executor = SimModel("worker", STRONG, TaskBrief(solution={"other.py": "X"}), 4, role="executor")
    request = ModelRequest(
        system=PROMPTS.render(EXECUTOR_SYSTEM),
        messages=(Message.user_text(instruction),),
        tools=(EDITOR_SPEC, BASH_SPEC),
    )
    (call,) = executor.complete(request).tool_uses
    # It works on what it was told (a.py), not on the brief it was built with.
    assert (call.name, call.input) == (EDITOR, {"command": "view", "path": "a.py"})


def test_a_file_too_long_to_write_out_is_delegated_as_its_edits(tmp_path: Path) -> None:
    """An answer stops at `max_tokens` (8192 here), so a sim orchestrator does not paste a
    file of some 25,000 tokens into one instruction: it views it and delegates its edits, in
    instructions that fit, and the executor makes them."""
    lines = [f"NAME_{i:04d}: int = {i}" for i in range(3000)]
    target = list(lines)
    for i in (10, 1500, 2990):
        target[i] = f"NAME_{i:04d}: int = -1"
    check = "python -c 'import big; assert big.NAME_0010 == big.NAME_1500 == big.NAME_2990 == -1'"
    root = repo(tmp_path, {"big.py": "\n".join(lines) + "\n"})
    brief = TaskBrief(solution={"big.py": "\n".join(target) + "\n"}, check_commands=(check,))

    def boss(role: Role) -> Model:
        return SimModel("boss", STRONG, brief, 11, role=role)

    def worker(role: Role) -> Model:
        return SimModel("worker", STRONG, TaskBrief(), 20, role=role)

    ctx = context(root, Builds({"boss": boss, "worker": worker}), checks=(check,), limits=LIMITS)
    arm = OrchestratedArm(
        kind="orchestrated",
        orchestrator="boss",
        executor="worker",
        orchestrator_may_edit=False,
        returns=ReturnPolicy(policy="structured"),
    )
    outcome = run_orchestrated(arm, ctx)
    delegations = [c for c in calls_of(outcome.run.messages) if c.name == DELEGATE]
    assert delegations
    handed = parse_instruction(delegations[0].input["instruction"])
    assert not handed.solution and len(handed.edits["big.py"]) == 3
    assert (root / "big.py").read_text() == "\n".join(target) + "\n"
    assert all(r.usage.output <= 8192 for r in ctx.ledger.rows)
    assert outcome.run.stop == "finished"


@pytest.mark.parametrize(
    "old",
    ["", "x", "a\n", "\n\n", "```py\ncode\n```", "EDIT: other.py\n````old", "tail  \n  "],
)
def test_edit_blocks_carry_any_text_exactly(old: str) -> None:
    edits = {"p.py": [(old, old + "!"), ("second", "")], "q.py": [("CHECK: no", "ok")]}
    parsed = parse_instruction(render_instruction({"r.py": "R = 1\n"}, ["true"], edits=edits))
    assert parsed.edits == {path: tuple(pairs) for path, pairs in edits.items()}
    assert parsed.solution == {"r.py": "R = 1\n"} and parsed.check_commands == ("true",)
