"""How fast the run calls each model endpoint: calls in flight and attempts per minute, adapting
to the provider's rate limits, waiting calls served first come, first served.

One limiter per endpoint — a provider at one base URL — shared by every trial, so a local
OpenAI-compatible server and OpenAI's cloud are limited apart, and one Anthropic account is
limited as one. The calls allowed in flight adapt like TCP's congestion window (AIMD), as
Inspect AI's adaptive connections do:

- a 429 or 529 (infra class `rate_limit` or `overloaded`) halves the calls allowed, from the
  number that were in flight when it came (never below 1) — once per congestion event: calls
  sent before the cut that come back throttled do not cut again;
- the server's `retry-after`, capped at the retry policy's `retry_after_cap_s`, holds every
  new call to the endpoint until it has passed (the throttled call itself backs off in
  armbench.models.retry for at least as long);
- `grow_after` successes allow one more call again, up to `max_connections`.

Calls that wait are served in arrival order, so no trial's call is overtaken for long; with a
trial holding its worker thread from its first call to its last, this keeps one trial's calls
close enough together for the provider's prompt cache (5 minutes) to stay warm: the longest a
call waits is a capped retry-after (60 s by default) plus the calls ahead of it. Time spent
waiting here is queueing for the run's shared capacity, not the trial's work: it is taken out
of the trial's wall time (see armbench.models.guard).

Simulated models go through a limiter too (unlimited unless the config limits `sim`), so every
call takes the same path.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from armbench.config import ModelConfig
from armbench.core import EndpointLimits

Outcome = Literal["ok", "throttled", "failed", "unsent"]
"""How an attempt ended, for the limiter: answered, refused for rate (429/529), another
failure, or never sent (a cap refused it after it had its turn)."""
Wait = Callable[[threading.Condition, float | None], object]
"""Waits on the limiter's condition for at most the given seconds (None: until notified)."""
WINDOW_S = 60.0
"""The `rpm` window."""


def _wait(condition: threading.Condition, timeout: float | None) -> object:
    return condition.wait(timeout)


@dataclass(frozen=True)
class Slot:
    """A call's place in flight: the congestion epoch it was sent in and how long it waited."""

    epoch: int
    waited_s: float


@dataclass(frozen=True)
class LimiterState:
    """One reading of a limiter, for a progress display."""

    endpoint: str
    allowed: int
    """Calls allowed in flight now (AIMD's window)."""
    ceiling: int
    in_flight: int
    waiting: int
    throttled: int
    """429/529 answers so far."""
    held_s: float
    """Seconds until new calls may start again after a retry-after (0: not held)."""


class Limiter(Protocol):
    """What a call takes its turn from: an `EndpointLimiter` in this process, or a stand-in
    for one held elsewhere (armbench.runner.backends.accounts: a Ray actor every worker calls,
    so that workers on many machines share one endpoint's limits)."""

    def acquire(self) -> Slot: ...

    def release(self, slot: Slot, outcome: Outcome, retry_after_s: float | None = None) -> None: ...


class LimiterTable(Protocol):
    """The limiters of a run's endpoints, by model key: `Limiters`, or a stand-in."""

    def of(self, key: str) -> Limiter: ...

    def state(self) -> list[LimiterState]: ...


