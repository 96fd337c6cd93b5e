"""How a trial and each model call can end: statuses, stop reasons, infra classes.

An infra error is never a fail: a provider, sandbox or harness failure says nothing about the
work, so it has its own status and a class that says whose failure it was.
"""

from __future__ import annotations

from typing import Literal

from armbench.core.tokens import Usage

TrialStatus = Literal["pass", "fail", "limit", "infra_error"]
"""`pass`/`fail`: the judge's verdict; `limit`: a cap was reached (the judge still ran);
`infra_error`: a provider, sandbox or harness failure (see InfraClass)."""
CapStop = Literal["max_cost", "max_calls", "max_tokens", "budget"]
"""Caps that refuse a model call before it is sent: the trial's dollars, attempts and tokens
(`core.limits.Limits`), and the run's `budget_usd`."""
StopReason = Literal[
    "finished",
    "max_iterations",
    "wall_clock",
    "max_cost",
    "max_calls",
    "max_tokens",
    "budget",
    "model_error",
    "harness_error",
]
"""Why a trial's agent stopped: it finished; a cap named by the reason was reached (the trial
is `limit`, see LIMIT_STOPS); a model call failed for good; the harness failed."""
LIMIT_STOPS: frozenset[StopReason] = frozenset(
    {"max_iterations", "wall_clock", "max_cost", "max_calls", "max_tokens", "budget"}
)
"""Stop reasons that make a trial `limit`."""

InfraClass = Literal[
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "quota",
    "malformed_response",
    "sandbox",
    "harness",
]


RETRYABLE: frozenset[InfraClass] = frozenset(
    {"rate_limit", "overloaded", "server_error", "timeout", "connection", "malformed_response"}
)
"""Failures that may pass if the same request is sent again."""
FATAL: frozenset[InfraClass] = frozenset({"auth", "quota"})
"""Failures that every further call would meet too: they stop the whole run."""


class LimitReached(Exception):
    """A cap refused the next model call; the trial ends as `limit` with `stop` naming the cap.

    Never a ModelError: nothing failed, and no retry may follow (a retry would be refused too).
    """

    def __init__(self, stop: CapStop, message: str) -> None:
        super().__init__(message)
        self.stop: CapStop = stop


class ModelError(Exception):
    """A call that produced no usable response; never the model's fault on the task."""

    def __init__(
        self,
        message: str,
        infra_class: InfraClass,
        usage: Usage | None = None,
        *,
        retry_after_s: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.infra_class: InfraClass = infra_class
        self.usage = usage or Usage()
        """Tokens the failed attempt was billed for, when the provider said."""
        self.retry_after_s = retry_after_s
        """How long the server asked us to wait, if it did."""
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        return self.infra_class in RETRYABLE

    @property
    def fatal(self) -> bool:
        return self.infra_class in FATAL
