"""What the conversation so far says about how a routed arm's work is going.

Every routing strategy reads the same signals, so their decisions can be compared and
explained. Signals (`read_signals`) are read from the messages alone — never from the
workspace — so a decision can be replayed from a transcript:

- `consecutive_failed_checks`: check runs with a non-zero exit code, counted back from the
  most recent check run until a passing one. A check run is a `bash` call whose command
  contains one of the task's check commands (whitespace-normalised), or `pytest`, `mypy` or
  `ruff` when the task names none; its outcome is the `[exit code: N]` line the bash tool ends
  its output with (a timeout counts as a failure; a result without that line is no check run).
- `last_check_failed`: the most recent check run failed (the same as the count above > 0).
- `passed_checks`: check runs that passed, in the whole conversation (the cascade uses it to
  notice a pass since it escalated).
- `malformed_tool_call`: the latest assistant turn called a tool with arguments that were not
  JSON (`UNPARSED_ARGUMENTS`) or a tool that does not exist, or its tool result was an error
  saying so. Small local models fail this way; more of the same model rarely fixes it.
- `tool_errors_recent`: error tool results of the last `RECENT_TURNS` assistant turns.
- `calls_without_progress`: assistant turns since the last one with a successful `editor`
  create / str_replace / insert (all turns when there has been none).
- `context_chars`: characters of the conversation (texts, tool inputs as JSON, tool results) —
  a proxy for how much a model must keep in mind.
- `turns`: assistant turns so far (model calls made).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from armbench.agent.tools import BASH, EDITOR
from armbench.core import (
    UNPARSED_ARGUMENTS,
    Message,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    exited_zero,
)

DEFAULT_CHECK_WORDS: tuple[str, ...] = ("pytest", "mypy", "ruff")
"""What counts as a check run when the task names no check commands."""
RECENT_TURNS = 3
"""How many of the latest assistant turns `tool_errors_recent` looks at."""
KNOWN_TOOLS = frozenset({BASH, EDITOR})
"""The tools a routed arm offers; calling any other is a malformed call."""
EDIT_COMMANDS = frozenset({"create", "str_replace", "insert"})
"""Editor commands that change the workspace — the only thing counted as progress."""
MALFORMED_MARKERS = ("not a JSON object", "unknown tool")
"""Phrases of the tool errors that say a call was malformed (see armbench.agent.tools)."""


@dataclass(frozen=True)
class Signals:
    """What the conversation so far says about how the work is going (see the module doc)."""

    consecutive_failed_checks: int = 0
    last_check_failed: bool = False
    passed_checks: int = 0
    malformed_tool_call: bool = False
    tool_errors_recent: int = 0
    calls_without_progress: int = 0
    context_chars: int = 0
    turns: int = 0


# --- reading signals -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    """One tool call of the conversation with its result (None when none came back)."""

    turn: int
    """1-based index of the assistant turn that made the call."""
    use: ToolUseBlock
    result: ToolResultBlock | None


def _tool_calls(messages: Sequence[Message]) -> tuple[list[_Call], int]:
    """Every tool call in conversation order, paired with its result by id; and the turn count."""
    results = {
        block.tool_use_id: block
        for message in messages
        if message.role == "user"
        for block in message.content
        if isinstance(block, ToolResultBlock)
    }
    calls: list[_Call] = []
    turns = 0
    for message in messages:
        if message.role != "assistant":
            continue
        turns += 1
        calls.extend(_Call(turns, use, results.get(use.id)) for use in message.tool_uses)
    return calls, turns


def _normalise(command: str) -> str:
    return " ".join(command.split())


def _check_needles(check_commands: Sequence[str]) -> tuple[str, ...]:
    """The strings whose presence in a bash command makes it a check run."""
    needles = tuple(n for n in (_normalise(c) for c in check_commands) if n)
    return needles or DEFAULT_CHECK_WORDS


def _check_outcome(call: _Call, needles: Sequence[str]) -> bool | None:
    """True/False for a check run that passed/failed; None for anything else."""
    command = call.use.input.get("command")
    if call.use.name != BASH or not isinstance(command, str) or call.result is None:
        return None
    if call.result.is_error or not any(n in _normalise(command) for n in needles):
        return None
    return exited_zero(call.result.content)


def _trailing_failures(outcomes: Sequence[bool]) -> int:
    count = 0
    for passed in reversed(outcomes):
        if passed:
            break
        count += 1
    return count


def _is_malformed(call: _Call) -> bool:
    if UNPARSED_ARGUMENTS in call.use.input or call.use.name not in KNOWN_TOOLS:
        return True
    result = call.result
    return (
        result is not None
        and result.is_error
        and any(marker in result.content for marker in MALFORMED_MARKERS)
    )


def _is_progress(call: _Call) -> bool:
    return (
        call.use.name == EDITOR
        and call.use.input.get("command") in EDIT_COMMANDS
        and call.result is not None
        and not call.result.is_error
    )


def _block_chars(block: TextBlock | ToolUseBlock | ToolResultBlock) -> int:
    if isinstance(block, TextBlock):
        return len(block.text)
    if isinstance(block, ToolUseBlock):
        return len(block.name) + len(json.dumps(block.input, sort_keys=True, default=str))
    return len(block.content)


def read_signals(messages: Sequence[Message], check_commands: Sequence[str]) -> Signals:
    """The signals of the conversation so far (see the module doc for each one's meaning)."""
    calls, turns = _tool_calls(messages)
    needles = _check_needles(check_commands)
    outcomes = [o for o in (_check_outcome(c, needles) for c in calls) if o is not None]
    failures = _trailing_failures(outcomes)
    last_progress = max((c.turn for c in calls if _is_progress(c)), default=0)
    return Signals(
        consecutive_failed_checks=failures,
        last_check_failed=failures > 0,
        passed_checks=sum(outcomes),
        malformed_tool_call=any(_is_malformed(c) for c in calls if c.turn == turns),
        tool_errors_recent=sum(
            1
            for c in calls
            if c.turn > turns - RECENT_TURNS and c.result is not None and c.result.is_error
        ),
        calls_without_progress=turns - last_progress,
        context_chars=sum(_block_chars(b) for m in messages for b in m.content),
        turns=turns,
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
