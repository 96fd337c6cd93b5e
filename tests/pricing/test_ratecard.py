"""Tests for armbench.pricing.ratecard: loading TOML rate cards and pricing usage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from armbench.core import Usage
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


# --- tiers, local models, time prices, round trips --------------------------------------------

TIERED = """\
[models."anthropic/long"]
input = 3.0
output = 15.0
cache_write_5m = 3.75
cache_write_1h = 6.0
cache_read = 0.3

[[models."anthropic/long".tiers]]
above_input_tokens = 200000
input = 6.0
output = 22.5
cache_read = 0.6
"""


def test_tiers_load_from_toml_and_apply_to_the_whole_call(tmp_path: Path) -> None:
    card = _card(tmp_path, TIERED)
    (tier,) = card.rates["anthropic/long"].tiers
    assert tier.above_input_tokens == 200_000 and tier.cache_write_5m is None
    at_threshold = Usage(input=200_000, output=1_000_000)
    above = Usage(input=200_001, output=1_000_000)
    # genai-prices' comparison: the tier applies when the prompt is strictly above the start.
    assert card.cost("anthropic/long", at_threshold) == pytest.approx(0.6 + 15.0, abs=1e-12)
    assert card.cost("anthropic/long", above) == pytest.approx(
        200_001 * 6.0 / 1e6 + 22.5, abs=1e-12
    )


def test_tier_threshold_counts_cache_reads_and_writes(tmp_path: Path) -> None:
    card = _card(tmp_path, TIERED)
    usage = Usage(input=1, cache_read=150_000, cache_write_5m=50_000, output=0)
    # 200,001 prompt tokens: input and cache_read take tier prices, 5m writes keep the base.
    expected = (1 * 6.0 + 150_000 * 0.6 + 50_000 * 3.75) / 1e6
    assert card.cost("anthropic/long", usage) == pytest.approx(expected, abs=1e-15)


def test_highest_crossed_tier_wins_per_kind(tmp_path: Path) -> None:
    card = _card(
        tmp_path,
        '[models."a/m"]\ninput = 1.0\noutput = 2.0\n'
        '[[models."a/m".tiers]]\nabove_input_tokens = 300\ninput = 3.0\n'
        '[[models."a/m".tiers]]\nabove_input_tokens = 100\ninput = 2.0\noutput = 4.0\n',
    )
    rates = card.rates["a/m"]
    assert [t.above_input_tokens for t in rates.tiers] == [100, 300]  # sorted on load
    assert (rates.price("input", 100), rates.price("output", 100)) == (1.0, 2.0)
    assert (rates.price("input", 101), rates.price("output", 101)) == (2.0, 4.0)
    # Above both: input from the higher tier, output from the lower one (the highest pricing it).
    assert (rates.price("input", 301), rates.price("output", 301)) == (3.0, 4.0)


def test_bad_tiers_are_refused(tmp_path: Path) -> None:
    empty = '[models."a/b"]\ninput = 1.0\n[[models."a/b".tiers]]\nabove_input_tokens = 5\n'
    assert "tiers.0: the tier above 5 input tokens prices nothing" in _load_error(tmp_path, empty)
    twice = (
        '[models."a/b"]\ninput = 1.0\n'
        '[[models."a/b".tiers]]\nabove_input_tokens = 5\ninput = 2.0\n'
        '[[models."a/b".tiers]]\nabove_input_tokens = 5\ninput = 3.0\n'
    )
    assert "tiers: two tiers share a threshold" in _load_error(tmp_path, twice)
    negative = '[models."a/b"]\n[[models."a/b".tiers]]\nabove_input_tokens = -1\ninput = 2.0\n'
    assert "above_input_tokens" in _load_error(tmp_path, negative)


def test_local_model_is_free_but_keeps_its_tokens(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."openai/qwen"]\nlocal = true\n')
    rates = card.rates["openai/qwen"]
    assert all(getattr(rates, kind) == 0.0 for kind in PRICED_KINDS)
    usage = Usage(input=10_000, output=2_000, cache_read=50_000, reasoning=500)
    assert card.cost("openai/qwen", usage, seconds=30.0) == 0.0
    assert card.to_mapping()["models"]["openai/qwen"]["local"] is True


def test_local_model_keeps_the_prices_it_states(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."openai/qwen"]\nlocal = true\noutput = 0.1\n')
    assert card.cost("openai/qwen", Usage(input=10**6, output=10**6)) == 0.1


def test_non_local_entry_still_needs_every_used_price(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."openai/box"]\nper_hour = 1.0\n')
    with pytest.raises(UnknownPriceError, match="used 5 input tokens"):
        card.cost("openai/box", Usage(input=5), seconds=1.0)
    assert card.cost("openai/box", Usage(), seconds=3600.0) == 1.0


def test_time_priced_per_hour(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."openai/qwen"]\nlocal = true\nper_hour = 0.5\n')
    assert card.rates["openai/qwen"].usd_per_hour == 0.5
    assert card.cost("openai/qwen", Usage(input=1000, output=100), seconds=72.0) == 0.01
    assert card.cost("openai/qwen", Usage(input=1000)) == 0.0  # no time, no cost


def test_time_priced_by_power(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."openai/qwen"]\nlocal = true\nwatts = 65\nusd_per_kwh = 0.30\n')
    # 65 W for an hour is 0.065 kWh: $0.0195 an hour.
    assert card.rates["openai/qwen"].usd_per_hour == pytest.approx(0.0195, abs=1e-15)
    assert card.cost("openai/qwen", Usage(output=10), seconds=7200.0) == pytest.approx(
        0.039, abs=1e-15
    )


def test_time_and_token_prices_add_up(tmp_path: Path) -> None:
    card = _card(tmp_path, '[models."a/rented"]\ninput = 1.0\noutput = 2.0\nper_hour = 3.6\n')
    assert card.cost("a/rented", Usage(input=10**6, output=10**6), seconds=10.0) == 3.01


def test_time_price_needs_both_power_and_tariff(tmp_path: Path) -> None:
    message = _load_error(tmp_path, '[models."a/b"]\nlocal = true\nwatts = 65\n')
    assert message.endswith(
        'models."a/b": watts and usd_per_kwh price time together; give both or neither'
    )
    assert "give both" in _load_error(tmp_path, '[models."a/b"]\nusd_per_kwh = 0.3\n')
    both = '[models."a/b"]\nper_hour = 1\nwatts = 65\nusd_per_kwh = 0.3\n'
    assert "not both" in _load_error(tmp_path, both)
    assert "Input should be a finite number" in _load_error(
        tmp_path, '[models."a/b"]\ninput = inf\n'
    )


def test_negative_seconds_are_refused(tmp_path: Path) -> None:
    card = _card(tmp_path)
    with pytest.raises(ValueError, match=r"cannot price -1\.0 seconds"):
        card.cost(KEY, Usage(input=1), seconds=-1.0)


RICH = (
    DESIGN_EXAMPLE
    + TIERED
    + '[models."openai/qwen"]\nlocal = true\nwatts = 65\nusd_per_kwh = 0.3\n'
    + '[models."openai/box"]\nlocal = true\nper_hour = 0.5\noutput = 1e-06\n'
    + '[models."odd/\\"quoted\\" \\\\ ünï"]\ninput = 1.5e+20\noutput = 0.1\n'
)


def test_to_toml_round_trips(tmp_path: Path) -> None:
    card = _card(tmp_path, RICH, "rich.toml")
    assert 'odd/"quoted" \\ ünï' in card.rates
    written = tmp_path / "written.toml"
    written.write_text(card.to_toml(), encoding="utf-8")
    again = RateCard.load(written)
    assert again.to_mapping() == card.to_mapping()
    assert again.digest() == card.digest()
    assert again.to_toml().split("\n", 1)[1] == card.to_toml().split("\n", 1)[1]
    assert card.to_toml().startswith(f"# rate card: {tmp_path / 'rich.toml'}\n")
    assert '[[models."anthropic/long".tiers]]\nabove_input_tokens = 200000\n' in card.to_toml()


def test_from_mapping_reads_what_to_mapping_wrote(tmp_path: Path) -> None:
    card = _card(tmp_path, RICH)
    mapping = card.to_mapping()
    again = RateCard.from_mapping(mapping, source="copy")
    assert again.to_mapping() == mapping
    assert again.rates == card.rates
    # A manifest's record carries more keys at top level; only `models` holds prices.
    record = {"source": "x", "sha256": card.digest(), "provenance": {KEY: "y"}, **mapping}
    assert RateCard.from_mapping(record, source="manifest").digest() == card.digest()
    assert RateCard.from_mapping(json.loads(json.dumps(record)), source="m").rates == card.rates


def test_digest_covers_tiers_and_time_prices(tmp_path: Path) -> None:
    base = _card(tmp_path, TIERED, "one.toml").digest()
    other_tier = _card(tmp_path, TIERED.replace("22.5", "20"), "two.toml").digest()
    no_tier = _card(tmp_path, TIERED.split("[[")[0], "three.toml").digest()
    assert len({base, other_tier, no_tier}) == 3
    hourly = '[models."openai/q"]\nlocal = true\nper_hour = 0.5\n'
    one = _card(tmp_path, hourly, "four.toml").digest()
    two = _card(tmp_path, hourly.replace("0.5", "0.6"), "five.toml").digest()
    free = _card(tmp_path, '[models."openai/q"]\nlocal = true\n', "six.toml").digest()
    assert len({one, two, free}) == 3


def test_local_zeros_are_part_of_the_digest_not_of_the_spelling(tmp_path: Path) -> None:
    implicit = _card(tmp_path, '[models."openai/q"]\nlocal = true\n', "a.toml")
    explicit = _card(
        tmp_path,
        '[models."openai/q"]\nlocal = true\n' + "".join(f"{k} = 0\n" for k in PRICED_KINDS),
        "b.toml",
    )
    assert implicit.digest() == explicit.digest()


def test_plain_cards_keep_their_pre_tier_digest(tmp_path: Path) -> None:
    # The digest older manifests recorded: sha256 of the sorted JSON of the kinds alone.
    legacy = {"models": {KEY: {"input": 5.0, "output": 25.0, "cache_write_5m": 6.25,
                               "cache_write_1h": 10.0, "cache_read": 0.5}}}  # fmt: skip
    expected = hashlib.sha256(json.dumps(legacy, sort_keys=True).encode()).hexdigest()
    assert _card(tmp_path).digest() == expected
