"""Tests for armbench.pricing.effective: layering a user's card over genai-prices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from armbench.core import Usage
from armbench.pricing.effective import (
    LOCAL_SOURCE,
    PricedModel,
    card_record,
    effective_card,
    priced_models,
)
from armbench.pricing.ratecard import PRICED_KINDS, RateCard, UnknownPriceError

pytestmark = pytest.mark.usefixtures("no_network")


OPUS = PricedModel("anthropic/claude-opus-4-7", "anthropic", "claude-opus-4-7")
HAIKU = PricedModel("anthropic/claude-haiku-4-5", "anthropic", "claude-haiku-4-5")
SIM = PricedModel("sim/strong", "sim", "strong")
QWEN = PricedModel("openai/qwen3.5:9b", "openai", "qwen3.5:9b", "http://localhost:11434/v1", True)

OVERRIDE = """\
[models."anthropic/claude-opus-4-7"]
input = 4.0
output = 20.0
cache_write_5m = 5.0
cache_write_1h = 8.0
cache_read = 0.4

[models."sim/strong"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5

[models."other/unused"]
input = 1.0
"""


def _override(tmp_path: Path, text: str = OVERRIDE) -> RateCard:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return RateCard.load(path)


def test_override_wins_then_genai_fills_in(tmp_path: Path) -> None:
    override = _override(tmp_path)
    card, provenance = effective_card([OPUS, HAIKU, SIM], override)
    assert set(card.rates) == {OPUS.key, HAIKU.key, SIM.key}  # only the models the run calls
    assert card.cost(OPUS.key, Usage(input=1_000_000)) == 4.0
    assert card.cost(HAIKU.key, Usage(input=1_000_000)) == 1.0
    assert card.cost(SIM.key, Usage(output=1_000_000)) == 25.0
    assert provenance[OPUS.key] == provenance[SIM.key] == f"rate card {override.source}"
    assert provenance[HAIKU.key] == "genai-prices 0.2.3 (anthropic/claude-haiku-4-5)"
    assert card.source == (
        f"effective card: rate card {override.source} (2 models); genai-prices 0.2.3 (1 model)"
    )


def test_genai_source_carries_the_date() -> None:
    at = datetime(2024, 6, 1, tzinfo=UTC)
    old_opus = PricedModel("anthropic/claude-3-opus", "anthropic", "claude-3-opus")
    card, provenance = effective_card([old_opus], None, at=at)
    assert provenance[old_opus.key] == (
        "genai-prices 0.2.3 at 2024-06-01 (anthropic/claude-3-opus-latest)"
    )
    assert card.cost(old_opus.key, Usage(input=1_000_000)) == 15.0


def test_local_model_is_zero_and_keeps_tokens() -> None:
    card, provenance = effective_card([QWEN], None)
    assert provenance == {QWEN.key: LOCAL_SOURCE}
    rates = card.rates[QWEN.key]
    assert rates.local and all(getattr(rates, k) == 0.0 for k in PRICED_KINDS)
    assert card.cost(QWEN.key, Usage(input=50_000, output=9_000), seconds=120.0) == 0.0


def test_local_model_priced_by_time_in_the_override(tmp_path: Path) -> None:
    override = _override(
        tmp_path, '[models."openai/qwen3.5:9b"]\nlocal = true\nwatts = 65\nusd_per_kwh = 0.30\n'
    )
    card, provenance = effective_card([QWEN], override)
    assert provenance[QWEN.key] == f"rate card {override.source}"
    # 65 W x 2 h = 0.13 kWh at $0.30.
    assert card.cost(QWEN.key, Usage(input=10**6), seconds=7200) == pytest.approx(0.039)


def test_simulated_model_needs_a_card() -> None:
    with pytest.raises(UnknownPriceError) as info:
        effective_card([SIM], None)
    message = str(info.value)
    assert "no price for sim/strong" in message
    assert "a simulated model is priced only by a rate card" in message
    assert "fix: add [models." in message and "`rate_card` in the config" in message
    # `local` is a field of the openai provider only: a sim model is not told to set it.
    assert "local: true" not in message and "takes prices of 0" in message


def test_every_missing_price_is_reported_at_once(tmp_path: Path) -> None:
    override = _override(tmp_path, '[models."x/y"]\ninput = 1.0\n')
    script = PricedModel("script/replay", "script", "replay")
    unknown = PricedModel("anthropic/claude-nope", "anthropic", "claude-nope")
    gateway = PricedModel("openai/mystery", "openai", "mystery", "http://127.0.0.1:8000/v1")
    with pytest.raises(UnknownPriceError) as info:
        effective_card([OPUS, SIM, script, unknown, gateway], override)
    message = str(info.value)
    first_line = message.splitlines()[0]
    assert first_line == (
        "no price for anthropic/claude-nope, openai/mystery, script/replay, sim/strong:"
    )
    assert "genai-prices 0.2.3 has no price for anthropic/claude-nope" in message
    assert "at http://127.0.0.1:8000/v1" in message
    assert f"to {override.source}" in message
    assert message.count("fix:") == 1
    assert "claude-opus-4-7" not in message


def test_one_key_with_two_endpoints_is_refused() -> None:
    a = PricedModel("openai/llama", "openai", "llama", "https://api.together.xyz/v1")
    b = PricedModel("openai/llama", "openai", "llama", "https://openrouter.ai/api/v1")
    with pytest.raises(ValueError, match="configured twice"):
        effective_card([a, b], None)
    same = PricedModel("anthropic/claude-haiku-4-5", "anthropic", "claude-haiku-4-5")
    card, _ = effective_card([HAIKU, same], None)
    assert list(card.rates) == [HAIKU.key]


def test_card_record_round_trips_through_a_manifest(tmp_path: Path) -> None:
    card, provenance = effective_card([OPUS, HAIKU, SIM, QWEN], _override(tmp_path))
    record = json.loads(json.dumps(card_record(card, provenance)))
    assert record["sha256"] == card.digest() and record["provenance"] == provenance
    assert record["source"] == card.source
    again = RateCard.from_mapping(record, source="manifest.json")
    assert again.digest() == card.digest() and again.rates == card.rates


def test_priced_models_from_a_manifest_config() -> None:
    config = {
        "strong": {"provider": "sim", "model": None, "skill": 0.9},
        "opus": {"provider": "anthropic", "model": "claude-opus-4-7", "base_url": None},
        "qwen": {
            "provider": "openai",
            "model": "qwen3.5:9b",
            "base_url": "http://localhost:11434/v1",
            "local": True,
        },
    }
    assert priced_models(config) == [
        PricedModel("sim/strong", "sim", "strong"),
        PricedModel("anthropic/claude-opus-4-7", "anthropic", "claude-opus-4-7"),
        QWEN,
    ]
    with pytest.raises(ValueError, match=r"models\.bad: no provider"):
        priced_models({"bad": {"model": "x"}})
