"""The classifier strategy: before every call, ask a cheap model whether it should go to the
local or the cloud model.

The question (`classifier_request`) is the router prompt (`router.system`) and one user message:
a digest of the signals (`name=value` lines under `signals:`, first, so they are never cut),
the task's opening and the latest turns, at most `MAX_DIGEST_CHARS` characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from armbench.arms.routing.signals import Signals, plural, read_signals
from armbench.arms.routing.strategies import RouteDecision
from armbench.core import (
    Message,
    ModelRequest,
    ModelResponse,
    Route,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)

MAX_DIGEST_CHARS = 2000
"""Cap on the classifier's user message: the router call must stay much cheaper than a step."""
DIGEST_TURNS = 4
"""Latest messages shown to the classifier."""
_TASK_CHARS = 300
_BLOCK_CHARS = 240
SIGNALS_HEADER = "signals:"
SIGNAL_FIELDS = (
    "consecutive_failed_checks",
    "last_check_failed",
    "malformed_tool_call",
    "tool_errors_recent",
    "calls_without_progress",
    "context_chars",
    "turns",
)


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _signal_lines(signals: Signals) -> list[str]:
    def show(value: int | bool) -> str:
        return ("yes" if value else "no") if isinstance(value, bool) else str(value)

    return [f"{name}={show(getattr(signals, name))}" for name in SIGNAL_FIELDS]


def _block_line(block: TextBlock | ToolUseBlock | ToolResultBlock) -> str:
    if isinstance(block, TextBlock):
        return _clip(block.text, _BLOCK_CHARS)
    if isinstance(block, ToolUseBlock):
        args = json.dumps(block.input, sort_keys=True, default=str)
        return f"call {block.name} {_clip(args, _BLOCK_CHARS)}"
    tag = "error result" if block.is_error else "result"
    return f"{tag}: {_clip(block.content[-_BLOCK_CHARS:], _BLOCK_CHARS)}"


def _recent_lines(messages: Sequence[Message], budget: int) -> list[str]:
    """The latest messages, one line per block, newest kept when the budget runs out."""
    lines = [
        f"[{message.role}] {_block_line(block)}"
        for message in messages[-DIGEST_TURNS:]
        for block in message.content
    ]
    kept: list[str] = []
    for line in reversed(lines):
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    return kept[::-1]


def _task_text(messages: Sequence[Message]) -> str:
    first = messages[0] if messages else None
    return _clip(first.text, _TASK_CHARS) if first is not None and first.role == "user" else ""


def classifier_request(
    messages: Sequence[Message], signals: Signals, *, system: str
) -> ModelRequest:
    """The router call: `system` (the `router.system` prompt) and one user message — the
    signals first (so they are never cut and `digest_signals` can read them), the task's
    opening, then recent turns — at most `MAX_DIGEST_CHARS` characters."""
    head = [SIGNALS_HEADER, *_signal_lines(signals), "", f"task: {_task_text(messages)}", ""]
    head_text = "\n".join(head)
    footer = "Answer LOCAL or CLOUD."
    recent_header = "recent turns:"
    budget = MAX_DIGEST_CHARS - len(head_text) - len(recent_header) - len(footer) - 3
    recent = _recent_lines(messages, budget)
    digest = "\n".join([head_text, recent_header, *recent, "", footer])
    return ModelRequest(system=system, messages=(Message.user_text(digest),), max_tokens=16)


_ANSWER = re.compile(r"\b(local|cloud)\b", re.IGNORECASE)


def parse_classifier_answer(text: str) -> Route | None:
    """The first of the words LOCAL / CLOUD in `text` (any case); None when neither appears."""
    match = _ANSWER.search(text)
    if match is None:
        return None
    return "local" if match.group(1).lower() == "local" else "cloud"


def _response_text(response: ModelResponse) -> str:
    return "\n".join(b.text for b in response.content if isinstance(b, TextBlock))


@dataclass(frozen=True)
class ClassifierRouter:
    """`classifier`: ask a cheap model with `classifier_request` before every call. An answer
    naming neither model goes to the cloud: a wasted cloud call costs money, a wrong local call
    can cost the trial. A failing `classify` raises — the arm runner treats it as the call
    failing, so an outage is never silently routed."""

    classify: Callable[[ModelRequest], ModelResponse]
    check_commands: tuple[str, ...]
    system: str
    """The classifier's system prompt (`router.system`)."""

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        signals = read_signals(messages, self.check_commands)
        request = classifier_request(messages, signals, system=self.system)
        answer = _response_text(self.classify(request))
        target = parse_classifier_answer(answer)
        shown = _clip(answer, 60)
        context = (
            f"{plural(signals.consecutive_failed_checks, 'failed check')} in a row, "
            f"{plural(signals.tool_errors_recent, 'recent tool error')}, "
            f"{signals.context_chars:,} context chars"
        )
        if target is None:
            return RouteDecision(
                "cloud", f"classifier answer {shown!r} names neither LOCAL nor CLOUD; cloud"
            )
        return RouteDecision(target, f"classifier answered {shown!r} with {context}")


def digest_signals(request: ModelRequest) -> dict[str, str] | None:
    """The `name=value` lines of the signals section of a classifier request, or None."""
    text = request.messages[-1].text if request.messages else ""
    lines = text.splitlines()
    if SIGNALS_HEADER not in lines:
        return None
    values: dict[str, str] = {}
    for line in lines[lines.index(SIGNALS_HEADER) + 1 :]:
        name, sep, value = line.partition("=")
        if not sep:
            break
        values.setdefault(name.strip(), value.strip())
    return values if all(name in values for name in SIGNAL_FIELDS) else None
