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
StopReason = Literal["finished", "max_iterations", "wall_clock", "model_error", "harness_error"]

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
