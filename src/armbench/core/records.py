"""What a trial leaves behind: its ledger rows, its gate results, its outcome.

Tokens are recorded, never dollars: cost is a view computed from these rows and a rate card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from armbench.core.outcomes import InfraClass, StopReason, TrialStatus
from armbench.core.roles import Role, Route
from armbench.core.tokens import Usage


@dataclass(frozen=True)
class CallRecord:
    """One model call attempt — a ledger row. Failed attempts are rows too."""

    seq: int
    """Order of the attempt within its trial, from 1."""
    role: Role
    provider: str
    model: str
    """The model's pricing name (rate card key `provider/model`)."""
    model_id: str
    """The model id the provider said answered; empty when it did not answer."""
    attempt: int
    status: Literal["ok", "error"]
    usage: Usage
    latency_s: float
    latency_simulated: bool
    started_at: float
    request_id: str | None = None
    error_class: InfraClass | None = None
    error: str | None = None
    route: Route | None = None
    """Routed arms: which of the two models this call went to."""


@dataclass(frozen=True)
class GateResult:
    """One judge check."""

    name: str
    kind: str
    passed: bool
    exit_code: int | None
    counts: dict[str, int]
    duration_s: float
    output_tail: str = ""
    details: str = ""
    """Why it failed, in a sentence, when it failed."""

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "counts": self.counts,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class TrialRecord:
    """A finished trial, written in one transaction with its calls and gates."""

    trial_id: str
    arm: str
    arm_kind: str
    task: str
    replicate: int
    seed: int
    status: TrialStatus
    stop_reason: StopReason
    wall_s: float
    iterations: int
    simulated: bool
    started_at: float
    ended_at: float
    infra_class: InfraClass | None = None
    error: str | None = None
    calls: tuple[CallRecord, ...] = ()
    gates: tuple[GateResult, ...] = ()
    transcript: str = ""
    """Path of the transcript, relative to the run directory."""
    extra: dict[str, Any] = field(default_factory=dict)
