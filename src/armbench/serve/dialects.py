"""How serve-sim's coder talks to agents that are not armbench's own: their tools, their
results, their endings.

The sim's policy thinks in armbench's two tools — an editor (view, create, str_replace,
insert) and bash, whose results end in an exit line — and says it is done by answering without
a tool. An external agent offers other tools and reports results its own way. A dialect,
picked from the tools a request offers, renders each of the policy's actions as the agent's
tool call and reads the agent's tool results back as the policy's observations, so the same
coder (same decisions, same mistakes at skill below 1, same repairs) plays every agent:

- `armbench`: the editor and bash as armbench's agent offers them (what the sim has always
  spoken);
- `bash-only`: one `bash` tool (mini-swe-agent and agents like it). Views are `cat -n`; edits
  are small Python programs fed to `python3` on a quoted here-document, with the editor's own
  checks (the old text must occur exactly once); results are read from mini-swe-agent's JSON
  (`{"returncode": …, "output": …}`) or taken whole. It ends by the agent's own sentinel
  command when the conversation names one (`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`),
  since such agents refuse an answer without a command;
- `claude-code`: Claude Code's `Read`, `Write`, `Edit` and `Bash` on absolute paths under the
  working directory its system prompt states.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Protocol

from armbench.agent.tools import BASH, EDITOR
from armbench.core import (
    Block,
    Message,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    exit_line,
    trailing_exit_code,
)
from armbench.sim import Observation, SimAction, can_edit, observations, render

MINI_SENTINEL = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"
_CLAUDE_TOOLS = frozenset({"Read", "Write", "Edit", "Bash"})
_WORKDIR = re.compile(r"(?:Primary working directory|Working directory):\s*(\S+)")
_CLAUDE_EXIT = re.compile(r"\AExit code (\d+)")


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    def observations(self, request: ModelRequest) -> list[Observation]:
        """The result of each tool call so far, as the policy reads armbench's."""
        ...

    def can_edit(self, request: ModelRequest) -> bool: ...

    def render(self, action: SimAction, call_id: str, request: ModelRequest) -> tuple[Block, ...]:
        """The answer's content: the action's prose, then its call in the agent's tools."""
        ...


def tool_results(request: ModelRequest) -> list[tuple[str, bool]]:
    """Every tool result of the conversation, in order: its text and its error flag."""
    return [
        (block.content, block.is_error)
        for message in request.messages
        if message.role == "user"
        for block in message.content
        if isinstance(block, ToolResultBlock)
    ]


@dataclass(frozen=True)
class Armbench:
    name: str = "armbench"

    def observations(self, request: ModelRequest) -> list[Observation]:
        return observations(request)

    def can_edit(self, request: ModelRequest) -> bool:
        return can_edit(request)

    def render(self, action: SimAction, call_id: str, request: ModelRequest) -> tuple[Block, ...]:
        return render(action, call_id)


def python_edit(action: dict[str, Any]) -> str:
    """An editor action as a Python program with the editor's checks, for `python3 -`."""
    path = json.dumps(action["path"])
    command = action["command"]
    lines = ["import pathlib, sys", f"p = pathlib.Path({path})"]
    if command == "create":
        lines += [
            "if p.exists(): sys.exit(f'{p}: already exists')",
            "p.parent.mkdir(parents=True, exist_ok=True)",
            f"p.write_text({json.dumps(action['file_text'])})",
        ]
    elif command == "str_replace":
        lines += [
            f"old, new = {json.dumps(action['old_str'])}, {json.dumps(action['new_str'])}",
            "text = p.read_text()",
            "n = text.count(old)",
            "if n != 1: sys.exit(f'{p}: the old text occurs {n} times, not once')",
            "p.write_text(text.replace(old, new, 1))",
        ]
    elif command == "insert":
        lines += [
            "lines = p.read_text().splitlines(keepends=True)",
            f"at = {int(action['insert_line'])}",
            "if not 0 <= at <= len(lines): sys.exit(f'{p}: no line {at}')",
            f"new = {json.dumps(action['new_str'])}",
            "p.write_text(''.join(lines[:at]) + new + ('' if new.endswith(chr(10)) else chr(10))"
            " + ''.join(lines[at:]))",
        ]
    else:
        raise ValueError(f"no Python program for the editor's {command!r}")
    lines.append(f"print({path}, 'written')")
    return "python3 - <<'ARMBENCH_EDIT'\n" + "\n".join(lines) + "\nARMBENCH_EDIT"


def bash_command(action: SimAction) -> str | None:
    """The policy's action as one bash command (None: it calls no tool)."""
    if action.tool == BASH and action.input is not None:
        return str(action.input["command"])
    if action.tool == EDITOR and action.input is not None:
        if action.input["command"] == "view":
            return f"cat -n -- {shlex.quote(action.input['path'])}"
        return python_edit(action.input)
    return None


def _mini_result(text: str, is_error: bool) -> Observation:
    """mini-swe-agent's tool result (`{"returncode": N, "output": "…"}`) as a bash result."""
    try:
        data = json.loads(text)
        code, output = int(data["returncode"]), str(data["output"])
    except (ValueError, KeyError, TypeError):
        return text, is_error
    body = output if output.endswith("\n") or not output else output + "\n"
    return body + exit_line(code), code != 0


@dataclass(frozen=True)
class BashOnly:
    name: str = "bash-only"

    def observations(self, request: ModelRequest) -> list[Observation]:
        return [_mini_result(text, error) for text, error in tool_results(request)]

    def can_edit(self, request: ModelRequest) -> bool:
        return True

    def render(self, action: SimAction, call_id: str, request: ModelRequest) -> tuple[Block, ...]:
        command = bash_command(action)
        if command is None and _mentions(request, MINI_SENTINEL):
            command = f"echo {MINI_SENTINEL}"
        text: tuple[Block, ...] = (TextBlock(text=action.text),)
        if command is None:
            return text
        return (*text, ToolUseBlock(id=call_id, name="bash", input={"command": command}))


