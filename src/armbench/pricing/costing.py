"""What a trial cost: its ledger rows priced with a rate card, in total and by role.

Tokens are the record; dollars are computed here whenever a run is read, so the same trials
can be priced with the run's own card, a user's card or the prices of another date.
"""

from __future__ import annotations

from armbench.core import CallRecord, TrialRecord, Usage
from armbench.pricing.ratecard import RateCard


def trial_tokens(trial: TrialRecord) -> Usage:
    total = Usage()
    for call in trial.calls:
        total += call.usage
    return total


def tokens_by_role(trial: TrialRecord) -> dict[str, Usage]:
    roles: dict[str, Usage] = {}
    for call in trial.calls:
        roles[call.role] = roles.get(call.role, Usage()) + call.usage
    return roles


def call_cost(call: CallRecord, card: RateCard) -> float:
    """Dollars for one ledger row: its tokens, plus its latency where the card prices a
    model's time (local models priced per hour or by power draw)."""
    return card.cost(f"{call.provider}/{call.model}", call.usage, seconds=call.latency_s)


def cost_by_role(trial: TrialRecord, card: RateCard) -> dict[str, float]:
    """Dollars per role, every attempt included (failed attempts were billed too)."""
    roles: dict[str, float] = {}
    for call in trial.calls:
        roles[call.role] = roles.get(call.role, 0.0) + call_cost(call, card)
    return roles


def trial_cost(trial: TrialRecord, card: RateCard) -> float:
    return sum(cost_by_role(trial, card).values())
