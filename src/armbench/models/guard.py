"""What every model call attempt of a trial passes before it is sent, and settles after.

Before an attempt (armbench.models.retry sends it), in this order:

1. the trial's `max_calls` (attempts, failed ones included) and the run's budget, if a refusal
   has already exhausted it — cheap refusals first, before the call waits anywhere;
2. the trial's `max_tokens`: the tokens so far plus the call's worst case (its prompt bound and
   its `max_tokens`, armbench.models.worst_case) must fit;
3. its endpoint's limiter (armbench.models.limiter): the call waits for its turn there, and the
   wait is reported (`on_queue`) so the trial's clock can leave it out of the trial's time;
4. the dollars: the worst case is reserved on the trial's `max_cost_usd` account, then on the
   run's `budget_usd` account (armbench.models.budget) — a refusal releases what was held.

A refusal raises LimitReached naming the cap; nothing is sent. After the attempt its real cost
(its tokens at the rate card, and its time where the card prices time) settles the
reservations, its tokens count toward `max_tokens`, and its outcome (answered, 429/529, other
failure) adapts the limiter. Retries pass the guard again: each attempt reserves anew.

Dollars are metered only when some dollar cap applies (a `budget_usd` or a `max_cost_usd`): a
run without one prices nothing while it runs, as before, and a rate card missing a price the
model bills is found when the run is read.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from armbench.config import ModelConfig, ScriptModelConfig, SimModelConfig
from armbench.core import CapStop, LimitReached, Limits, ModelError, ModelRequest, Usage
from armbench.models.base import Model
from armbench.models.budget import Account, Budget, Reservation
from armbench.models.limiter import Limiter, LimiterTable, Outcome, Slot
from armbench.models.script import load_script
from armbench.models.worst_case import prompt_bound, worst_case_usd
from armbench.pricing import RateCard

THROTTLES = frozenset({"rate_limit", "overloaded"})
"""Infra classes that say the endpoint wants fewer calls (429, 529)."""
SDK_PHASES = 4
"""httpx applies an SDK's `timeout_s` to each phase of a request (pool, connect, write, read),
so one attempt of an API model lasts at most this many times `timeout_s` — unless a server
trickles its answer a byte at a time, which no model server does."""


@dataclass(frozen=True)
class Seat:
    """What the guard knows of one model of the trial."""

    key: str
    """Its key in the config's `models`."""
    price_key: str
    exact: bool
    """Bills with armbench's own tokenizer (an in-process sim or script): its prompt bound is
    exact (see armbench.models.worst_case)."""
    max_output: int | None
    """Its config's own `max_tokens`, which the request's cannot raise."""
    max_seconds: Callable[[int, int], float]
    """The longest one attempt can be billed for, given its prompt and output bounds."""
    limiter: Limiter | None = None
    """Its endpoint's limiter (None: not limited)."""


def seat_for(key: str, config: ModelConfig, price_key: str) -> Seat:
    """The seat of model `key`, from its config."""
    if isinstance(config, SimModelConfig):
        s = config

        def simulated(prompt: int, output: int) -> float:  # the sim's latency, uncached
            return s.first_token_s + prompt / s.input_tokens_per_s + output / s.output_tokens_per_s

        return Seat(key, price_key, True, None, simulated)
    if isinstance(config, ScriptModelConfig):
        longest = max((turn.latency_s for turn in load_script(config.path)), default=0.0)
        return Seat(key, price_key, True, None, lambda _p, _o: longest)
    bound = SDK_PHASES * config.timeout_s
    return Seat(key, price_key, False, config.max_tokens, lambda _p, _o: bound)


@dataclass(frozen=True)
class Ticket:
    """One admitted attempt's holds, until it is settled."""

    seat: Seat
    slot: Slot | None
    """Its place in its endpoint's limiter (None: not limited)."""
    tokens: int
    """The attempt's worst-case tokens (counted if its real usage is unknown)."""
    holds: tuple[tuple[Account, Reservation], ...]