def _mentions(request: ModelRequest, word: str) -> bool:
    if word in request.system:
        return True
    return any(word in m.text for m in request.messages if m.role == "user")


def _claude_result(text: str, is_error: bool, kind: str) -> Observation:
    """A Claude Code tool result as the policy reads armbench's: Bash's with an exit line,
    Read's numbered lines without the empty line it shows after a final newline."""
    if kind == "Bash":
        code = 0
        if is_error:
            found = _CLAUDE_EXIT.match(text)
            code = int(found.group(1)) if found else 1
        body = text if text.endswith("\n") or not text else text + "\n"
        return body + exit_line(code), code != 0
    if kind == "Read" and not is_error:
        lines = text.splitlines()
        if lines and re.fullmatch(r"\s*\d+\t", lines[-1]):
            lines = lines[:-1]
        return "\n".join(lines), False
    return text, is_error


@dataclass(frozen=True)
class ClaudeCode:
    name: str = "claude-code"

    def observations(self, request: ModelRequest) -> list[Observation]:
        kinds = {
            block.id: block.name
            for message in request.messages
            for block in message.content
            if isinstance(block, ToolUseBlock)
        }
        return [
            _claude_result(block.content, block.is_error, kinds.get(block.tool_use_id, ""))
            for message in request.messages
            if message.role == "user"
            for block in message.content
            if isinstance(block, ToolResultBlock)
        ]

    def can_edit(self, request: ModelRequest) -> bool:
        return True

    def render(self, action: SimAction, call_id: str, request: ModelRequest) -> tuple[Block, ...]:
        text: tuple[Block, ...] = (TextBlock(text=action.text),)
        if action.tool is None or action.input is None:
            return text
        found = _WORKDIR.search(request.system)
        root = found.group(1).rstrip("/") if found else "."
        name, arguments = _claude_call(action, root)
        return (*text, ToolUseBlock(id=call_id, name=name, input=arguments))


def _claude_call(action: SimAction, root: str) -> tuple[str, dict[str, Any]]:
    assert action.input is not None
    if action.tool == BASH:
        return "Bash", {"command": action.input["command"], "timeout": 600000}
    given = action.input
    path = f"{root}/{given['path']}"
    command = given["command"]
    if command == "view":
        return "Read", {"file_path": path}
    if command == "create":
        return "Write", {"file_path": path, "content": given["file_text"]}
    if command == "str_replace":
        edit = {"old_string": given["old_str"], "new_string": given["new_str"]}
        return "Edit", {"file_path": path, **edit, "replace_all": False}
    if command == "insert" and int(given["insert_line"]) == 0:  # the policy fills empty files
        return "Write", {"file_path": path, "content": given["new_str"]}
    return "Bash", {"command": python_edit(given)}


ARMBENCH, BASH_ONLY, CLAUDE_CODE = Armbench(), BashOnly(), ClaudeCode()


def dialect_of(request: ModelRequest) -> Dialect:
    """The dialect of the agent that sent `request`, told by the tools it offers."""
    names = {tool.name for tool in request.tools}
    if names >= _CLAUDE_TOOLS:
        return CLAUDE_CODE
    if names == {"bash"}:
        return BASH_ONLY
    return ARMBENCH


_CLAUDE_AS_ARMBENCH = {"Bash": BASH, "Read": EDITOR, "Write": EDITOR, "Edit": EDITOR}


def _armbench_call(block: ToolUseBlock) -> ToolUseBlock | None:
    """A Claude Code tool call as armbench's bash or editor call (None: no counterpart)."""
    given = block.input
    name = _CLAUDE_AS_ARMBENCH.get(block.name)
    if name is None:
        return None
    path = str(given.get("file_path", ""))
    arguments: dict[str, Any]
    if block.name == "Bash":
        arguments = {"command": str(given.get("command", ""))}
    elif block.name == "Read":
        arguments = {"command": "view", "path": path}
    elif block.name == "Write":
        arguments = {"command": "create", "path": path, "file_text": given.get("content", "")}
    else:
        arguments = {"command": "str_replace", "path": path}
    return ToolUseBlock(id=block.id, name=name, input=arguments)


def as_armbench(request: ModelRequest) -> list[Message]:
    """The conversation as armbench's own agent would have had it — its bash and editor calls,
    results ending in an exit line — so the routed strategies read the same signals from an
    external agent's calls as from armbench's (`armbench.arms.routing.signals`). Calls with no
    counterpart (Claude Code's task tools) are left out with their results. aider has no tools:
    its conversation is taken as it is."""
    dialect = dialect_of(request)
    if dialect is ARMBENCH:
        return list(request.messages)
    kept: dict[str, str] = {}
    messages: list[Message] = []
    for message in request.messages:
        blocks: list[Block] = []
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                call = block if dialect is BASH_ONLY else _armbench_call(block)
                if call is not None:
                    kept[block.id] = block.name
                    blocks.append(call)
            elif isinstance(block, ToolResultBlock):
                if block.tool_use_id not in kept:
                    continue
                if dialect is BASH_ONLY:
                    text, error = _mini_result(block.content, block.is_error)
                else:
                    text, error = _claude_result(
                        block.content, block.is_error, kept[block.tool_use_id]
                    )
                if trailing_exit_code(text) is not None:  # armbench's bash: the line tells
                    error = False
                blocks.append(block.model_copy(update={"content": text, "is_error": error}))
            else:
                blocks.append(block)
        if blocks:
            messages.append(Message(role=message.role, content=tuple(blocks)))
    return messages
