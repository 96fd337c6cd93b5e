"""The most one model call can cost, known before it is sent: what a budget reserves.

A call's bill is its prompt tokens (each one uncached input, a cache write or a cache read) plus
its output tokens, which the provider stops at the request's `max_tokens` (reasoning included).
So the worst case is

    prompt bound × the dearest input-side price + max_tokens × the output price
    (+ the longest the attempt can take × the card's price of time, for time-priced models)

with the prices of every long-context tier the prompt bound crosses. Every input-side kind
(input, both cache writes, cache reads) is priced at the dearest of them, so no mix of cache
writes and reads can cost more than the reservation.

The prompt bound has two sources:

- **exact** for armbench's in-process simulated models (`sim`, and `script` turns without
  scripted usage): they bill with armbench's own tokenizer, so the bound is the very count they
  will bill, and a budget on a sim run binds as tightly as it can;
- **bytes** for everything behind an SDK: a provider's tokenizer is not armbench's, and the
  approximate tokenizer (armbench.models.tokenizer) may count fewer tokens than a real one on
  unusual text (hex, base64, other scripts). A byte-level BPE token is at least one byte, so
  the UTF-8 bytes of every text bound the provider's count; `API_FRAMING_TOKENS` covers what a
  provider adds around them (the tool-use system prompt, role and turn markers). The bound is
  some three times the real count on code: the price of a promise that holds on every provider.

The bound holds for models that honour their request: a scripted turn's `usage` is whatever
its file says, and a model that writes past `max_tokens` costs past its reservation (the
budget records the overrun; see armbench.models.budget).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from armbench.core import ModelRequest
from armbench.models.prompt_cache import block_text
from armbench.models.tokenizer import BLOCK_OVERHEAD, MESSAGE_OVERHEAD, count_tokens
from armbench.pricing import ModelRates, UnknownPriceError
from armbench.pricing.ratecard import PricedKind

API_FRAMING_TOKENS = 1024
"""Tokens a provider may add to a request beyond its texts: Anthropic documents a tool-use
system prompt of a few hundred tokens, and every message carries role and turn markers."""

INPUT_SIDE: tuple[PricedKind, ...] = ("input", "cache_write_5m", "cache_write_1h", "cache_read")
"""The kinds a prompt token can be billed as."""


def _pieces(request: ModelRequest) -> Iterator[tuple[str, int]]:
    """Each text of the request in prefix order, with the structural tokens around it — the
    same walk the sim bills (armbench.models.prompt_cache.linearize)."""
    for tool in request.tools:
        yield json.dumps(tool.model_dump(), sort_keys=True), 0
    if request.system:
        yield request.system, BLOCK_OVERHEAD
    for message in request.messages:
        for position, block in enumerate(message.content):
            yield block_text(block), BLOCK_OVERHEAD + (MESSAGE_OVERHEAD if position == 0 else 0)


def prompt_bound(request: ModelRequest, *, exact: bool) -> int:
    """The most prompt tokens `request` can be billed: armbench's own count when `exact` (an
    in-process simulated model), else a bound on any provider's (see the module's docstring)."""
    if exact:
        return sum(count_tokens(text) + overhead for text, overhead in _pieces(request))
    return API_FRAMING_TOKENS + sum(
        len(text.encode("utf-8")) + overhead for text, overhead in _pieces(request)
    )


def _dearest(rates: ModelRates, kinds: tuple[PricedKind, ...], prompt_tokens: int) -> float | None:
    """The highest price of `kinds` in the base prices and in every tier `prompt_tokens`
    crosses ($ per million tokens); None when none of them has a price."""
    tables = [rates, *(t for t in rates.tiers if prompt_tokens > t.above_input_tokens)]
    prices = [p for table in tables for kind in kinds if (p := getattr(table, kind)) is not None]
    return max(prices, default=None)


def worst_case_usd(
    rates: ModelRates,
    key: str,
    *,
    prompt_tokens: int,
    output_tokens: int,
    seconds: float = 0.0,
) -> float:
    """Dollars a call of model `key` cannot exceed: `prompt_tokens` at the dearest input-side
    price, `output_tokens` at the output price, `seconds` at the card's price of time.
    UnknownPriceError when the card prices no input-side kind, or no output, for it."""
    top_input = _dearest(rates, INPUT_SIDE, prompt_tokens)
    top_output = _dearest(rates, ("output",), prompt_tokens)
    if top_input is None or top_output is None:
        missing = "input" if top_input is None else "output"
        raise UnknownPriceError(
            f"{key}: the rate card has no {missing} price, so the worst case of its calls "
            "cannot be reserved against a budget"
        )
    tokens = (prompt_tokens * top_input + output_tokens * top_output) / 1_000_000
    return tokens + seconds * rates.usd_per_hour / 3600
