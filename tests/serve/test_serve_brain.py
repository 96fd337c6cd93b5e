"""The stateless brain: briefs from the pack, a shared cache with per-request TTLs, and whole
conversations over HTTP whose tool calls run for real until the task's judge passes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from armbench.agent.tools import BASH_SPEC, DELEGATE, EDITOR, EDITOR_SPEC, Toolbox
from armbench.config import SimModelConfig
from armbench.core import (
    CacheBreakpoint,
    Message,
    ModelRequest,
    ToolResultBlock,
    ToolUseBlock,
    iter_files,
)
from armbench.env import LOCAL
from armbench.judge.gates import judge
from armbench.prompts import AGENT_SYSTEM, EXECUTOR_SYSTEM, ORCHESTRATOR_SYSTEM, PromptSet
from armbench.serve import SimServer
from armbench.serve.brain import Brain, BrainCall
from armbench.sim import SimAccounting, render_instruction
from armbench.sim import task_brief as brief_for
from armbench.tasks.packs import load_pack
from armbench.tasks.prepare import Prepared, prepare

SYSTEM_PROMPT = PromptSet().render(AGENT_SYSTEM)

PACK = load_pack("demo")
CANARY = "sk-armbench-canary-5f3e9d"
"""The API key the end-to-end clients send; it must not surface anywhere."""


# --- briefs and accounting --------------------------------------------------------------------


def test_an_overlay_task_is_briefed_with_its_solution() -> None:
    brief = brief_for(PACK.task("refactor"))
    assert "tallyho/parsing.py" in brief.solution and brief.restorable == {}
    assert brief.check_commands == PACK.task("refactor").spec.check_commands
    feature = brief_for(PACK.task("feature"))
    assert list(feature.solution) == ["tallyho/reconcile.py"]


def test_a_breakage_task_is_briefed_with_every_pristine_python_file() -> None:
    task = PACK.task("breakage")
    brief = brief_for(task)
    assert brief.solution == {}
    expected = [p for p in iter_files(task.fixture_dir) if p.endswith(".py")]
    assert sorted(brief.restorable) == expected
    assert (
        brief.restorable["tallyho/money.py"] == (task.fixture_dir / "tallyho/money.py").read_text()
    )


def conversation(prompt: str) -> ModelRequest:
    return ModelRequest(system="s", messages=(Message.user_text(prompt),))


def test_the_brief_comes_from_the_first_user_message_and_unknown_prompts_get_none() -> None:
    brain = Brain(pack=PACK)
    prompt = PACK.task("feature").spec.prompt
    assert brain.brief(conversation(prompt.strip())) == brief_for(PACK.task("feature"))
    empty = brain.answer(BrainCall(model="m", request=conversation("hello?")), call_id="x")
    assert empty.stop_reason == "end_turn" and empty.usage.output > 0
    assert Brain(pack=None).brief(conversation(prompt)).solution == {}


def test_skills_are_per_model_and_checked_up_front() -> None:
    brain = Brain(pack=None, default_skill=0.7, model_skills={"weak": 0.2})
    assert brain.accounting("weak").settings.skill == 0.2
    assert brain.accounting("other").settings.skill == 0.7
    assert brain.accounting("weak") is brain.accounting("weak")
    with pytest.raises(ValueError, match="skill"):
        Brain(pack=None, model_skills={"bad": 1.5})


def test_the_seed_follows_server_seed_model_and_prompt() -> None:
    request = conversation(PACK.task("feature").spec.prompt)

    def opening_text(seed: int, model: str) -> str:
        answer = Brain(pack=PACK, seed=seed).answer(BrainCall(model, request), call_id="x")
        return answer.content[0].model_dump()["text"]

    assert opening_text(3, "a") == opening_text(3, "a")  # any server, any time: the same turn
    assert len({opening_text(3, m) for m in "abcdef"}) > 1  # models differ from each other
    assert len({opening_text(s, "a") for s in range(6)}) > 1  # and so do server seeds


def test_ttl_accounting_writes_at_the_requested_ttl_into_one_shared_cache() -> None:
    settings = SimModelConfig(provider="sim", min_cacheable_tokens=10)
    accounting = SimAccounting(settings)
    request = ModelRequest(
        system="a system prompt " * 20,
        messages=(Message.user_text("go"),),
        cache_breakpoints=(CacheBreakpoint(where="system"),),
    )
    content = (ToolUseBlock(id="t", name="bash", input={"command": "true"}),)
    long_lived, _ = accounting.account(request, content, 0.0, ttl="1h")
    assert long_lived.cache_write_1h > 0 and long_lived.cache_write_5m == 0
    # 30 minutes later the 1h entry is still there for a default (5m) request.
    later, _ = accounting.account(request, content, 1800.0)
    assert later.cache_read == long_lived.cache_write_1h
    plain, _ = SimAccounting(settings).account(request, content, 0.0)
    assert plain.cache_write_5m == long_lived.cache_write_1h


# --- whole conversations over HTTP ------------------------------------------------------------

SPECS = (EDITOR_SPEC, BASH_SPEC)


def anthropic_agent(server: SimServer, prompt: str) -> Callable[[Toolbox], int]:
    """A minimal agent on the official Anthropic SDK: armbench's cache markers, real tools."""
    client = anthropic.Anthropic(api_key=CANARY, base_url=server.sdk_base_url, max_retries=0)
    tools = [s.model_dump() for s in SPECS]
    tools[-1]["cache_control"] = {"type": "ephemeral"}

    def run(toolbox: Toolbox) -> int:
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        for turn in range(1, 41):
            blocks = messages[-1]["content"]
            if isinstance(blocks, list):
                blocks[-1]["cache_control"] = {"type": "ephemeral"}
            reply = client.messages.create(
                model="sim-e2e",
                max_tokens=8192,
                system=[
                    {"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
                ],
                tools=tools,
                messages=messages,
            )
            if isinstance(blocks, list):
                del blocks[-1]["cache_control"]
            assert reply.usage.output_tokens > 0
            messages.append({"role": "assistant", "content": [b.to_dict() for b in reply.content]})
            calls = [b for b in reply.content if b.type == "tool_use"]
            if not calls:
                return turn
            results = []
            for call in calls:
                use = ToolUseBlock(id=call.id, name=call.name, input=call.input)
                done = toolbox.execute(use, time_left_s=300)
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "content": done.content,
                        "is_error": done.is_error,
                    }
                )
            messages.append({"role": "user", "content": results})
        raise AssertionError("the sim did not finish in 40 turns")

    return run


