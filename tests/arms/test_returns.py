"""What an orchestrator gets back from a delegation: the three return policies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from armbench.agent.loop import AgentRun
from armbench.agent.tools import (
    BASH,
)
from armbench.arms.returns import shape_return
from armbench.config import (
    ReturnPolicy,
)
from armbench.core import (
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)


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
