"""The sim policy: a replay reproduces the conversation; check output reveals restorable files."""

from __future__ import annotations

from pathlib import Path

from agent_helpers import no_wait, run_agent

from armbench.agent.loop import TrialClock
from armbench.agent.tools import Toolbox
from armbench.config import SimModelConfig
from armbench.core import Message, ModelRequest, TextBlock, ToolUseBlock
from armbench.env import LOCAL
from armbench.sim import SimAccounting, SimModel, TaskBrief, observations, replay

SETTINGS = SimModelConfig(provider="sim", skill=0.6, min_cacheable_tokens=100)
CHECK = ("python -c 'import a, b; assert a.A == 1 and b.B == 2'",)


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("A = 0\n")
    (root / "b.py").write_text("B = 0\n")
    return root


def test_replaying_a_conversation_gives_the_same_actions(tmp_path: Path) -> None:
    brief = TaskBrief(solution={"a.py": "A = 1\n", "b.py": "B = 2\n"}, check_commands=CHECK)
    root = workspace(tmp_path)
    run = run_agent(
        SimModel("m", SETTINGS, brief, seed=5),
        Toolbox(LOCAL(root), bash_timeout_s=30),
        prompt="p",
        role="solo",
        max_iterations=40,
        wall_s=600,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assistant_turns = [i for i, m in enumerate(run.messages) if m.role == "assistant"]
    assert len(assistant_turns) > 4
    for index in assistant_turns:
        request = ModelRequest(system="s", messages=tuple(run.messages[:index]))
        action = replay(SETTINGS, brief, 5, observations(request))
        live = run.messages[index]
        assert action.text == live.text
        calls = live.tool_uses
        assert (action.tool, action.input) == (
            (calls[0].name, calls[0].input) if calls else (None, None)
        )


def test_restorable_files_are_repaired_once_check_output_names_them(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    (root / "c.py").write_text("C = 3\n")
    checks = ("python -c 'import a' && python -c 'import b' && echo fine",)
    (root / "a.py").write_text("A = \n")  # a syntax error the traceback names
    (root / "b.py").write_text("B = \n")
    pristine = {"a.py": "A = 1\n", "b.py": "B = 2\n", "c.py": "C = 3\n"}
    brief = TaskBrief(check_commands=checks, restorable=pristine)
    strong = SETTINGS.model_copy(update={"skill": 1.0})
    run = run_agent(
        SimModel("m", strong, brief, seed=1),
        Toolbox(LOCAL(root), bash_timeout_s=30),
        prompt="p",
        role="solo",
        max_iterations=40,
        wall_s=600,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert (root / "a.py").read_text() == "A = 1\n" and (root / "b.py").read_text() == "B = 2\n"
    viewed = [
        c.input["path"]
        for m in run.messages
        for c in m.tool_uses
        if c.input.get("command") == "view"
    ]
    assert "c.py" not in viewed  # never named by a check, never touched
    assert viewed.index("a.py") < viewed.index("b.py")  # b was only named after a was fixed


def test_accounting_reports_reasoning_inside_output() -> None:
    settings = SETTINGS.model_copy(update={"reasoning_tokens_per_call": 40, "cache": False})
    request = ModelRequest(system="s", messages=(Message.user_text("hello"),))
    content = (TextBlock(text="hi"), ToolUseBlock(id="t", name="bash", input={"command": "ls"}))
    usage, latency = SimAccounting(settings).account(request, content, now=0.0)
    assert usage.reasoning == 40 and usage.output > 40
    assert usage.cache_read == usage.cache_write_5m == 0 and usage.input > 0
    assert latency > settings.first_token_s


def test_a_file_longer_than_one_view_is_read_to_its_end_before_it_is_edited(
    tmp_path: Path,
) -> None:
    """The editor shows 2000 lines at a time: the sim reads the rest by range, so an edit
    near the end of a long module (typer's main.py has 2,000-odd lines) lands where it
    belongs rather than duplicating the tail it never saw."""
    root = tmp_path / "repo"
    root.mkdir()
    lines = [f"V{i} = {i}" for i in range(2600)]
    (root / "long.py").write_text("\n".join(lines) + "\n")
    target = [*lines]
    target[2400] = "V2400 = -1"
    brief = TaskBrief(solution={"long.py": "\n".join(target) + "\n"}, check_commands=("true",))
    perfect = SimModelConfig(provider="sim", skill=1.0, min_cacheable_tokens=100)
    run = run_agent(
        SimModel("m", perfect, brief, seed=1),
        Toolbox(LOCAL(root), bash_timeout_s=30),
        prompt="p",
        role="solo",
        max_iterations=20,
        wall_s=600,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert (root / "long.py").read_text() == "\n".join(target) + "\n"
    views = [
        call.input for m in run.messages for call in m.tool_uses if call.input["command"] == "view"
    ]
    assert {"command": "view", "path": "long.py", "view_range": [2001, -1]} in views


def test_an_answer_past_max_tokens_is_cut_as_a_provider_cuts_it() -> None:
    """The sim stops writing at the request's `max_tokens`, as an API does: what the budget
    reserved for a call (its `max_tokens` at the output price) bounds what the sim bills."""
    brief = TaskBrief(solution={"a.py": "A = 1\n"}, check_commands=CHECK)
    request = ModelRequest(system="s", messages=(Message.user_text("p"),))
    whole = SimModel("m", SETTINGS, brief, seed=5).complete(request)
    assert whole.stop_reason == "tool_use" and whole.usage.output > 60
    assert (
        whole.usage.output
        == SimModel("m", SETTINGS, brief, seed=5)
        .complete(request.model_copy(update={"max_tokens": whole.usage.output}))
        .usage.output
    )  # an answer that fits exactly is not cut
    for limit in (whole.usage.output - 1, 60, 1):
        cut = SimModel("m", SETTINGS, brief, seed=5).complete(
            request.model_copy(update={"max_tokens": limit})
        )
        assert cut.stop_reason == "max_tokens"
        assert cut.usage.output <= max(limit, SETTINGS.reasoning_tokens_per_call)
        assert not cut.tool_uses  # a call cut short cannot run
        assert all(isinstance(b, TextBlock) for b in cut.content)
    kept = SimModel("m", SETTINGS, brief, seed=5).complete(
        request.model_copy(update={"max_tokens": 60})
    )
    first = whole.content[0]
    assert isinstance(first, TextBlock) and isinstance(kept.content[0], TextBlock)
    assert first.text.startswith(kept.content[0].text) and kept.content[0].text  # what fits
