"""Prices from genai-prices' bundled snapshot, converted to rate-card entries.

genai-prices is used offline only: its bundled data, never `UpdatePrices` (a run's prices must
not depend on when a background fetch happened to finish). It is the default source for real
cloud models so a config needs no hand-kept price list; a rate card overrides it.

Conversion follows genai-prices' own billing rules, so a converted entry costs every call
exactly as `genai_prices.calc_price` would:

- its `input_tokens` include cache reads and writes; a cache kind without its own price is
  billed at the next more general price (1h writes -> writes -> input; reads -> input), which
  is how OpenAI models (no write price) bill "writes" at the input price;
- tiers are cliffs measured on the call's whole prompt (`prompt > start`, see
  `genai_prices.types.calc_unit_price`), the same comparison `ModelRates.price` makes.

Prices armbench's card cannot express (per request, per character, a separate reasoning or
tool-token price, time-of-day prices) raise `UnknownPriceError` rather than being dropped: a
card that silently leaves out a fee would under-report cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib.metadata import version

import genai_prices
from genai_prices.types import ModelPrice, TieredPrices, TimeOfDateConstraint

from armbench.pricing.ratecard import PRICED_KINDS, ModelRates, PricedKind, UnknownPriceError

GENAI_PRICES_VERSION: str = version("genai-prices")

_KIND_KEYS: dict[PricedKind, tuple[str, ...]] = {
    "input": ("input_mtok",),
    "output": ("output_mtok",),
    "cache_read": ("cache_read_mtok", "input_mtok"),
    "cache_write_5m": ("cache_write_5m_mtok", "cache_write_mtok", "input_mtok"),
    "cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
}
"""Per kind, genai price keys from the most specific to the most general (its fallback order)."""

_IRRELEVANT_MARKERS = (
    "audio",
    "image",
    "video",
    "searches_kcount",
    "executions_kcount",
    "kpages",
    "gpixels",
    "hours",
)
"""Price keys for usage armbench never has (other modalities, built-in tool calls)."""


class NoGenaiPrice(UnknownPriceError):
    """genai-prices cannot price a model; `reason` says why without the fix, so a caller that
    collects several can state the fix once."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason}; {fix}")
        self.reason = reason


@dataclass(frozen=True)
class GenaiMatch:
    """The converted prices and which genai-prices entry they came from (matching is fuzzy:
    `claude-3-opus` resolves to `claude-3-opus-latest`, so provenance names the match)."""

    rates: ModelRates
    provider_id: str
    model_id: str


def _fix(provider: str, model: str) -> str:
    kinds = ", ".join(f"{k} = ..." for k in PRICED_KINDS)
    return (
        f'add [models."{provider}/{model}"] with {kinds} ($ per million tokens) to a rate card '
        "(`rate_card` in the config), or set `local: true` on a model you run yourself"
    )


def _as_float(price: Decimal | TieredPrices) -> float:
    return float(price.base if isinstance(price, TieredPrices) else price)


def _convert(price: ModelPrice, label: str) -> ModelRates | str:
    """The entry, or why there can be none."""
    stored = {k: v for k, v in vars(price).items() if not k.startswith("_") and v is not None}
    known = {key for keys in _KIND_KEYS.values() for key in keys}
    inexpressible = sorted(
        k for k in stored if k not in known and not any(m in k for m in _IRRELEVANT_MARKERS)
    )
    if inexpressible:
        return (
            f"genai-prices {GENAI_PRICES_VERSION} prices {label} by {', '.join(inexpressible)}, "
            "which an armbench rate card cannot express"
        )
    base: dict[str, float] = {}
    tiers: dict[int, dict[str, float]] = {}
    for kind, keys in _KIND_KEYS.items():
        value = next((stored[k] for k in keys if k in stored), None)
        if value is None:
            continue
        base[kind] = _as_float(value)
        if isinstance(value, TieredPrices):
            for tier in value.tiers:
                tiers.setdefault(tier.start, {})[kind] = float(tier.price)
    return ModelRates.model_validate(
        {
            **base,
            "tiers": [
                {"above_input_tokens": start, **prices} for start, prices in sorted(tiers.items())
            ],
        }
    )


def genai_match(
    provider: str, model: str, *, base_url: str | None = None, at: datetime | None = None
) -> GenaiMatch:
    """genai-prices' prices for `provider/model` in effect at `at` (now if None).

    `base_url` identifies OpenAI-compatible gateways (OpenRouter, Together, ...) by their API
    address, since their provider is "openai" in the config but their prices are their own.
    """
    label = f"{provider}/{model}"
    try:
        if base_url is not None and provider != "anthropic":
            calc = genai_prices.calc_price(
                genai_prices.Usage(), model, provider_api_url=base_url, genai_request_timestamp=at
            )
        else:
            calc = genai_prices.calc_price(
                genai_prices.Usage(), model, provider_id=provider, genai_request_timestamp=at
            )
    except LookupError as exc:
        where = f" at {base_url}" if base_url is not None else ""
        raise NoGenaiPrice(
            f"genai-prices {GENAI_PRICES_VERSION} has no price for {label}{where} ({exc})",
            _fix(provider, model),
        ) from exc
    prices = calc.model.prices
    if isinstance(prices, list) and any(
        isinstance(p.constraint, TimeOfDateConstraint) for p in prices
    ):
        raise NoGenaiPrice(
            f"genai-prices {GENAI_PRICES_VERSION} prices {label} by time of day, which an "
            "armbench rate card cannot express",
            _fix(provider, model),
        )
    rates = _convert(calc.model_price, label)
    if isinstance(rates, str):
        raise NoGenaiPrice(rates, _fix(provider, model))
    return GenaiMatch(rates, calc.provider.id, calc.model.id)


def genai_rates(
    provider: str, model: str, *, base_url: str | None = None, at: datetime | None = None
) -> ModelRates:
    """genai-prices' prices for `provider/model` as a rate-card entry (see `genai_match`)."""
    return genai_match(provider, model, base_url=base_url, at=at).rates
