"""Where each model call of a routed arm goes: the `local` or the `cloud` model.

A routed arm runs one agent conversation; before every model call the arm asks a `Router` (one
per trial) to `decide` from the conversation so far, reading the signals of
armbench.arms.routing.signals. The rules of each strategy are documented on its class; the
classifier strategy is in armbench.arms.routing.classifier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from armbench.arms.routing.signals import Signals, plural, read_signals
from armbench.config import RoutingStrategy
from armbench.core import Message, Route


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
        "consecutive_failed_checks": plural(signals.consecutive_failed_checks, "failed check")
        + " in a row",
        "tool_errors_recent": plural(signals.tool_errors_recent, "recent tool error"),
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
                f"{plural(s.consecutive_failed_checks, 'failed check')} in a row "
                f"(escalates at {self.failures_to_escalate})"
            )
        if s.calls_without_progress >= self.no_progress_calls:
            return (
                f"{plural(s.calls_without_progress, 'call')} without a successful edit "
                f"(escalates at {self.no_progress_calls})"
            )
        return None

    def _local_reason(self, s: Signals) -> str:
        return (
            f"staying local: {plural(s.consecutive_failed_checks, 'failed check')} in a row "
            f"(escalates at {self.failures_to_escalate}), "
            f"{plural(s.calls_without_progress, 'call')} without progress "
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
                f"de-escalating to local: {plural(since.passed_checks, 'check run')} passed on "
                f"the cloud since the escalation at turn {self._escalated_turn}; counters reset",
            )
        return RouteDecision(
            "cloud",
            f"staying on cloud since the escalation at turn {self._escalated_turn}, "
            f"on {self._escalation_reason}",
        )
