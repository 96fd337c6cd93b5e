"""The delegation tax: exact from the sim's block billing, estimated from the blocks' share."""

from __future__ import annotations

import pytest

from armbench.agent.tools import (
    BASH,
    DELEGATE,
)
from armbench.arms.tax import DelegationTax
from armbench.core import (
    Message,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from armbench.models.prompt_cache import linearize


def use(call_id: str, name: str = DELEGATE) -> Message:
    return Message(role="assistant", content=(ToolUseBlock(id=call_id, name=name, input={}),))


def result(call_id: str, text: str) -> Message:
    return Message(role="user", content=(ToolResultBlock(tool_use_id=call_id, content=text),))


def response(usage: Usage, blocks: dict[tuple[int, int], Usage] | None = None) -> ModelResponse:
    return ModelResponse(
        content=(TextBlock(text="ok"),),
        stop_reason="end_turn",
        usage=usage,
        latency_s=0.0,
        latency_simulated=True,
        model_id="m",
        block_usage=blocks,
    )


def test_exact_tax_sums_the_billing_of_returned_blocks_over_requests() -> None:
    first = ModelRequest(
        system="s",
        messages=(
            Message.user_text("task"),
            use("d1"),
            result("d1", "executor report one"),
            use("b1", BASH),
            result("b1", "bash output"),
        ),
    )
    second = ModelRequest(
        system="s",
        messages=(*first.messages, use("d2"), result("d2", "executor report two")),
    )
    tax = DelegationTax("sim/boss")
    tax.add(
        first,
        response(
            Usage(input=500, output=9, cache_read=100),
            {
                (0, 0): Usage(input=400),
                (1, 0): Usage(input=20),
                (2, 0): Usage(cache_read=100),
                (3, 0): Usage(input=30),
                (4, 0): Usage(input=50),
            },
        ),
        {"d1"},
    )
    tax.add(
        second,
        response(
            Usage(input=7, output=5, cache_read=600, cache_write_5m=40, cache_write_1h=3),
            {
                (0, 0): Usage(cache_read=400),
                (1, 0): Usage(cache_read=20),
                (2, 0): Usage(cache_read=100),
                (3, 0): Usage(cache_read=30),
                (4, 0): Usage(cache_read=50),
                (5, 0): Usage(cache_write_1h=3),
                (6, 0): Usage(cache_write_5m=40),
            },
        ),
        {"d1", "d2"},
    )
    assert tax.record() == {
        "model": "sim/boss",
        "tokens": {
            "input": 0,
            "output": 0,
            "cache_write_5m": 40,
            "cache_write_1h": 0,
            "cache_read": 200,
            "reasoning": 0,
        },
        "estimated": False,
    }


def test_a_request_without_returned_blocks_adds_nothing_and_estimates_nothing() -> None:
    request = ModelRequest(
        system="s", messages=(Message.user_text("t"), use("b1", BASH), result("b1", "out"))
    )
    tax = DelegationTax("p/m")
    tax.add(request, response(Usage(input=1000, cache_read=50)), {"d9"})
    tax.add(request, response(Usage(input=1000)), set())
    assert tax.record() == {
        "model": "p/m",
        "tokens": dict.fromkeys(
            ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "reasoning"), 0
        ),
        "estimated": False,
    }


def test_estimated_tax_apportions_prompt_kinds_by_the_blocks_token_share() -> None:
    request = ModelRequest(
        system="You are a lead.",
        messages=(
            Message.user_text("Please do the task " * 20),
            use("d1"),
            result("d1", "Here is what I changed: " + "details " * 60),
            use("b1", BASH),
            result("b1", "pytest output " * 30),
        ),
    )
    usage = Usage(input=1000, output=77, cache_write_5m=500, cache_write_1h=50, cache_read=3000)
    segments, _ = linearize(request)
    block = next(s.tokens for s in segments if s.ref == ("message", 2, 0))
    share = block / sum(s.tokens for s in segments)
    assert 0 < share < 0.5
    tax = DelegationTax("openai/gpt")
    tax.add(request, response(usage), {"d1"})
    assert tax.estimated is True
    assert tax.tokens["input"] == pytest.approx(1000 * share)
    assert tax.tokens["cache_write_5m"] == pytest.approx(500 * share)
    assert tax.tokens["cache_write_1h"] == pytest.approx(50 * share)
    assert tax.tokens["cache_read"] == pytest.approx(3000 * share)
    assert tax.tokens["output"] == 0 and tax.tokens["reasoning"] == 0
    record = tax.record()
    assert record["estimated"] is True
    assert record["tokens"]["input"] == round(1000 * share)
    assert record["tokens"]["cache_read"] == round(3000 * share)
    assert all(isinstance(v, int) for v in record["tokens"].values())


def test_estimated_tax_counts_every_returned_block_of_the_request() -> None:
    request = ModelRequest(
        system="s",
        messages=(
            Message.user_text("task"),
            use("d1"),
            result("d1", "first report " * 10),
            use("d2"),
            result("d2", "second report " * 25),
        ),
    )
    segments, _ = linearize(request)
    total = sum(s.tokens for s in segments)
    tokens = {s.ref: s.tokens for s in segments}
    tax = DelegationTax("p/m")
    tax.add(request, response(Usage(input=total)), {"d1", "d2"})
    # plain input apportioned by share over a fully uncached prompt is exactly the blocks' tokens
    assert tax.tokens["input"] == pytest.approx(
        tokens[("message", 2, 0)] + tokens[("message", 4, 0)]
    )
    only_first = DelegationTax("p/m")
    only_first.add(request, response(Usage(input=total)), {"d1"})
    assert only_first.tokens["input"] == pytest.approx(tokens[("message", 2, 0)])


def test_record_rounds_accumulated_fractions() -> None:
    tax = DelegationTax("p/m")
    tax.tokens.update(input=3.4, cache_read=2.6, cache_write_5m=0.49, cache_write_1h=7.0)
    assert tax.record()["tokens"] == {
        "input": 3,
        "output": 0,
        "cache_write_5m": 0,
        "cache_write_1h": 7,
        "cache_read": 3,
        "reasoning": 0,
    }
