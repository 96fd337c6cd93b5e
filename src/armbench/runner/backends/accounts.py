"""The run's shared accounts in one place, for workers on many machines: its budget and its
endpoint limiters held by one `Accounts` (on Ray, one actor of the run), and stand-ins that
reserve, settle, acquire and release through it.

Why one place: the budget is a promise that the recorded spend never exceeds `budget_usd`.
Every call reserves its worst case before it is sent (armbench.models.guard); that only holds
if every worker reserves from the same account. Per-worker shares of the budget would leave
money idle on slow workers and refuse calls the run could afford. Limiters likewise: an
endpoint's `max_connections` and `rpm` are the provider's limits on the whole run, and AIMD
adapts to 429s that every worker's calls provoke together.

The cost: each model call makes about five round trips to the actor (the budget's state, the
limiter's turn, the reservation, its settlement, the slot's release). Measured on a local Ray
(2 cores, Ray 2.60): 1.2 ms a round trip from one worker, 3 to 5 ms with six workers calling
at once — a few milliseconds per call that takes seconds. So the limiters are central too;
no per-worker limits to document.

A worker that dies leaves what it held: `abandon(owner)` (the driver calls it when it learns
of the death) settles its open reservations at their whole worst case — the call may have
been sent and billed, so the money counts as spent, never returned — and gives its limiter
slots back. Nothing here imports Ray: `Accounts` is a plain thread-safe object the Ray backend
runs as a threaded actor, and the stand-ins call it through `Calls`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from armbench.config import RunConfig
from armbench.models import Budget, BudgetState
from armbench.models.budget import Reservation
from armbench.models.limiter import LimiterState, Outcome, Slot
from armbench.runner.capacity import limiters_for
from armbench.runner.events import Activity, ActivityKind


class Accounts:
    """The budget and limiters of one run, and the activity its workers tell (templates being
    prepared), by the owner (a trial id) that holds each reservation and slot."""

    def __init__(self, config: RunConfig, spent_usd: float) -> None:
        self.budget = Budget(config.budget_usd, spent_usd=spent_usd)
        self.limiters = limiters_for(config)
        self._lock = threading.Lock()
        self._reservations: dict[int, tuple[str, Reservation]] = {}
        self._slots: dict[str, list[tuple[str, Slot]]] = defaultdict(list)
        self._events: list[tuple[ActivityKind, str]] = []
        self._preparing: dict[str, set[str]] = defaultdict(set)

    # --- the budget -----------------------------------------------------------------------

    def reserve(self, owner: str, usd: float) -> int | None:
        """The reservation's number, or None (and the budget exhausted) if it would not fit."""
        reservation = self.budget.reserve(usd)
        if reservation is None:
            return None
        with self._lock:
            self._reservations[reservation.number] = (owner, reservation)
        return reservation.number

    def settle(self, number: int, actual_usd: float | None) -> None:
        with self._lock:
            _, reservation = self._reservations.pop(number)
        self.budget.settle(reservation, actual_usd)

    def exhausted(self) -> bool:
        return self.budget.exhausted

    def budget_state(self) -> BudgetState:
        return self.budget.state()

    # --- the limiters ---------------------------------------------------------------------

    def acquire(self, owner: str, key: str) -> Slot:
        """Wait for a turn at model `key`'s endpoint (blocks this call, not the actor: it runs
        calls on threads)."""
        slot = self.limiters.of(key).acquire()
        with self._lock:
            self._slots[owner].append((key, slot))
        return slot

    def release(
        self, owner: str, key: str, slot: Slot, outcome: Outcome, retry_after_s: float | None
    ) -> None:
        with self._lock:
            self._slots[owner].remove((key, slot))
        self.limiters.of(key).release(slot, outcome, retry_after_s)

    def limiter_state(self) -> list[LimiterState]:
        return self.limiters.state()

    # --- activity and the dead --------------------------------------------------------------

    def tell(self, owner: str, kind: ActivityKind, subject: str) -> None:
        with self._lock:
            self._events.append((kind, subject))
            if kind == "preparing":
                self._preparing[owner].add(subject)
            elif kind == "prepared":
                self._preparing[owner].discard(subject)

    def events(self) -> list[tuple[ActivityKind, str]]:
        """What workers told since the last call."""
        with self._lock:
            events, self._events = self._events, []
        return events

    def abandon(self, owner: str) -> None:
        """A worker died running `owner`: what it held counts as spent, its slots come back,
        and the templates it was preparing are no longer being prepared."""
        with self._lock:
            held = [n for n, (o, _) in self._reservations.items() if o == owner]
            slots = self._slots.pop(owner, [])
            for subject in self._preparing.pop(owner, set()):
                self._events.append(("prepared", subject))
        for number in held:
            self.settle(number, None)
        for key, slot in slots:
            self.limiters.of(key).release(slot, "failed")


class Calls(Protocol):
    """How a stand-in reaches the `Accounts`: `call` waits for the answer, `tell` does not."""

    def call(self, method: str, *args: Any) -> Any: ...

    def tell(self, method: str, *args: Any) -> None: ...


@dataclass
class RemoteBudget:
    """An armbench.models.budget.Account whose money is the `Accounts`' budget."""

    calls: Calls
    limit_usd: float | None
    owner: str

    @property
    def exhausted(self) -> bool:
        return bool(self.calls.call("exhausted"))

    def reserve(self, usd: float) -> Reservation | None:
        number = self.calls.call("reserve", self.owner, usd)
        return None if number is None else Reservation(usd, number)

    def settle(self, reservation: Reservation, actual_usd: float | None) -> None:
        if reservation.settled:
            raise ValueError(f"reservation {reservation.number} is already settled")
        reservation.settled = True
        self.calls.call("settle", reservation.number, actual_usd)

    def release(self, reservation: Reservation) -> None:
        self.settle(reservation, 0.0)

    def state(self) -> BudgetState:
        state: BudgetState = self.calls.call("budget_state")
        return state


@dataclass(frozen=True)
class RemoteLimiter:
    """An armbench.models.limiter.Limiter: model `key`'s endpoint in the `Accounts`."""

    calls: Calls
    key: str
    owner: str

    def acquire(self) -> Slot:
        slot: Slot = self.calls.call("acquire", self.owner, self.key)
        return slot

    def release(self, slot: Slot, outcome: Outcome, retry_after_s: float | None = None) -> None:
        self.calls.call("release", self.owner, self.key, slot, outcome, retry_after_s)


@dataclass(frozen=True)
class RemoteLimiters:
    """An armbench.models.limiter.LimiterTable: the `Accounts`' limiters."""

    calls: Calls
    owner: str
    _made: dict[str, RemoteLimiter] = field(default_factory=dict, compare=False)

    def of(self, key: str) -> RemoteLimiter:
        return self._made.setdefault(key, RemoteLimiter(self.calls, key, self.owner))

    def state(self) -> list[LimiterState]:
        state: list[LimiterState] = self.calls.call("limiter_state")
        return state


def relay(calls: Calls, owner: str) -> Callable[[Activity], None]:
    """An `on_activity` that tells the `Accounts` (the driver passes it on to its own)."""

    def tell(activity: Activity) -> None:
        calls.tell("tell", owner, activity.kind, activity.subject)

    return tell
