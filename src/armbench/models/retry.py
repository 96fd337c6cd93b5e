"""Calling a model under the failure policy: retry what may pass, stop on what cannot.

Retried: rate limits, overload, server errors, timeouts, dropped connections and malformed
bodies — with exponential backoff and full jitter, honouring a server's `retry-after` only up to
a cap (a `retry-after: 3600` must not stall a benchmark for an hour). Never retried: auth and
quota failures (every further call would fail the same way, so they stop the run) and requests
the provider rejected as invalid. Every attempt is reported, so no spent token and no failure
disappears from the ledger.

With a guard (armbench.models.guard), every attempt — each retry too — first passes the
trial's caps, its endpoint's limiter and the budget, which may refuse it (LimitReached, never
retried), and settles them once it is reported.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from armbench.config import RetryPolicy
from armbench.core import InfraClass, ModelError, ModelRequest, ModelResponse, Usage
from armbench.models.base import Model
from armbench.models.guard import CallGuard, Ticket


@dataclass(frozen=True)
class Attempt:
    """One try at a model call: its response or its error, when it started and took."""

    number: int
    started_at: float
    elapsed_s: float
    response: ModelResponse | None = None
    error: ModelError | None = None

    @property
    def usage(self) -> Usage:
        """The tokens it was billed: the response's, or what its error reported."""
        if self.response is not None:
            return self.response.usage
        assert self.error is not None
        return self.error.usage

    @property
    def latency_s(self) -> float:
        """Its time as the ledger records and a time-priced card bills it: the response's own
        latency (simulated for sims), or the time the failed attempt took."""
        return self.response.latency_s if self.response is not None else self.elapsed_s


OnAttempt = Callable[[Attempt], None]


class RetryingCaller:
    """Calls models for one trial; remembers failures across its calls (the identical-failure
    cap is per trial)."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        guard: CallGuard | None = None,
    ) -> None:
        self.policy = policy
        self.guard = guard
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._streak_class: InfraClass | None = None
        self._streak = 0

    def backoff_s(self, attempt: int, error: ModelError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        p = self.policy
        ceiling = min(p.max_delay_s, p.base_delay_s * 2.0 ** min(attempt - 1, 64))
        jittered = self._rng.uniform(0, ceiling)
        if error.retry_after_s is not None:
            return max(jittered, min(error.retry_after_s, p.retry_after_cap_s))
        return jittered

    def call(self, model: Model, request: ModelRequest, on_attempt: OnAttempt) -> ModelResponse:
        """The model's response, or the last ModelError once retrying is pointless; or
        LimitReached when the guard refuses an attempt."""
        for number in range(1, self.policy.max_attempts + 1):
            ticket = self.guard.admit(model, request) if self.guard is not None else None
            started_at, clock = time.time(), time.perf_counter()
            try:
                response = model.complete(request)
            except ModelError as error:
                self._report(
                    Attempt(number, started_at, time.perf_counter() - clock, error=error),
                    on_attempt,
                    ticket,
                )
                self._note_failure(error)
                if not error.retryable or number == self.policy.max_attempts:
                    raise
                if self._streak >= self.policy.max_identical_failures:
                    raise ModelError(
                        f"{self._streak} consecutive {error.infra_class} failures in this trial; "
                        f"giving up (last: {error})",
                        error.infra_class,
                    ) from error
                self._sleep(self.backoff_s(number, error))
                continue
            except BaseException:  # not a provider's failure: what it spent is unknown
                if self.guard is not None and ticket is not None:
                    self.guard.settle(ticket, None, 0.0, None)
                raise
            attempt = Attempt(number, started_at, time.perf_counter() - clock, response=response)
            self._report(attempt, on_attempt, ticket)
            self._streak_class, self._streak = None, 0
            return response
        raise AssertionError("unreachable: the last attempt either returns or raises")

    def _report(self, attempt: Attempt, on_attempt: OnAttempt, ticket: Ticket | None) -> None:
        """The attempt to the ledger first (a row is never lost to a pricing error), then its
        real cost and outcome to the guard."""
        try:
            on_attempt(attempt)
        finally:
            if self.guard is not None and ticket is not None:
                self.guard.settle(ticket, attempt.usage, attempt.latency_s, attempt.error)

    def _note_failure(self, error: ModelError) -> None:
        if error.infra_class == self._streak_class:
            self._streak += 1
        else:
            self._streak_class, self._streak = error.infra_class, 1