def openai_agent(server: SimServer, prompt: str) -> Callable[[Toolbox], int]:
    """A minimal agent on the official OpenAI SDK, executing the calls with the real tools."""
    client = openai.OpenAI(api_key=CANARY, base_url=server.sdk_base_url, max_retries=0)
    tools = [
        {
            "type": "function",
            "function": {
                "name": s.name,
                "description": s.description,
                "parameters": s.input_schema,
            },
        }
        for s in SPECS
    ]

    def run(toolbox: Toolbox) -> int:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt},
        ]
        for turn in range(1, 41):
            reply = client.chat.completions.create(
                model="sim-e2e",
                messages=messages,
                tools=tools,
            )
            message = reply.choices[0].message
            messages.append(message.model_dump(include={"role", "content", "tool_calls"}))
            if not message.tool_calls:
                return turn
            for call in message.tool_calls:
                use = ToolUseBlock(
                    id=call.id,
                    name=call.function.name,
                    input=json.loads(call.function.arguments),
                )
                done = toolbox.execute(use, time_left_s=300)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": done.content})
        raise AssertionError("the sim did not finish in 40 turns")

    return run


def solve(
    tmp_path: Path,
    api: str,
    task_id: str,
    agent: Callable[[SimServer, str], Callable[[Toolbox], int]],
    *,
    inject_seed: int | None = None,
) -> tuple[Prepared, Path, dict[str, Any]]:
    task = PACK.task(task_id)
    prepared = prepare(task, tmp_path / "template", inject_seed=inject_seed, python=sys.executable)
    workspace = tmp_path / "workspace"
    prepared.materialize(workspace)
    home = tmp_path / "home"
    home.mkdir()
    toolbox = Toolbox(LOCAL(workspace, home=home), bash_timeout_s=120)
    with SimServer(api, pack=PACK, default_skill=1.0, seed=0) as server:
        turns = agent(server, task.spec.prompt)(toolbox)
        stats = server.stats()
    assert turns > 3
    assert stats["answered"] == turns == stats["requests"]
    return prepared, workspace, stats


