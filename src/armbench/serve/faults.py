"""Fault injection for the sim servers: what goes wrong, and on which requests.

A provider's failures are what armbench's retry and infra-error accounting must survive, and
they are rare and unrepeatable on the real APIs. A fault plan makes them happen on cue: a rule
says what to do (an error status, a slow answer, a broken body, an answer without usage, a
dropped connection, a connection cut off partway through the answer) and on which model
requests (skip the first `after`, then every `every`-th, at most `times` times).

Where a fault strikes on a streamed answer: `status`, `slow` and `drop` before the stream
starts (a status fault is the plain JSON error a real API sends before any event);
`malformed` sends the first half of the events, then one whose JSON is cut; `no_usage` streams
without the usage (OpenAI: no usage chunk; Anthropic: none in `message_start` or
`message_delta`); `cut_off` sends the first half of the events and closes the connection
before the body ends, so the client sees a broken stream (on a plain answer: half the body
it was promised, then the connection closed).

Every rule counts every model request the server receives, so `after` and `every` number the
requests as the client sent them, whatever the other rules do. On each request the rules are
asked in order and the first one due fires; a rule that was due but lost to an earlier one is
not charged a use and stays due for the next request.
"""

from __future__ import annotations

import threading
from typing import Any

from armbench.config.faults import (
    FAULT_KINDS,
    FaultKind,
    FaultRule,
    parse_fault,
    rules_from_json,
)

__all__ = ["FAULT_KINDS", "FaultKind", "FaultPlan", "FaultRule", "parse_fault", "rules_from_json"]


class FaultPlan:
    """The rules in force and how often each has seen and fired; safe to share across the
    server's request threads."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seen: list[int] = []
        self._applied: list[int] = []
        self.set_rules(rules or [])

    def set_rules(self, rules: list[FaultRule]) -> None:
        """Replace the plan; the new rules start counting from the next request."""
        with self._lock:
            self._rules = list(rules)
            self._seen = [0] * len(rules)
            self._applied = [0] * len(rules)

    def next_fault(self) -> FaultRule | None:
        """Count one model request and return the rule that fires on it, if any."""
        with self._lock:
            fired: FaultRule | None = None
            for index, rule in enumerate(self._rules):
                self._seen[index] += 1
                if fired is None and rule.due(self._seen[index], self._applied[index]):
                    self._applied[index] += 1
                    fired = rule
            return fired

    def stats(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"rule": rule.describe(), "seen": seen, "applied": applied}
                for rule, seen, applied in zip(self._rules, self._seen, self._applied, strict=True)
            ]