class EndpointLimiter:
    """The limiter of one endpoint; `clock` and `wait` are injectable for tests."""

    def __init__(
        self,
        endpoint: str,
        limits: EndpointLimits,
        *,
        connections: int,
        retry_after_cap_s: float,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = _wait,
    ) -> None:
        self.endpoint = endpoint
        self.limits = limits
        self.ceiling = limits.max_connections or connections
        self._cap_s = retry_after_cap_s
        self._clock = clock
        self._wait = wait
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._starts: deque[float] = deque()
        self._allowed = self.ceiling
        self._in_flight = 0
        self._epoch = 0
        self._successes = 0
        self._throttled = 0
        self._hold_until = float("-inf")

    def acquire(self) -> Slot:
        """Wait for this call's turn (arrival order), a free connection, the end of any hold
        and room in the minute's window; then count the call in flight."""
        me = object()
        with self._cond:
            began = self._clock()
            self._queue.append(me)
            try:
                while (delay := self._delay(me)) != 0:
                    self._wait(self._cond, delay)
            except BaseException:
                self._queue.remove(me)
                self._cond.notify_all()
                raise
            self._queue.popleft()
            now = self._clock()
            self._in_flight += 1
            self._starts.append(now)
            self._cond.notify_all()  # the next in line may be able to go too
            return Slot(self._epoch, now - began)

    def _delay(self, me: object) -> float | None:
        """0 when `me` may go now; else seconds to wait, None meaning until notified."""
        if self._queue[0] is not me or self._in_flight >= self._allowed:
            return None
        now = self._clock()
        if now < self._hold_until:
            return self._hold_until - now
        rpm = self.limits.rpm
        while self._starts and self._starts[0] <= now - WINDOW_S:
            self._starts.popleft()
        if rpm is not None and len(self._starts) >= rpm:
            return self._starts[0] + WINDOW_S - now
        return 0

    def release(self, slot: Slot, outcome: Outcome, retry_after_s: float | None = None) -> None:
        """The call is over: adapt to how it ended."""
        with self._cond:
            in_flight = self._in_flight
            self._in_flight -= 1
            if outcome == "throttled":
                self._throttled += 1
                if slot.epoch == self._epoch:  # the first throttle of this congestion event
                    self._allowed = max(1, min(self._allowed, in_flight) // 2)
                    self._epoch += 1
                    self._successes = 0
                if retry_after_s is not None:
                    hold = self._clock() + min(max(retry_after_s, 0.0), self._cap_s)
                    self._hold_until = max(self._hold_until, hold)
            elif outcome == "ok" and self._allowed < self.ceiling:
                self._successes += 1
                if self._successes >= self.limits.grow_after:
                    self._allowed += 1
                    self._successes = 0
            self._cond.notify_all()

    def state(self) -> LimiterState:
        with self._cond:
            return LimiterState(
                endpoint=self.endpoint,
                allowed=self._allowed,
                ceiling=self.ceiling,
                in_flight=self._in_flight,
                waiting=len(self._queue),
                throttled=self._throttled,
                held_s=max(0.0, self._hold_until - self._clock()),
            )


def endpoint_of(config: ModelConfig) -> str:
    """The endpoint a model is called at: its provider, and its base URL when it has one."""
    base_url = getattr(config, "base_url", None)
    return config.provider if base_url is None else f"{config.provider}@{base_url}"


class Limiters:
    """The run's limiters, one per endpoint of its models.

    `table` is the config's `rate_limits`: an entry named after a provider applies to each of
    its endpoints; one named after a model key applies to that model's endpoint, its fields
    that differ from their defaults over its provider's entry (a manifest's config states every
    field, so "set" could not be told from "default" on resume). Models that share an endpoint
    share its limiter; if their entries differ, the strictest value of each field wins.
    """

    def __init__(
        self,
        models: Mapping[str, ModelConfig],
        table: Mapping[str, EndpointLimits],
        *,
        connections: int,
        retry_after_cap_s: float,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = _wait,
    ) -> None:
        self._endpoints = {key: endpoint_of(config) for key, config in models.items()}
        merged: dict[str, EndpointLimits] = {}
        for key, config in models.items():
            fields: dict[str, object] = {}
            for name in (config.provider, key):
                if name in table:
                    fields.update(table[name].model_dump(exclude_defaults=True))
            limits = EndpointLimits.model_validate(fields)
            endpoint = self._endpoints[key]
            merged[endpoint] = _stricter(merged[endpoint], limits) if endpoint in merged else limits
        self._limiters = {
            endpoint: EndpointLimiter(
                endpoint,
                limits,
                connections=connections,
                retry_after_cap_s=retry_after_cap_s,
                clock=clock,
                wait=wait,
            )
            for endpoint, limits in merged.items()
        }

    def of(self, key: str) -> EndpointLimiter:
        """The limiter of model `key`'s endpoint."""
        return self._limiters[self._endpoints[key]]

    def state(self) -> list[LimiterState]:
        return [limiter.state() for _, limiter in sorted(self._limiters.items())]


def _stricter(a: EndpointLimits, b: EndpointLimits) -> EndpointLimits:
    """Field by field the stricter of two models' limits for one endpoint."""

    def least(x: int | None, y: int | None) -> int | None:
        return y if x is None else x if y is None else min(x, y)

    return EndpointLimits(
        max_connections=least(a.max_connections, b.max_connections),
        rpm=least(a.rpm, b.rpm),
        grow_after=max(a.grow_after, b.grow_after),
    )
