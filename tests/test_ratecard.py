"""Tests for armbench.pricing.ratecard: loading TOML rate cards and pricing usage."""

from __future__ import annotations

from pathlib import Path

import pytest

from armbench.models.types import Usage
from armbench.pricing.ratecard import PRICED_KINDS, RateCard, UnknownPriceError

DESIGN_EXAMPLE = """\
[models."anthropic/claude-test"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5
"""

KEY = "anthropic/claude-test"


def _card(tmp_path: Path, text: str = DESIGN_EXAMPLE, name: str = "prices.toml") -> RateCard:
    path = tmp_path / name
    path.write_text(text)
    return RateCard.load(path)


def _load_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        RateCard.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message


def test_load_design_example(tmp_path: Path) -> None:
    card = _card(tmp_path)
    assert card.source == str(tmp_path / "prices.toml")
    assert set(card.rates) == {KEY}
    rates = card.rates[KEY]
    assert (
        rates.input,
        rates.output,
        rates.cache_write_5m,
        rates.cache_write_1h,
        rates.cache_read,
    ) == (5.0, 25.0, 6.25, 10.0, 0.5)


def test_cost_of_every_kind(tmp_path: Path) -> None:
    card = _card(tmp_path)
    usage = Usage(
        input=1_000_000,
        output=200_000,
        cache_write_5m=100_000,
        cache_write_1h=10_000,
        cache_read=2_000_000,
    )
    # 5.00 + 5.00 + 0.625 + 0.10 + 1.00
    assert card.cost(KEY, usage) == 11.725


def test_cost_of_small_usage(tmp_path: Path) -> None:
    card = _card(tmp_path)
    assert card.cost(KEY, Usage(input=1234, output=567)) == pytest.approx(0.020345, abs=1e-15)
    assert card.cost(KEY, Usage()) == 0.0


def test_reasoning_tokens_are_not_priced_separately(tmp_path: Path) -> None:
    card = _card(tmp_path)
    with_reasoning = card.cost(KEY, Usage(output=1000, reasoning=400))
    assert with_reasoning == card.cost(KEY, Usage(output=1000)) == 0.025
    # Reasoning alone (a provider reporting it inside output) costs nothing extra.
    assert card.cost(KEY, Usage(reasoning=400)) == 0.0


def test_unknown_model_names_the_model_and_the_fix(tmp_path: Path) -> None:
    card = _card(tmp_path)
    with pytest.raises(UnknownPriceError) as info:
        card.cost("openai/gpt-unknown", Usage(input=1))
    message = str(info.value)
    assert "'openai/gpt-unknown'" in message
    assert '[models."openai/gpt-unknown"]' in message
    for kind in PRICED_KINDS:
        assert f"{kind} = ..." in message
    assert card.source in message
    assert isinstance(info.value, LookupError)


def test_used_kind_without_price_raises(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."sim/cheap"]\ninput = 1.0\noutput = 2.0\n')
    with pytest.raises(UnknownPriceError) as info:
        card.cost("sim/cheap", Usage(input=10, cache_read=7))
    assert str(info.value) == (
        f"sim/cheap used 7 cache_read tokens, but {card.source} has no cache_read price for it"
    )


def test_zero_tokens_of_an_unpriced_kind_are_fine(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."sim/cheap"]\ninput = 1.0\noutput = 2.0\n')
    usage = Usage(input=1_000_000, output=500_000, cache_read=0, cache_write_1h=0)
    assert card.cost("sim/cheap", usage) == 2.0


def test_a_zero_price_is_a_price(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."local/free"]\ninput = 0\noutput = 0.0\n')
    assert card.cost("local/free", Usage(input=5, output=5)) == 0.0


def test_require(tmp_path: Path) -> None:
    card = _card(tmp_path)
    card.require([KEY, KEY])
    with pytest.raises(UnknownPriceError) as info:
        card.require([KEY, "z/b", "a/a"])
    message = str(info.value)
    assert message.startswith(f"no price for a/a, z/b in {card.source}; ")
    assert '[models."a/a"]' in message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    message = _load_error(tmp_path, '[models."a/b"\ninput = 1\n')
    assert "not valid TOML" in message


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ValueError, match="cannot read the rate card") as info:
        RateCard.load(path)
    assert str(path) in str(info.value)


def test_key_without_provider_is_refused(tmp_path: Path) -> None:
    message = _load_error(tmp_path, "[models.claude]\ninput = 1.0\n")
    assert message.endswith('models."claude": keys are "provider/model"')


def test_negative_price_is_refused(tmp_path: Path) -> None:
    message = _load_error(tmp_path, '[models."a/b"]\ninput = -1.0\n')
    assert message.endswith('models."a/b": input: Input should be greater than or equal to 0')


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    message = _load_error(tmp_path, '[models."a/b"]\ninput = 1.0\nreasoning = 3.0\n')
    assert message.endswith('models."a/b": reasoning: Extra inputs are not permitted')


def test_price_must_be_a_number(tmp_path: Path) -> None:
    message = _load_error(tmp_path, '[models."a/b"]\ninput = "cheap"\n')
    assert 'models."a/b": input:' in message


def test_card_needs_a_models_table(tmp_path: Path) -> None:
    message = _load_error(tmp_path, 'title = "prices"\n')
    assert message.endswith('expected [models."provider/model"] tables')
    message = _load_error(tmp_path, 'models = "none"\n')
    assert message.endswith('expected [models."provider/model"] tables')


def test_digest_is_stable_across_formatting(tmp_path: Path) -> None:
    reformatted = """\
# the same prices, reordered and reformatted
[models."anthropic/claude-test"]
cache_read = 0.50
cache_write_1h = 10
output = 25
cache_write_5m = 6.25
input = 5
"""
    one = _card(tmp_path, DESIGN_EXAMPLE, "one.toml")
    two = _card(tmp_path, reformatted, "two.toml")
    assert one.digest() == two.digest()
    assert len(one.digest()) == 64
    assert one.digest() == _card(tmp_path, DESIGN_EXAMPLE, "three.toml").digest()


def test_digest_changes_with_a_price(tmp_path: Path) -> None:
    base = _card(tmp_path, DESIGN_EXAMPLE, "one.toml").digest()
    cheaper = _card(tmp_path, DESIGN_EXAMPLE.replace("0.5", "0.3"), "two.toml").digest()
    extra_model = _card(
        tmp_path, DESIGN_EXAMPLE + '\n[models."sim/x"]\ninput = 1.0\n', "three.toml"
    ).digest()
    assert len({base, cheaper, extra_model}) == 3


def test_to_mapping_omits_unset_kinds(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."b/y"]\ninput = 2\n[models."a/x"]\noutput = 1.5\n')
    assert card.to_mapping() == {"models": {"a/x": {"output": 1.5}, "b/y": {"input": 2.0}}}
    assert list(card.to_mapping()["models"]) == ["a/x", "b/y"]


def test_the_example_rate_card_loads() -> None:
    import armbench

    card = RateCard.load(Path(armbench.__file__).parent / "examples" / "demo-prices.toml")
    assert card.rates
    assert all("/" in key for key in card.rates)
