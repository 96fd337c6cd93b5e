"""Tests for armbench.pricing.effective's completeness check: a card entry must price every
token kind its model can produce, or the run is refused before it starts (a card without cache
prices used to pass, run, and then break every view of the run at its first cache token)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from armbench.core import Usage
from armbench.pricing.effective import PricedModel, effective_card, priced_models
from armbench.pricing.ratecard import PRICED_KINDS, RateCard, UnknownPriceError

pytestmark = pytest.mark.usefixtures("no_network")

ALL = {"input": 5.0, "output": 25.0, "cache_write_5m": 6.25, "cache_write_1h": 10.0}
ALL["cache_read"] = 0.5


def _card(tmp_path: Path, entries: dict[str, dict[str, object]]) -> RateCard:
    lines = []
    for key, prices in entries.items():
        lines.append(f'[models."{key}"]')
        lines += [f"{k} = {str(v).lower()}" for k, v in prices.items()]
    path = tmp_path / "prices.toml"
    path.write_text("\n".join(lines) + "\n")
    return RateCard.load(path)


def _without(*kinds: str) -> dict[str, object]:
    return {k: v for k, v in ALL.items() if k not in kinds}


def _refusal(models: list[PricedModel], card: RateCard) -> str:
    with pytest.raises(UnknownPriceError) as info:
        effective_card(models, card)
    return str(info.value)


def test_an_anthropic_model_needs_both_cache_write_prices(tmp_path: Path) -> None:
    opus = PricedModel("anthropic/claude-opus-4-7", "anthropic", "claude-opus-4-7")
    card = _card(tmp_path, {opus.key: _without("cache_write_1h")})
    assert _refusal([opus], card) == (
        f'{card.source}: [models."anthropic/claude-opus-4-7"] has no cache_write_1h price, and '
        "this model can produce input, output, cache_write_5m, cache_write_1h, cache_read; add "
        "cache_write_1h = ... ($ per million tokens) to it, or `local = true` for a model you "
        "run yourself"
    )


@pytest.mark.parametrize(
    ("provider", "prices", "missing"),
    [
        ("openai", _without("cache_write_5m", "cache_write_1h"), None),
        ("openai", _without("cache_write_5m", "cache_write_1h", "cache_read"), "cache_read"),
        ("sim", {"input": 1.0, "output": 2.0}, "cache_write_5m, cache_write_1h, cache_read"),
        ("sim", {"local": True}, None),
        ("newprovider", _without("cache_read"), "cache_read"),
    ],
    ids=["openai whole", "openai no reads", "sim no cache", "local", "unknown provider"],
)
def test_what_each_provider_can_produce_must_be_priced(
    tmp_path: Path, provider: str, prices: dict[str, object], missing: str | None
) -> None:
    model = PricedModel(f"{provider}/m", provider, "m")
    card = _card(tmp_path, {model.key: prices})
    if missing is None:
        priced, _ = effective_card([model], card)
        kinds = {k: 1000 for k in PRICED_KINDS if k in model.produces()}
        assert priced.cost(model.key, Usage(reasoning=10, **kinds)) >= 0  # never raises
    else:
        assert f"has no {missing} price" in _refusal([model], card)


def test_reasoning_is_priced_as_output(tmp_path: Path) -> None:
    model = PricedModel("openai/o", "openai", "o")
    card = _card(tmp_path, {model.key: _without("output")})
    assert "has no output price" in (message := _refusal([model], card))
    assert "(reasoning tokens are priced as output)" in message


def test_an_importer_names_the_kinds_its_data_holds(tmp_path: Path) -> None:
    study = frozenset({"input", "output"})
    model = PricedModel("anthropic/old", "anthropic", "old", kinds=study)  # type: ignore[arg-type]
    card = _card(tmp_path, {model.key: {"input": 1.0, "output": 2.0}})
    priced, _ = effective_card([model], card)
    assert set(priced.rates) == {model.key}


def test_a_script_model_produces_what_its_turns_state(tmp_path: Path) -> None:
    script = tmp_path / "turns.yaml"
    turns = [{"text": "a"}, {"text": "b", "usage": {"input": 5, "cache_read": 9, "reasoning": 2}}]
    script.write_text(yaml.safe_dump(turns))
    config = {"r": {"provider": "script", "path": str(script), "model": "r"}}
    (model,) = priced_models(config)
    assert model.produces() == {"input", "output", "cache_read"}
    card = _card(tmp_path, {"script/r": {"input": 1.0, "output": 2.0}})
    assert "has no cache_read price" in _refusal([model], card)
    script.write_text(yaml.safe_dump([{"text": "no usage: counted as input and output"}]))
    (plain,) = priced_models(config)
    effective_card([plain], card)
    (missing,) = priced_models({"r": {"provider": "script", "path": str(tmp_path / "gone")}})
    assert missing.produces() == {"input", "output"}  # its own check reports the file


def test_missing_models_and_missing_kinds_are_reported_together(tmp_path: Path) -> None:
    opus = PricedModel("anthropic/claude-opus-4-7", "anthropic", "claude-opus-4-7")
    sim = PricedModel("sim/cheap", "sim", "cheap")
    card = _card(tmp_path, {opus.key: _without("cache_read")})
    message = _refusal([opus, sim], card)
    assert message.startswith("no price for sim/cheap:")
    assert message.splitlines()[-1].startswith(f'{card.source}: [models."{opus.key}"] has no ')
