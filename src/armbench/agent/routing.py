"""Where each model call of a routed arm goes: the `local` or the `cloud` model.

A routed arm runs one agent conversation; before every model call the arm runner asks a
`Router` (one per trial) to `decide` from the conversation so far. Every strategy reads the
same signals, so their decisions can be compared and explained.

Signals (`read_signals`), all read from the messages alone — never from the workspace — so a
decision can be replayed from a transcript:

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

Strategies (`make_router`) and their rules are documented on each router class below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from armbench.agent.tools import BASH, EDITOR
from armbench.config import RoutingStrategy
from armbench.core import (
    UNPARSED_ARGUMENTS,
    Message,
    ModelRequest,
    ModelResponse,
    Route,
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
class RouteDecision:
    """Where one model call goes, and why — in one sentence with the numbers that decided."""

    target: Route
    reason: str


class Router(Protocol):
    """Picks the model of each call of one trial; may keep per-trial state."""

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        """Called before every model call with the conversation so far."""
        ...


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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- constant routers ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstantRouter:
    """`always-local` / `always-cloud`: the baselines every other strategy is measured against."""

    target: Route

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        return RouteDecision(self.target, f"strategy always-{self.target} sends every call there")


# --- heuristic -------------------------------------------------------------------------------

HEURISTIC_WEIGHTS: dict[str, float] = {
    "last_check_failed": 0.25,
    "consecutive_failed_checks": 0.25,
    "tool_errors_recent": 0.15,
    "malformed_tool_call": 0.20,
    "context_chars": 0.15,
}
"""Weights of the heuristic score; they sum to 1 so the score stays in [0, 1]. Failing checks
weigh most (they are the plainest sign the local model is stuck); a malformed call is a sign
of a model out of its depth; a long context is where small models degrade."""
SATURATE_FAILED_CHECKS = 3
"""Failed checks in a row at which their term is full: by then more of the same will not help."""
SATURATE_TOOL_ERRORS = 3
SATURATE_CONTEXT_CHARS = 200_000


def heuristic_terms(signals: Signals) -> dict[str, float]:
    """Each weighted term of the heuristic score (the score is their sum).

    score = 0.25·[last check failed] + 0.25·min(failed checks in a row, 3)/3
          + 0.15·min(recent tool errors, 3)/3 + 0.20·[malformed tool call]
          + 0.15·min(context chars, 200k)/200k
    With threshold 0.5 the local model gets two failed checks to repair before the third
    sends it to the cloud; a malformed call plus one failed check does too.
    """

    def ramp(value: int, full: int) -> float:
        return min(value, full) / full

    def flag(value: bool) -> float:
        return 1.0 if value else 0.0

    w = HEURISTIC_WEIGHTS
    return {
        "last_check_failed": w["last_check_failed"] * flag(signals.last_check_failed),
        "consecutive_failed_checks": w["consecutive_failed_checks"]
        * ramp(signals.consecutive_failed_checks, SATURATE_FAILED_CHECKS),
        "tool_errors_recent": w["tool_errors_recent"]
        * ramp(signals.tool_errors_recent, SATURATE_TOOL_ERRORS),
        "malformed_tool_call": w["malformed_tool_call"] * flag(signals.malformed_tool_call),
        "context_chars": w["context_chars"] * ramp(signals.context_chars, SATURATE_CONTEXT_CHARS),
    }


def heuristic_score(signals: Signals) -> float:
    """The heuristic score in [0, 1], rounded so that sums of thirds compare exactly."""
    return round(sum(heuristic_terms(signals).values()), 9)


def _term_label(name: str, signals: Signals) -> str:
    labels = {
        "last_check_failed": "last check failed",
        "consecutive_failed_checks": _plural(signals.consecutive_failed_checks, "failed check")
        + " in a row",
        "tool_errors_recent": _plural(signals.tool_errors_recent, "recent tool error"),
        "malformed_tool_call": "malformed tool call",
        "context_chars": f"{signals.context_chars:,} context chars",
    }
    return labels[name]


@dataclass(frozen=True)
class HeuristicRouter:
    """`heuristic`: cloud iff `heuristic_score(signals) >= threshold`. Stateless, so the first
    call (no signals, score 0) goes local unless the threshold is 0."""

    threshold: float
    check_commands: tuple[str, ...]

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        signals = read_signals(messages, self.check_commands)
        terms = heuristic_terms(signals)
        score = heuristic_score(signals)
        target: Route = "cloud" if score >= self.threshold else "local"
        relation = ">=" if target == "cloud" else "<"
        main = sorted((t for t in terms.items() if t[1] >= 0.005), key=lambda t: -t[1])[:3]
        why = ", ".join(f"{_term_label(n, signals)} +{v:.2f}" for n, v in main)
        return RouteDecision(
            target,
            f"heuristic score {score:.2f} {relation} threshold {self.threshold:.2f}"
            + (f" ({why})" if why else " (no trouble signals)"),
        )


# --- cascade ---------------------------------------------------------------------------------


class CascadeRouter:
    """`cascade`: start local; escalate to cloud on the first of
    - a malformed tool call in the latest turn,
    - `consecutive_failed_checks >= max(1, ceil(threshold))` (threshold 0.5 → one failure),
    - `calls_without_progress >= no_progress_calls`;
    once escalated, stay on cloud — unless `deescalate` is set and a check run has passed since
    the escalation: then back to local with the counters reset (only turns after the
    de-escalation count towards the next escalation, so old failures do not bounce it back).
    """

    def __init__(self, strategy: RoutingStrategy, check_commands: Sequence[str]) -> None:
        self.failures_to_escalate = max(1, math.ceil(strategy.threshold))
        self.no_progress_calls = strategy.no_progress_calls
        self.deescalate = strategy.deescalate
        self.check_commands = tuple(check_commands)
        self._origin = 0
        """Index of the first message the escalation counters look at."""
        self._escalated_at: int | None = None
        """Message count when the cascade escalated; None while local."""
        self._escalated_turn = 0
        self._escalation_reason = ""

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        if self._escalated_at is not None:
            return self._while_escalated(messages)
        window = read_signals(messages[self._origin :], self.check_commands)
        trigger = self._trigger(window)
        if trigger is None:
            return RouteDecision("local", self._local_reason(window))
        self._escalated_at = len(messages)
        self._escalated_turn = read_signals(messages, self.check_commands).turns
        self._escalation_reason = trigger
        return RouteDecision("cloud", f"escalating to cloud: {trigger}")

    def _trigger(self, s: Signals) -> str | None:
        """Which escalation rule fires, as a phrase; None when none does."""
        if s.malformed_tool_call:
            return "the latest turn made a malformed tool call"
        if s.consecutive_failed_checks >= self.failures_to_escalate:
            return (
                f"{_plural(s.consecutive_failed_checks, 'failed check')} in a row "
                f"(escalates at {self.failures_to_escalate})"
            )
        if s.calls_without_progress >= self.no_progress_calls:
            return (
                f"{_plural(s.calls_without_progress, 'call')} without a successful edit "
                f"(escalates at {self.no_progress_calls})"
            )
        return None

    def _local_reason(self, s: Signals) -> str:
        return (
            f"staying local: {_plural(s.consecutive_failed_checks, 'failed check')} in a row "
            f"(escalates at {self.failures_to_escalate}), "
            f"{_plural(s.calls_without_progress, 'call')} without progress "
            f"(escalates at {self.no_progress_calls}), no malformed tool call"
        )

    def _while_escalated(self, messages: Sequence[Message]) -> RouteDecision:
        assert self._escalated_at is not None
        since = read_signals(messages[self._escalated_at :], self.check_commands)
        if self.deescalate and since.passed_checks > 0:
            self._escalated_at = None
            self._origin = len(messages)
            return RouteDecision(
                "local",
                f"de-escalating to local: {_plural(since.passed_checks, 'check run')} passed on "
                f"the cloud since the escalation at turn {self._escalated_turn}; counters reset",
            )
        return RouteDecision(
            "cloud",
            f"staying on cloud since the escalation at turn {self._escalated_turn}, "
            f"on {self._escalation_reason}",
        )


# --- classifier ------------------------------------------------------------------------------

ROUTER_SYSTEM = """\
You route the next step of a coding agent to one of two models: LOCAL (small, cheap, fine for \
routine edits and running checks) or CLOUD (strong, expensive, for when the agent is stuck, \
its checks keep failing, its tool calls are malformed, or the context is long). Read the \
signals and recent turns. Answer with exactly one word: LOCAL or CLOUD."""

MAX_DIGEST_CHARS = 2000
"""Cap on the classifier's user message: the router call must stay much cheaper than a step."""
DIGEST_TURNS = 4
"""Latest messages shown to the classifier."""
_TASK_CHARS = 300
_BLOCK_CHARS = 240
_SIGNALS_HEADER = "signals:"
_SIGNAL_FIELDS = (
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

    return [f"{name}={show(getattr(signals, name))}" for name in _SIGNAL_FIELDS]


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


def classifier_request(messages: Sequence[Message], signals: Signals) -> ModelRequest:
    """The router call: `ROUTER_SYSTEM` and one user message — the signals first (so they are
    never cut and `reference_answer` can read them), the task's opening, then recent turns —
    at most `MAX_DIGEST_CHARS` characters."""
    head = [_SIGNALS_HEADER, *_signal_lines(signals), "", f"task: {_task_text(messages)}", ""]
    head_text = "\n".join(head)
    footer = "Answer LOCAL or CLOUD."
    recent_header = "recent turns:"
    budget = MAX_DIGEST_CHARS - len(head_text) - len(recent_header) - len(footer) - 3
    recent = _recent_lines(messages, budget)
    digest = "\n".join([head_text, recent_header, *recent, "", footer])
    return ModelRequest(system=ROUTER_SYSTEM, messages=(Message.user_text(digest),), max_tokens=16)


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

    def decide(self, messages: Sequence[Message]) -> RouteDecision:
        signals = read_signals(messages, self.check_commands)
        answer = _response_text(self.classify(classifier_request(messages, signals)))
        target = parse_classifier_answer(answer)
        shown = _clip(answer, 60)
        context = (
            f"{_plural(signals.consecutive_failed_checks, 'failed check')} in a row, "
            f"{_plural(signals.tool_errors_recent, 'recent tool error')}, "
            f"{signals.context_chars:,} context chars"
        )
        if target is None:
            return RouteDecision(
                "cloud", f"classifier answer {shown!r} names neither LOCAL nor CLOUD; cloud"
            )
        return RouteDecision(target, f"classifier answered {shown!r} with {context}")


# --- the sensible classifier -----------------------------------------------------------------

REFERENCE_FAILED_CHECKS = 2
"""Failed checks in a row at which a sensible classifier calls for the cloud."""
REFERENCE_CONTEXT_CHARS = 100_000
"""Context size at which a sensible classifier calls for the cloud."""


def _digest_signals(request: ModelRequest) -> dict[str, str] | None:
    """The `name=value` lines of the signals section of a classifier request, or None."""
    text = request.messages[-1].text if request.messages else ""
    lines = text.splitlines()
    if _SIGNALS_HEADER not in lines:
        return None
    values: dict[str, str] = {}
    for line in lines[lines.index(_SIGNALS_HEADER) + 1 :]:
        name, sep, value = line.partition("=")
        if not sep:
            break
        values.setdefault(name.strip(), value.strip())
    return values if all(name in values for name in _SIGNAL_FIELDS) else None


def reference_answer(request: ModelRequest) -> str:
    """What a sensible classifier answers to `classifier_request`: CLOUD when the last checks
    failed `REFERENCE_FAILED_CHECKS` times in a row, a tool call was malformed, or the context
    reached `REFERENCE_CONTEXT_CHARS`; otherwise LOCAL. An unreadable request gets CLOUD, as an
    unreadable answer does. A pure function of the request text, so the simulated router is
    reproducible."""
    values = _digest_signals(request)
    if values is None:
        return "CLOUD"
    try:
        failures = int(values["consecutive_failed_checks"])
        context = int(values["context_chars"])
    except ValueError:
        return "CLOUD"
    stuck = (
        failures >= REFERENCE_FAILED_CHECKS
        or values["malformed_tool_call"] == "yes"
        or context >= REFERENCE_CONTEXT_CHARS
    )
    return "CLOUD" if stuck else "LOCAL"


# --- factory ---------------------------------------------------------------------------------


def make_router(
    strategy: RoutingStrategy,
    *,
    check_commands: Sequence[str],
    classify: Callable[[ModelRequest], ModelResponse] | None = None,
) -> Router:
    """A fresh router for one trial. `classify` (one recorded call to the classifier model) is
    required by, and only used by, the classifier strategy."""
    checks = tuple(check_commands)
    if strategy.name == "always-cloud":
        return ConstantRouter("cloud")
    if strategy.name == "always-local":
        return ConstantRouter("local")
    if strategy.name == "heuristic":
        return HeuristicRouter(strategy.threshold, checks)
    if strategy.name == "cascade":
        return CascadeRouter(strategy, checks)
    if classify is None:
        raise ValueError("the classifier strategy needs a `classify` callable")
    return ClassifierRouter(classify, checks)
