"""The agent loop with the offline models: script playback and the sim coder, on real tools."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from agent_helpers import no_wait, run_agent

from armbench.agent.loop import TrialClock, default_breakpoints
from armbench.agent.tools import Toolbox
from armbench.config import SimModelConfig
from armbench.core import Message, ToolResultBlock
from armbench.env import LOCAL
from armbench.models.script import ScriptModel, load_script
from armbench.sim import SimModel, TaskBrief


def toolbox(root: Path) -> Toolbox:
    return Toolbox(LOCAL(root, home=root.parent), bash_timeout_s=30)


def script(tmp_path: Path, turns: list[dict[str, object]]) -> ScriptModel:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(turns))
    return ScriptModel("scripted", load_script(path))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "greet.py").write_text('def greet() -> str:\n    return "hello"\n')
    return root


def test_script_turns_drive_real_tools_and_finish(tmp_path: Path, repo: Path) -> None:
    model = script(
        tmp_path,
        [
            {
                "text": "look",
                "tool_calls": [
                    {"name": "editor", "input": {"command": "view", "path": "greet.py"}}
                ],
            },
            {
                "tool_calls": [
                    {
                        "name": "editor",
                        "input": {
                            "command": "str_replace",
                            "path": "greet.py",
                            "old_str": "hello",
                            "new_str": "hi",
                        },
                    },
                    {"name": "bash", "input": {"command": "grep -c hi greet.py"}},
                ]
            },
            {"text": "done"},
        ],
    )
    run = run_agent(
        model,
        toolbox(repo),
        prompt="say hi",
        role="solo",
        max_iterations=10,
        wall_s=60,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "finished"
    assert run.iterations == 3
    assert (repo / "greet.py").read_text() == 'def greet() -> str:\n    return "hi"\n'
    results = [b for m in run.messages for b in m.content if isinstance(b, ToolResultBlock)]
    assert [r.is_error for r in results] == [False, False, False]
    assert results[-1].content.endswith("1\n[exit code: 0]")
    assert all(c.role == "solo" and c.status == "ok" and c.usage.input > 0 for c in run.calls)


def test_iteration_cap_stops_as_max_iterations(tmp_path: Path, repo: Path) -> None:
    view = {"name": "editor", "input": {"command": "view", "path": "greet.py"}}
    model = script(tmp_path, [{"tool_calls": [view]}] * 5)
    run = run_agent(
        model,
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=3,
        wall_s=60,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "max_iterations"
    assert run.iterations == 3


def test_wall_clock_cap_counts_simulated_latency(tmp_path: Path, repo: Path) -> None:
    view = {"name": "editor", "input": {"command": "view", "path": "greet.py"}}
    model = script(tmp_path, [{"tool_calls": [view], "latency_s": 40}] * 5)
    run = run_agent(
        model,
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=10,
        wall_s=100,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "wall_clock"
    assert run.iterations == 3  # 0 s, 40 s, 80 s: the fourth call would start past 100 s


def test_a_retried_failure_is_a_ledger_row_and_the_call_goes_on(tmp_path: Path, repo: Path) -> None:
    bash = {"name": "bash", "input": {"command": "true"}}
    turns = [{"text": "x", "tool_calls": [bash]}, {"error": "overloaded"}, {"text": "done"}]
    run = run_agent(
        script(tmp_path, turns),
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=10,
        wall_s=60,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "finished" and run.iterations == 2
    assert [(c.status, c.attempt, c.error_class) for c in run.calls] == [
        ("ok", 1, None),
        ("error", 1, "overloaded"),
        ("ok", 2, None),
    ]


def test_a_failure_that_cannot_pass_stops_the_agent_as_model_error(
    tmp_path: Path, repo: Path
) -> None:
    bash = {"name": "bash", "input": {"command": "true"}}
    run = run_agent(
        script(
            tmp_path, [{"text": "x", "tool_calls": [bash]}, {"error": "auth"}, {"text": "never"}]
        ),
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=10,
        wall_s=60,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "model_error"
    assert run.error is not None and run.error.infra_class == "auth" and run.error.fatal
    assert [c.status for c in run.calls] == ["ok", "error"]
    assert run.iterations == 1


def test_default_breakpoints_mark_tools_system_and_latest_user_block() -> None:
    messages = [Message.user_text("a"), Message.user_text("b")]
    points = default_breakpoints(messages)
    assert [p.where for p in points] == ["tools", "system", "message"]
    assert (points[2].message_index, points[2].block_index) == (1, 0)


def sim(
    skill: float, solution: dict[str, str | None], checks: tuple[str, ...], seed: int = 1
) -> SimModel:
    settings = SimModelConfig(provider="sim", skill=skill, min_cacheable_tokens=200)
    return SimModel("coder", settings, TaskBrief(solution=solution, check_commands=checks), seed)


def test_sim_reaches_the_reference_solution_through_the_tools(repo: Path) -> None:
    target = 'def greet(name: str) -> str:\n    return f"hello {name}"\n'
    solution: dict[str, str | None] = {"greet.py": target, "extra.py": "VALUE = 1\n"}
    checks = ('python -c \'import greet, extra; assert greet.greet("x") == "hello x"\'',)
    run = run_agent(
        sim(1.0, solution, checks),
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=30,
        wall_s=600,
        clock=TrialClock(),
        caller=no_wait(),
    )
    assert run.stop == "finished"
    assert (repo / "greet.py").read_text() == target
    assert (repo / "extra.py").read_text() == "VALUE = 1\n"
    # It verified with the check command and saw it pass before finishing.
    outputs = [b.content for m in run.messages for b in m.content if isinstance(b, ToolResultBlock)]
    assert outputs[-1].endswith("[exit code: 0]")


def test_sim_usage_grows_with_the_transcript_and_hits_the_cache(repo: Path) -> None:
    target = 'def greet() -> str:\n    return "hi"\n'
    run = run_agent(
        sim(1.0, {"greet.py": target}, ("true",)),
        toolbox(repo),
        prompt="p",
        role="solo",
        max_iterations=30,
        wall_s=600,
        clock=TrialClock(),
        caller=no_wait(),
    )
    prompts = [c.usage.prompt_tokens for c in run.calls]
    assert prompts == sorted(prompts) and prompts[0] < prompts[-1]
    assert run.calls[0].usage.cache_read == 0
    assert all(c.usage.cache_read > 0 for c in run.calls[1:])
    assert all(c.latency_simulated and c.latency_s > 0 for c in run.calls)


def test_low_skill_sim_makes_wrong_edits_it_repairs_from_check_output(repo: Path) -> None:
    target = 'def greet() -> str:\n    return "hello world"\n'
    checks = ("python -c 'import greet; assert greet.greet() == \"hello world\"'",)
    wrong_first, repaired = 0, 0
    for seed in range(12):
        (repo / "greet.py").write_text('def greet() -> str:\n    return "hello"\n')
        run = run_agent(
            sim(0.5, {"greet.py": target}, checks, seed=seed),
            toolbox(repo),
            prompt="p",
            role="solo",
            max_iterations=40,
            wall_s=600,
            clock=TrialClock(),
            caller=no_wait(),
        )
        edits = [
            b.input["new_str"]
            for m in run.messages
            for b in m.tool_uses
            if b.input["command"] == "str_replace"
        ]
        outputs = [
            b.content for m in run.messages for b in m.content if isinstance(b, ToolResultBlock)
        ]
        if edits[0] != '    return "hello world"':
            wrong_first += 1
            # The wrong edit showed up as a failing check after it, not as a silent fix.
            assert sum("[exit code: 1]" in o for o in outputs) >= 1 + (len(edits) > 1)
            repaired += (repo / "greet.py").read_text() == target
    assert 3 <= wrong_first <= 9
    assert repaired >= 1


def test_sim_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def once(folder: Path) -> list[object]:
        folder.mkdir()
        (folder / "greet.py").write_text('def greet() -> str:\n    return "hello"\n')
        run = run_agent(
            sim(0.6, {"greet.py": 'def greet() -> str:\n    return "hey"\n'}, ("true",), seed=7),
            toolbox(folder),
            prompt="p",
            role="solo",
            max_iterations=30,
            wall_s=600,
            clock=TrialClock(),
            caller=no_wait(),
        )
        return [m.model_dump() for m in run.messages] + [c.usage for c in run.calls]

    assert once(tmp_path / "one") == once(tmp_path / "two")