def assert_judged_passing(prepared: Prepared, workspace: Path) -> None:
    gates = judge(workspace, prepared, python=sys.executable)
    failed = [(g.name, g.details) for g in gates if not g.passed]
    assert not failed


def assert_no_leak(tmp_path: Path, stats: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    assert CANARY not in json.dumps(stats)
    assert CANARY not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert CANARY.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_feature_over_the_anthropic_api_reaches_the_reference_solution(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="armbench.serve")
    prepared, workspace, stats = solve(tmp_path, "anthropic", "feature", anthropic_agent)
    assert_judged_passing(prepared, workspace)
    solution = prepared.solution["tallyho/reconcile.py"]
    assert (workspace / "tallyho/reconcile.py").read_text() == solution
    assert stats["models"]["sim-e2e"]["cache_read"] > 0
    assert_no_leak(tmp_path, stats, caplog)


@pytest.mark.slow
def test_refactor_over_the_openai_api_creates_the_new_module(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="armbench.serve")
    prepared, workspace, stats = solve(tmp_path, "openai", "refactor", openai_agent)
    assert_judged_passing(prepared, workspace)
    for path, content in prepared.solution.items():
        assert (workspace / path).read_text() == content
    assert stats["models"]["sim-e2e"]["cache_read"] > 0
    assert_no_leak(tmp_path, stats, caplog)


@pytest.mark.slow
def test_breakage_is_repaired_from_what_the_checks_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="armbench.serve")
    prepared, workspace, stats = solve(
        tmp_path, "anthropic", "breakage", anthropic_agent, inject_seed=1
    )
    assert prepared.injection is not None
    assert_judged_passing(prepared, workspace)
    assert_no_leak(tmp_path, stats, caplog)


@pytest.mark.parametrize("may_edit", [True, False])
def test_the_role_is_read_through_the_prompt_registry(may_edit: bool) -> None:
    """The executor's prompt makes the sim apply the instruction it was sent; an orchestrator's
    prompt (either rendering) makes it lead; a system prompt the registry does not know leaves a
    solo coder, which knows no task by that opening and so has nothing to do."""
    brain = Brain(pack=PACK)
    prompts = PromptSet()
    instruction = render_instruction({"tallyho/x.py": "X = 1\n"}, [])

    def calls(system: str, opening: str) -> list[ToolUseBlock]:
        request = ModelRequest(
            system=system, messages=(Message.user_text(opening),), tools=(EDITOR_SPEC, BASH_SPEC)
        )
        answer = brain.answer(BrainCall(model="m", request=request), call_id="c1")
        return [b for b in answer.content if isinstance(b, ToolUseBlock)]

    (executor,) = calls(prompts.render(EXECUTOR_SYSTEM), instruction)
    assert executor.input == {"command": "view", "path": "tallyho/x.py"}
    assert calls("You are a helpful coder.", instruction) == []
    feature = PACK.task("feature").spec

    def second_call(system: str) -> ToolUseBlock:
        """The call after a failing check run: how a coder goes on tells its role."""
        opening = Message.user_text(feature.prompt)
        tools = (EDITOR_SPEC, BASH_SPEC)
        first = brain.answer(
            BrainCall(
                model="m", request=ModelRequest(system=system, messages=(opening,), tools=tools)
            ),
            call_id="c1",
        )
        (check,) = [b for b in first.content if isinstance(b, ToolUseBlock)]
        assert check.input == {"command": " && ".join(feature.check_commands)}
        result = ToolResultBlock(tool_use_id=check.id, content="1 failed\n[exit code: 1]")
        history = (opening, Message(role="assistant", content=first.content))
        history += (Message(role="user", content=(result,)),)
        then = brain.answer(
            BrainCall(
                model="m", request=ModelRequest(system=system, messages=history, tools=tools)
            ),
            call_id="c2",
        )
        (call,) = [b for b in then.content if isinstance(b, ToolUseBlock)]
        return call

    assert second_call(prompts.render(ORCHESTRATOR_SYSTEM, may_edit=may_edit)).name == DELEGATE
    assert second_call("You are a helpful coder.").name == EDITOR  # solo: it looks itself
