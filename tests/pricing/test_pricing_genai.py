"""Tests for armbench.pricing.genai: genai-prices' bundled snapshot as rate-card entries.

Exact dollar figures are the providers' list prices as bundled in genai-prices 0.2.3; every
conversion is also checked against genai-prices' own `calc_price` on the same tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import genai_prices
import pytest

from armbench.core import Usage
from armbench.pricing.genai import GENAI_PRICES_VERSION, genai_match, genai_rates
from armbench.pricing.ratecard import ModelRates, RateCard, UnknownPriceError

pytestmark = pytest.mark.usefixtures("no_network")


def _cost(provider: str, model: str, usage: Usage, **kwargs: Any) -> float:
    key = f"{provider}/{model}"
    card = RateCard({key: genai_rates(provider, model, **kwargs)}, source="genai")
    return card.cost(key, usage)


def _genai_cost(provider: str, model: str, usage: Usage, **kwargs: Any) -> float:
    """genai-prices' own answer: its input_tokens include cache reads and writes."""
    writes = usage.cache_write_5m + usage.cache_write_1h
    calc = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.output,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=writes,
            cache_write_1h_tokens=usage.cache_write_1h,
        ),
        model,
        provider_id=provider,
        **kwargs,
    )
    return float(calc.total_price)


M = 1_000_000
OPUS = ("anthropic", "claude-opus-4-7")
HAIKU = ("anthropic", "claude-haiku-4-5-20251001")
SONNET = ("anthropic", "claude-sonnet-4-5")


def test_version_is_the_installed_one() -> None:
    assert GENAI_PRICES_VERSION == genai_prices.__version__ == "0.2.3"


@pytest.mark.parametrize(
    ("model", "per_kind"),
    [
        (OPUS, {"input": 5.0, "output": 25.0, "cache_write_5m": 6.25, "cache_write_1h": 10.0,
                "cache_read": 0.5}),
        (HAIKU, {"input": 1.0, "output": 5.0, "cache_write_5m": 1.25, "cache_write_1h": 2.0,
                 "cache_read": 0.1}),
    ],
)  # fmt: skip
def test_anthropic_list_prices_per_kind(model: tuple[str, str], per_kind: dict[str, float]) -> None:
    for kind, dollars in per_kind.items():
        assert _cost(*model, Usage(**{kind: M})) == dollars
    assert genai_rates(*model).tiers == ()


def test_opus_call_with_every_kind_to_the_cent() -> None:
    usage = Usage(
        input=12_345,
        output=4_321,
        cache_write_5m=20_000,
        cache_write_1h=3_000,
        cache_read=150_000,
        reasoning=1_000,
    )
    # 0.061725 + 0.108025 + 0.125 + 0.03 + 0.075
    assert round(_cost(*OPUS, usage), 2) == 0.40
    assert _cost(*OPUS, usage) == pytest.approx(0.39975, abs=1e-12)
    assert _cost(*OPUS, usage) == pytest.approx(_genai_cost(*OPUS, usage), abs=1e-12)


def test_reasoning_is_not_priced_twice() -> None:
    with_reasoning = _cost(*HAIKU, Usage(output=M, reasoning=600_000))
    assert with_reasoning == _cost(*HAIKU, Usage(output=M)) == 5.0


def test_matching_names_the_genai_entry() -> None:
    match = genai_match(*HAIKU)
    assert (match.provider_id, match.model_id) == ("anthropic", "claude-haiku-4-5")


def test_tiered_model_below_and_above_200k_prompt_tokens() -> None:
    rates = genai_rates(*SONNET)
    (tier,) = rates.tiers
    assert tier.above_input_tokens == 200_000
    below = Usage(input=50_000, cache_read=150_000, output=10_000)  # prompt exactly 200,000
    above = Usage(input=50_001, cache_read=150_000, output=10_000)
    assert _cost(*SONNET, below) == pytest.approx(0.15 + 0.045 + 0.15, abs=1e-12)
    assert _cost(*SONNET, above) == pytest.approx(
        (50_001 * 6.0 + 150_000 * 0.6 + 10_000 * 22.5) / M, abs=1e-12
    )
    assert round(_cost(*SONNET, above), 2) == 0.62
    for usage in (below, above, Usage(input=300_000, cache_write_1h=1, cache_write_5m=2)):
        assert _cost(*SONNET, usage) == pytest.approx(_genai_cost(*SONNET, usage), abs=1e-12)


