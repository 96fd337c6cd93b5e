"""A dollar account that concurrent calls cannot overdraw: the run's `budget_usd`, and each
trial's `max_cost_usd`.

A cap checked after each call (mini-swe-agent's) is overshot by every call in flight when it is
crossed. This account is checked before: a call first *reserves* its worst case
(armbench.models.worst_case); the reservation is refused if spent + reserved + it would cross
the limit; once the call returns, the reservation is *settled* to the call's real cost (failed
attempts cost what they report). So the real spend never exceeds the limit as long as every
call stays within its worst case — and a call that does not (a model that ignored its
`max_tokens`, a scripted usage) is counted in `overrun_usd`, never hidden.

The first refusal *exhausts* the account for good: every later reservation is refused too, even
one small enough to fit, so in-flight trials end at their next call (as `limit`, reason
`budget`) instead of trickling on with whatever small calls still fit, and the runner starts no
new trial. A refusal leaves the remainder unspent: the worst cases in flight, which are mostly
cache reads priced as cache writes, cost far less than reserved.

Amounts are floats; the limit is compared with a relative slack of `SLACK` so that the ledger's
cost, summed later in any order, cannot exceed the limit by a rounding error.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from typing import Protocol

SLACK = 1e-9
"""Relative margin under the limit, far above float rounding over millions of calls and far
below a cent on any budget."""


@dataclass
class Reservation:
    """One call's hold on an account, until it is settled."""

    usd: float
    number: int
    settled: bool = False


@dataclass(frozen=True)
class BudgetState:
    """One consistent reading of an account, for a progress display."""

    limit_usd: float | None
    spent_usd: float
    reserved_usd: float
    exhausted: bool
    refused: int
    """Reservations refused so far."""
    overrun_usd: float
    """What calls cost beyond their reservations (0 while every model honours its request)."""


class Account(Protocol):
    """What spends from a dollar account: a `Budget` in this process, or a stand-in for one
    held elsewhere (armbench.runner.backends.accounts: the run's budget in one Ray actor that
    every worker reserves from, so that workers on many machines share one limit)."""

    @property
    def limit_usd(self) -> float | None: ...

    @property
    def exhausted(self) -> bool: ...

    def reserve(self, usd: float) -> Reservation | None: ...

    def settle(self, reservation: Reservation, actual_usd: float | None) -> None: ...

    def release(self, reservation: Reservation) -> None: ...

    def state(self) -> BudgetState: ...


class Budget:
    """A thread-safe dollar account; `limit_usd` None never refuses (it still counts)."""

    def __init__(self, limit_usd: float | None = None, *, spent_usd: float = 0.0) -> None:
        if limit_usd is not None and (limit_usd < 0 or not math.isfinite(limit_usd)):
            raise ValueError(f"a budget is a finite amount of dollars, not {limit_usd}")
        self.limit_usd = limit_usd
        self._spent = spent_usd
        """Real cost of settled calls (and, on a resumed run, of the calls already recorded)."""
        self._open: dict[int, Reservation] = {}
        self._numbers = itertools.count(1)
        self._exhausted = limit_usd is not None and spent_usd > limit_usd * (1 - SLACK)
        self._refused = 0
        self._overrun = 0.0
        self._lock = threading.Lock()

    def reserve(self, usd: float) -> Reservation | None:
        """Hold `usd` for one call; None (and the account exhausted) if it would not fit."""
        if usd < 0 or not math.isfinite(usd):
            raise ValueError(f"cannot reserve {usd} dollars")
        with self._lock:
            held = sum(r.usd for r in self._open.values())
            limit = self.limit_usd
            if self._exhausted or (
                limit is not None and self._spent + held + usd > limit * (1 - SLACK)
            ):
                self._exhausted = True
                self._refused += 1
                return None
            reservation = Reservation(usd, next(self._numbers))
            self._open[reservation.number] = reservation
            return reservation

    def settle(self, reservation: Reservation, actual_usd: float | None) -> None:
        """Replace the hold with the call's real cost; None: the cost is unknown (the call
        raised something other than its failure), so the whole reservation counts as spent."""
        with self._lock:
            if reservation.settled:
                raise ValueError(f"reservation {reservation.number} is already settled")
            reservation.settled = True
            del self._open[reservation.number]
            cost = reservation.usd if actual_usd is None else actual_usd
            self._spent += cost
            self._overrun += max(0.0, cost - reservation.usd)

    def release(self, reservation: Reservation) -> None:
        """Give a hold back unspent: its call was never sent."""
        self.settle(reservation, 0.0)

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent

    @property
    def reserved_usd(self) -> float:
        with self._lock:
            return sum(r.usd for r in self._open.values())

    @property
    def exhausted(self) -> bool:
        """A reservation was refused (or a resumed run had spent the limit already)."""
        with self._lock:
            return self._exhausted

    def state(self) -> BudgetState:
        with self._lock:
            return BudgetState(
                limit_usd=self.limit_usd,
                spent_usd=self._spent,
                reserved_usd=sum(r.usd for r in self._open.values()),
                exhausted=self._exhausted,
                refused=self._refused,
                overrun_usd=self._overrun,
            )
