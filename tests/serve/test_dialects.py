"""serve-sim's dialects: the sim's actions as an external agent's tool calls, and the agent's
results (and calls) read back as armbench's own.

What must hold: an edit rendered for a bash-only agent does what armbench's editor would do
(including refusing an `old` text that is not there exactly once); results come back with
armbench's exit line, so the sim's policy and the routing signals read them as they read
armbench's bash; Claude Code's calls map onto the editor and bash, and its other tools are
left out.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from armbench.agent.tools import BASH, EDITOR
from armbench.arms.routing import read_signals
from armbench.core import Message, ModelRequest, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from armbench.serve.dialects import (
    BASH_ONLY,
    CLAUDE_CODE,
    MINI_SENTINEL,
    as_armbench,
    dialect_of,
    python_edit,
)
from armbench.sim import SimAction

CHECKS = ("python -m pytest -q",)


def _run(program: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", program], cwd=cwd, capture_output=True, text=True)


def test_edits_for_a_bash_only_agent_do_what_the_editor_does(tmp_path: Path) -> None:
    created = _run(
        python_edit({"command": "create", "path": "a/b.py", "file_text": "x = 1\n"}), tmp_path
    )
    assert created.returncode == 0 and (tmp_path / "a/b.py").read_text() == "x = 1\n"
    again = _run(python_edit({"command": "create", "path": "a/b.py", "file_text": "y\n"}), tmp_path)
    assert again.returncode != 0 and "already exists" in again.stderr
    text = 'say = "it\'s $HOME `x` \\\\ \\u00e9"\nx = 1\n'
    (tmp_path / "c.py").write_text(text + "x = 1\n")
    twice = {"command": "str_replace", "path": "c.py", "old_str": "x = 1", "new_str": "x = 2"}
    refused = _run(python_edit(twice), tmp_path)
    assert refused.returncode != 0 and "2 times" in refused.stderr
    once = {**twice, "old_str": "x = 1\nx = 1", "new_str": "x = 2\nx = 3"}
    assert _run(python_edit(once), tmp_path).returncode == 0
    assert (tmp_path / "c.py").read_text() == text.replace("x = 1\n", "x = 2\nx = 3\n")
    (tmp_path / "e.py").write_text("")
    filled = {"command": "insert", "path": "e.py", "insert_line": 0, "new_str": "z = 0"}
    assert _run(python_edit(filled), tmp_path).returncode == 0
    assert (tmp_path / "e.py").read_text() == "z = 0\n"


def _mini(messages: list[Message], system: str = "") -> ModelRequest:
    tool = ToolSpec(name="bash", description="run", input_schema={"type": "object"})
    return ModelRequest(system=system, messages=tuple(messages), tools=(tool,), max_tokens=100)


def test_a_bash_only_agents_results_read_as_armbench_bash_results() -> None:
    use = ToolUseBlock(id="c1", name="bash", input={"command": "python -m pytest -q"})
    result = json.dumps({"returncode": 1, "output": "1 failed"})
    request = _mini(
        [
            Message.user_text(f"task; finish with echo {MINI_SENTINEL}"),
            Message(role="assistant", content=(use,)),
            Message(role="user", content=(ToolResultBlock(tool_use_id="c1", content=result),)),
        ]
    )
    assert dialect_of(request) is BASH_ONLY
    assert BASH_ONLY.observations(request) == [("1 failed\n[exit code: 1]", True)]
    signals = read_signals(as_armbench(request), CHECKS)
    assert signals.consecutive_failed_checks == 1 and signals.last_check_failed
    done = BASH_ONLY.render(SimAction("Done."), "c2", request)  # no tool: the sentinel
    assert done[-1] == ToolUseBlock(
        id="c2", name="bash", input={"command": f"echo {MINI_SENTINEL}"}
    )
    view = BASH_ONLY.render(
        SimAction("Look.", EDITOR, {"command": "view", "path": "a b.py"}), "c3", request
    )
    assert view[-1].input == {"command": "cat -n -- 'a b.py'"}  # type: ignore[union-attr]


def test_claude_codes_calls_map_onto_armbench_tools_and_the_rest_is_left_out() -> None:
    tools = tuple(
        ToolSpec(name=n, description=n, input_schema={"type": "object"})
        for n in ("Read", "Write", "Edit", "Bash", "TaskCreate")
    )
    calls = (
        ToolUseBlock(id="r", name="Read", input={"file_path": "/w/a.py"}),
        ToolUseBlock(id="t", name="TaskCreate", input={"subject": "plan"}),
        ToolUseBlock(id="b", name="Bash", input={"command": "python -m pytest -q"}),
    )
    results = (
        ToolResultBlock(tool_use_id="r", content="1\tx = 1\n2\t"),
        ToolResultBlock(tool_use_id="t", content="Task #1 created"),
        ToolResultBlock(tool_use_id="b", content="Exit code 1\n1 failed", is_error=True),
    )
    request = ModelRequest(
        system="Primary working directory: /w",
        messages=(Message.user_text("task"), Message(role="assistant", content=calls)),
        tools=tools,
        max_tokens=100,
    )
    request = request.model_copy(
        update={"messages": (*request.messages, Message(role="user", content=results))}
    )
    assert dialect_of(request) is CLAUDE_CODE
    seen = CLAUDE_CODE.observations(request)
    assert seen[0] == ("1\tx = 1", False)  # the empty line after the final newline dropped
    assert seen[2] == ("Exit code 1\n1 failed\n[exit code: 1]", True)
    view = as_armbench(request)
    names = [b.name for m in view for b in m.content if isinstance(b, ToolUseBlock)]
    assert names == [EDITOR, BASH]
    assert read_signals(view, CHECKS).consecutive_failed_checks == 1
    write = CLAUDE_CODE.render(
        SimAction("Write.", EDITOR, {"command": "create", "path": "n.py", "file_text": "y\n"}),
        "w",
        request,
    )
    assert write[-1] == ToolUseBlock(
        id="w", name="Write", input={"file_path": "/w/n.py", "content": "y\n"}
    )
    assert isinstance(write[0], TextBlock)
