"""What a run's trials share, so that many of them can run at once without overrunning anything:
the budget, each model endpoint's limiter, and the CPU slots checkers take.

Trials mostly wait for models, so `concurrency` (trials at once) can be well above the CPU
count; what is scarce is bounded where it is spent:

- model calls, per endpoint, by its limiter (armbench.models.limiter);
- dollars, by the budget every call reserves from (armbench.models.budget);
- CPU, by `cpu`: `judge_concurrency` slots (default: the CPU count) that the judge's gates, the
  single-shot scorer and the preparation of templates take one at a time. A trial waits for a
  slot only after its model work is done (or before it starts, when its template is prepared),
  so a busy CPU never holds a trial between two model calls, and the wait is not in the
  trial's `wall_s` (its clock stops when its agent stops).

Keeping a trial's prompt cache warm: a trial holds its worker thread from its first model call
to its last (the pool never parks a trial half-way to run another), its calls wait in their
limiter first come first served, and judging waits come after the model work. So the longest
gap between two calls of one trial is one tool call plus the capped retry-after (`retry.
retry_after_cap_s`, 60 s by default) plus the calls queued ahead of it — well inside the
5-minute cache TTL unless the cap is raised toward it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from armbench.config import RunConfig
from armbench.core import TrialRecord
from armbench.models import Budget, Limiters
from armbench.models.budget import Account
from armbench.models.limiter import LimiterTable
from armbench.pricing import RateCard, trial_cost

Slots = AbstractContextManager[Any]
"""A CPU slot held for one checker run (`with cpu: ...`): a semaphore of this process, or on
Ray one of the node's slots (armbench.runner.backends.worker.NodeSlots)."""


@dataclass(frozen=True)
class Capacity:
    """The run's shared limits; a progress display reads `budget.state()` and
    `limiters.state()` while the run goes on. The accounts are this process's own, or (on Ray)
    stand-ins for the ones every worker shares (armbench.runner.backends)."""

    budget: Account
    limiters: LimiterTable
    cpu: Slots
    """Slots for checker runs (judging, scoring, preparing templates)."""
    card: RateCard
    """The prices calls are reserved and settled at: the run's effective rate card."""


def capacity_for(
    config: RunConfig, card: RateCard, recorded: Iterable[TrialRecord] = ()
) -> Capacity:
    """The shared limits of a run of `config`; `recorded` are the trials a resumed run already
    holds, whose spend counts against its budget (what killed trials spent before they were
    recorded is not in the ledger, and cannot count)."""
    spent = (
        sum(trial_cost(trial, card) for trial in recorded) if config.budget_usd is not None else 0.0
    )
    return Capacity(
        budget=Budget(config.budget_usd, spent_usd=spent),
        limiters=limiters_for(config),
        cpu=threading.BoundedSemaphore(cpu_slots(config)),
        card=card,
    )


def limiters_for(config: RunConfig) -> Limiters:
    """The endpoint limiters of a run of `config`."""
    return Limiters(
        config.models,
        config.rate_limits,
        connections=config.concurrency,
        retry_after_cap_s=config.retry.retry_after_cap_s,
    )


def cpu_slots(config: RunConfig) -> int:
    """Checker runs at once on this machine: `judge_concurrency`, else its CPU count."""
    return config.judge_concurrency or os.cpu_count() or 1