def test_openai_cached_tokens_are_cache_reads_and_writes_bill_as_input() -> None:
    rates = genai_rates("openai", "gpt-5")
    assert (rates.input, rates.output, rates.cache_read) == (1.25, 10.0, 0.125)
    # No write price at OpenAI: genai-prices bills such tokens at the input price.
    assert rates.cache_write_5m == rates.cache_write_1h == 1.25
    usage = Usage(input=200_000, cache_read=800_000, output=50_000, reasoning=30_000)
    assert _cost("openai", "gpt-5", usage) == pytest.approx(0.25 + 0.1 + 0.5, abs=1e-12)
    assert _cost("openai", "gpt-5", usage) == pytest.approx(
        _genai_cost("openai", "gpt-5", usage), abs=1e-12
    )


def test_openai_compatible_gateway_is_recognised_by_its_url() -> None:
    match = genai_match(
        "openai", "anthropic/claude-sonnet-4.5", base_url="https://openrouter.ai/api/v1"
    )
    assert match.provider_id == "openrouter"
    assert match.rates.input == 3.0 and match.rates.tiers
    official = genai_match("openai", "gpt-5", base_url="https://api.openai.com/v1")
    assert official.provider_id == "openai" and official.rates == genai_rates("openai", "gpt-5")


def test_historical_prices_via_at() -> None:
    in_2024 = datetime(2024, 6, 1, tzinfo=UTC)
    assert _cost("anthropic", "claude-3-opus", Usage(input=M), at=in_2024) == 15.0
    assert _cost("anthropic", "claude-3-opus", Usage(output=M), at=in_2024) == 75.0
    # Opus 4.6 dropped its long-context surcharge on 2026-03-13.
    before = genai_rates("anthropic", "claude-opus-4-6", at=datetime(2026, 3, 12, tzinfo=UTC))
    after = genai_rates("anthropic", "claude-opus-4-6", at=datetime(2026, 3, 13, tzinfo=UTC))
    assert [t.above_input_tokens for t in before.tiers] == [200_000] and after.tiers == ()
    long_prompt = Usage(input=300_000)
    for day, dollars in ((12, 3.0), (13, 1.5)):
        when = datetime(2026, 3, day, tzinfo=UTC)
        cost = _cost("anthropic", "claude-opus-4-6", long_prompt, at=when)
        assert cost == dollars
        assert cost == _genai_cost(
            "anthropic", "claude-opus-4-6", long_prompt, genai_request_timestamp=when
        )


def test_unknown_model_raises_with_the_fix() -> None:
    with pytest.raises(UnknownPriceError) as info:
        genai_rates("anthropic", "claude-nonexistent-9")
    message = str(info.value)
    assert "genai-prices 0.2.3 has no price for anthropic/claude-nonexistent-9" in message
    assert 'add [models."anthropic/claude-nonexistent-9"] with input = ...' in message
    assert "rate card" in message


def test_unknown_endpoint_raises_naming_it() -> None:
    with pytest.raises(UnknownPriceError, match="at http://localhost:11434/v1"):
        genai_rates("openai", "qwen3.5:9b", base_url="http://localhost:11434/v1")


def test_prices_a_card_cannot_express_are_refused_not_dropped() -> None:
    with pytest.raises(UnknownPriceError, match="by requests_kcount"):
        genai_rates("perplexity", "sonar")
    with pytest.raises(UnknownPriceError, match="by time of day"):
        genai_rates("openai", "deepseek-chat", base_url="https://api.deepseek.com")


def test_conversion_yields_a_valid_card_entry() -> None:
    rates = genai_rates(*SONNET)
    assert ModelRates.model_validate(rates.to_mapping()) == rates
