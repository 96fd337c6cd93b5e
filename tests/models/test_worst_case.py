"""The worst case of a call: a prompt bound no bill can pass, priced at the dearest prices."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.agent.loop import default_breakpoints
from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC
from armbench.core import (
    Message,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from armbench.models import prompt_bound, worst_case_usd
from armbench.models.prompt_cache import PromptCache, linearize
from armbench.models.worst_case import API_FRAMING_TOKENS
from armbench.pricing import RateCard, UnknownPriceError

CARD = """
[models."x/tiered"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5

[[models."x/tiered".tiers]]
above_input_tokens = 1000
input = 12.0
output = 40.0

[models."x/no-output"]
input = 1.0

[models."x/timed"]
local = true
per_hour = 36.0
"""


PRICES = RateCard.from_mapping(tomllib.loads(CARD), source="test card")
TIERED = PRICES.rates["x/tiered"]


def agent_request(extra: str = "") -> ModelRequest:
    messages = (
        Message.user_text("Fix the failing test in greet.py." + extra),
        Message(
            role="assistant",
            content=(
                TextBlock(text="Let me look."),
                ToolUseBlock(id="t1", name="bash", input={"command": "pytest -q"}),
            ),
        ),
        Message(role="user", content=(ToolResultBlock(tool_use_id="t1", content="1 failed"),)),
    )
    return ModelRequest(
        system="You are careful.",
        messages=messages,
        tools=(BASH_SPEC, EDITOR_SPEC),
        cache_breakpoints=default_breakpoints(messages),
        max_tokens=512,
    )


def test_the_exact_bound_is_what_the_sim_bills_cold_or_warm() -> None:
    request = agent_request()
    segments, breakpoints = linearize(request)
    cache = PromptCache(min_tokens=0)
    cold = cache.account(segments, breakpoints, now=0.0)
    warm = cache.account(segments, breakpoints, now=1.0)
    assert warm.cache_read > 0 and cold.cache_write_5m > 0  # the cache did work
    assert prompt_bound(request, exact=True) == cold.prompt_tokens == warm.prompt_tokens
    assert prompt_bound(
        ModelRequest(system="", messages=(Message.user_text("hi"),)), exact=True
    ) == (
        1 + 3 + 4  # one letter run, the block's and the message's overhead
    )


def test_the_api_bound_counts_bytes_and_framing() -> None:
    request = ModelRequest(system="", messages=(Message.user_text("héllo"),))
    assert prompt_bound(request, exact=False) == API_FRAMING_TOKENS + 6 + 3 + 4


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_the_api_bound_is_never_below_the_exact_count(text: str) -> None:
    request = agent_request(text)
    assert prompt_bound(request, exact=False) >= prompt_bound(request, exact=True)
    # A byte-level BPE token covers at least one byte: the bound covers any such tokenizer.
    assert prompt_bound(request, exact=False) >= len(text.encode()) + API_FRAMING_TOKENS


def test_every_prompt_token_is_priced_at_the_dearest_input_side_price() -> None:
    usd = worst_case_usd(TIERED, "x/tiered", prompt_tokens=1000, output_tokens=100)
    assert usd == pytest.approx((1000 * 10.0 + 100 * 25.0) / 1e6)  # cache_write_1h, output
    # Past the tier's threshold its prices join the candidates: input 12 beats the 1h write.
    usd = worst_case_usd(TIERED, "x/tiered", prompt_tokens=1001, output_tokens=100)
    assert usd == pytest.approx((1001 * 12.0 + 100 * 40.0) / 1e6)


def test_time_priced_models_add_their_longest_attempt() -> None:
    timed = PRICES.rates["x/timed"]
    usd = worst_case_usd(timed, "x/timed", prompt_tokens=10, output_tokens=10, seconds=100)
    assert usd == pytest.approx(1.0)  # $36/h for 100 s; tokens are free


def test_a_model_without_an_output_price_cannot_be_reserved() -> None:
    with pytest.raises(UnknownPriceError, match="no output price"):
        worst_case_usd(PRICES.rates["x/no-output"], "x/no-output", prompt_tokens=1, output_tokens=1)


@settings(max_examples=300, deadline=None)
@given(split=st.lists(st.integers(0, 500), min_size=4, max_size=4), output=st.integers(0, 512))
def test_no_bill_within_the_request_costs_more_than_its_worst_case(
    split: list[int], output: int
) -> None:
    """However a prompt of at most `bound` tokens is split into uncached input, cache writes
    and reads, and whatever the output up to max_tokens, the card's cost is within the worst
    case — tiers included."""
    usage = Usage(
        input=split[0],
        cache_write_5m=split[1],
        cache_write_1h=split[2],
        cache_read=split[3],
        output=output,
    )
    bound = max(usage.prompt_tokens, 1)
    worst = worst_case_usd(TIERED, "x/tiered", prompt_tokens=bound, output_tokens=512)
    assert PRICES.cost("x/tiered", usage) <= worst * (1 + 1e-12)