class CallGuard:
    """The caps of one trial, and its share of the run's budget and limiters."""

    def __init__(
        self,
        limits: Limits,
        *,
        budget: Account | None = None,
        card: RateCard | None = None,
        limiters: LimiterTable | None = None,
        on_queue: Callable[[float], None] | None = None,
    ) -> None:
        self.limits = limits
        self.budget: Account = budget or Budget()
        self.trial_budget = Budget(limits.max_cost_usd)
        self.metered = self.budget.limit_usd is not None or limits.max_cost_usd is not None
        if self.metered and card is None:
            raise ValueError("a dollar cap needs the run's rate card to price its calls")
        self._card = card
        self._limiters = limiters
        self._on_queue = on_queue
        self._seats: dict[int, tuple[Model, Seat]] = {}
        self._lock = threading.Lock()
        self.attempts = 0
        self.tokens = 0
        """Tokens of the trial's settled attempts (input, output, cache writes and reads)."""

    def seat(self, model: Model, key: str, config: ModelConfig) -> None:
        """Tell the guard which configured model `model` is (the runner's TrialModels does).
        The guard holds the model, so its id cannot be reused by another while seated."""
        seat = seat_for(key, config, model.identity.price_key)
        if self._limiters is not None:
            seat = dataclasses.replace(seat, limiter=self._limiters.of(key))
        with self._lock:
            self._seats[id(model)] = (model, seat)

    def _seat_of(self, model: Model) -> Seat:
        with self._lock:
            seated = self._seats.get(id(model))
        if seated is not None:
            return seated[1]
        identity = model.identity  # a model built outside the runner (tests): no endpoint
        return Seat(identity.model, identity.price_key, identity.simulated, None, _unbounded)

    def admit(self, model: Model, request: ModelRequest) -> Ticket:
        """Hold what the attempt may spend, or raise LimitReached naming the cap."""
        seat = self._seat_of(model)
        prompt = prompt_bound(request, exact=seat.exact)
        output = min(request.max_tokens, seat.max_output or request.max_tokens)
        return self._admit(seat, prompt, output)

    def admit_bounded(self, model: Model, prompt_tokens: int, output_tokens: int) -> Ticket:
        """`admit` for a call armbench did not compose (an external agent's, through the
        gateway), given bounds on its prompt and its output tokens (the model's config does
        not cap what such a call asks for)."""
        return self._admit(self._seat_of(model), prompt_tokens, output_tokens)

    def _admit(self, seat: Seat, prompt: int, output: int) -> Ticket:
        limits = self.limits
        if limits.max_calls is not None and self.attempts >= limits.max_calls:
            raise LimitReached(
                "max_calls", f"max_calls: the trial made its {limits.max_calls} call attempts"
            )
        if self.budget.exhausted:
            raise LimitReached("budget", _spent("budget_usd", self.budget))
        if limits.max_tokens is not None and self.tokens + prompt + output > limits.max_tokens:
            raise LimitReached(
                "max_tokens",
                f"max_tokens: the trial used {self.tokens} tokens; the next call may use up "
                f"to {prompt + output}, past its cap of {limits.max_tokens}",
            )
        usd = self._worst_usd(seat, prompt, output) if self.metered else 0.0
        limiter = seat.limiter
        slot = limiter.acquire() if limiter is not None else None
        if slot is not None and self._on_queue is not None:
            self._on_queue(slot.waited_s)
        holds: list[tuple[Account, Reservation]] = []
        if self.metered:
            accounts: tuple[tuple[CapStop, str, Account], ...] = (
                ("max_cost", "max_cost_usd", self.trial_budget),
                ("budget", "budget_usd", self.budget),
            )
            for stop, name, account in accounts:
                reservation = account.reserve(usd)
                if reservation is None:
                    for held, r in holds:
                        held.release(r)
                    if limiter is not None and slot is not None:
                        limiter.release(slot, "unsent")
                    detail = f"{_spent(name, account)}; the next call may cost up to ${usd:.6f}"
                    raise LimitReached(stop, detail)
                holds.append((account, reservation))
        self.attempts += 1
        return Ticket(seat, slot, prompt + output, tuple(holds))

    def _worst_usd(self, seat: Seat, prompt: int, output: int) -> float:
        assert self._card is not None
        self._card.require([seat.price_key])
        rates = self._card.rates[seat.price_key]
        seconds = seat.max_seconds(prompt, output) if rates.usd_per_hour else 0.0
        return worst_case_usd(
            rates, seat.price_key, prompt_tokens=prompt, output_tokens=output, seconds=seconds
        )

    def settle(
        self, ticket: Ticket, usage: Usage | None, seconds: float, error: ModelError | None
    ) -> None:
        """The attempt is over: `usage` and `seconds` are what it was billed (None: unknown,
        the call raised something other than its failure, so its worst case counts)."""
        limiter = ticket.seat.limiter
        if limiter is not None and ticket.slot is not None:
            outcome: Outcome = "ok" if error is None else "failed"
            if error is not None and error.infra_class in THROTTLES:
                outcome = "throttled"
            limiter.release(
                ticket.slot, outcome, error.retry_after_s if error is not None else None
            )
        self.tokens += ticket.tokens if usage is None else usage.prompt_tokens + usage.output
        cost: float | None = None
        try:
            if usage is not None and ticket.holds:
                assert self._card is not None
                cost = self._card.cost(ticket.seat.price_key, usage, seconds=seconds)
        finally:  # an unpriceable usage settles at its worst case, then raises
            for account, reservation in ticket.holds:
                account.settle(reservation, cost)


def _unbounded(_prompt: int, _output: int) -> float:
    return math.inf


def _spent(name: str, account: Account) -> str:
    state = account.state()
    return (
        f"{name}: ${state.limit_usd:.6f}, of which ${state.spent_usd:.6f} is spent and "
        f"${state.reserved_usd:.6f} held by calls in flight"
    )
