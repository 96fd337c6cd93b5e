"""Prices: rate cards ($ per million tokens per kind), genai-prices as the default source, the
effective card of a run with each price's provenance, the cost of a trial, and repricing.
Tokens are the record; cost is always derived, never stored."""

from armbench.pricing.costing import (
    call_cost,
    cost_by_role,
    tokens_by_role,
    trial_cost,
    trial_tokens,
)
from armbench.pricing.effective import (
    LOCAL_SOURCE,
    PricedModel,
    card_record,
    effective_card,
    priced_models,
)
from armbench.pricing.ratecard import PRICED_KINDS, ModelRates, RateCard, UnknownPriceError

__all__ = [
    "LOCAL_SOURCE",
    "PRICED_KINDS",
    "ModelRates",
    "PricedModel",
    "RateCard",
    "UnknownPriceError",
    "call_cost",
    "card_record",
    "cost_by_role",
    "effective_card",
    "priced_models",
    "tokens_by_role",
    "trial_cost",
    "trial_tokens",
]
