"""The guard every attempt passes: caps on calls, tokens and dollars, the run's budget, and the
endpoint limiter — through the real retrying caller, and through the real Anthropic SDK."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.config import AnthropicModelConfig, RetryPolicy, ScriptModelConfig
from armbench.core import CallRecord, LimitReached, Limits, Message, ModelRequest
from armbench.models import (
    Attempt,
    Budget,
    CallGuard,
    Limiters,
    Model,
    ModelFactory,
    RetryingCaller,
    prompt_bound,
)
from armbench.models.script import ScriptModel, load_script
from armbench.pricing import RateCard, call_cost
from armbench.serve import SimServer, parse_fault

CARD = RateCard.from_mapping(
    tomllib.loads(
        """
[models."script/s"]
input = 1.0
output = 5.0
cache_write_5m = 1.25
cache_write_1h = 2.0
cache_read = 0.1

[models."anthropic/claude-test"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5
"""
    ),
    source="test card",
)
REQUEST = ModelRequest(
    system="You are careful.", messages=(Message.user_text("Say hello."),), max_tokens=100
)


class Ledger:
    """The rows the caller reports, priced the way reports price them."""

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []

    def __call__(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    def cost(self, model: Model) -> float:
        return sum(
            call_cost(
                CallRecord(
                    seq=n,
                    role="solo",
                    provider=model.identity.provider,
                    model=model.identity.model,
                    model_id="",
                    attempt=a.number,
                    status="ok" if a.error is None else "error",
                    usage=a.usage,
                    latency_s=a.latency_s,
                    latency_simulated=False,
                    started_at=a.started_at,
                ),
                CARD,
            )
            for n, a in enumerate(self.attempts, 1)
        )


def script(tmp_path: Path, turns: list[dict[str, Any]]) -> tuple[ScriptModel, ScriptModelConfig]:
    path = tmp_path / "turns.yaml"
    path.write_text(yaml.safe_dump(turns))
    config = ScriptModelConfig(provider="script", path=path, model="s")
    return ScriptModel("s", load_script(path)), config


def guarded(guard: CallGuard) -> RetryingCaller:
    return RetryingCaller(RetryPolicy(max_attempts=6), sleep=lambda _s: None, guard=guard)


def test_max_calls_counts_every_attempt_failed_or_not(tmp_path: Path) -> None:
    model, config = script(tmp_path, [{"error": "rate_limit"}, {"error": "overloaded"}, {}])
    guard = CallGuard(Limits(max_calls=2))
    guard.seat(model, "s", config)
    ledger = Ledger()
    with pytest.raises(LimitReached, match="2 call attempts") as refused:
        guarded(guard).call(model, REQUEST, ledger)
    assert refused.value.stop == "max_calls"
    assert [a.error.infra_class for a in ledger.attempts if a.error] == ["rate_limit", "overloaded"]


def test_max_tokens_refuses_the_call_whose_worst_case_would_cross(tmp_path: Path) -> None:
    model, config = script(tmp_path, [{"text": "hello"}, {"text": "again"}])
    worst = prompt_bound(REQUEST, exact=True) + REQUEST.max_tokens
    guard = CallGuard(Limits(max_tokens=worst + 1))
    guard.seat(model, "s", config)
    ledger = Ledger()
    caller = guarded(guard)
    caller.call(model, REQUEST, ledger)  # the first fits its worst case
    used = ledger.attempts[0].usage
    assert guard.tokens == used.prompt_tokens + used.output
    with pytest.raises(LimitReached) as refused:  # the second's worst case would not
        caller.call(model, REQUEST, ledger)
    assert refused.value.stop == "max_tokens"
    assert len(ledger.attempts) == 1


def test_max_cost_is_never_exceeded_and_settles_at_the_ledger_cost(tmp_path: Path) -> None:
    turns = [{"text": "word " * 20}] * 50
    model, config = script(tmp_path, turns)
    guard = CallGuard(Limits(max_cost_usd=0.002), card=CARD)
    guard.seat(model, "s", config)
    ledger = Ledger()
    caller = guarded(guard)
    with pytest.raises(LimitReached) as refused:
        for _ in turns:
            caller.call(model, REQUEST, ledger)
    assert refused.value.stop == "max_cost"
    spent = ledger.cost(model)
    assert 0 < spent <= 0.002
    assert guard.trial_budget.spent_usd == spent  # the same numbers, priced the same way
    assert guard.budget.spent_usd == spent  # the run's account saw every settled call too


def test_one_trial_exhausting_the_run_budget_stops_the_others(tmp_path: Path) -> None:
    budget = Budget(0.0007)  # a call's worst case is ~$0.00053, its real cost ~$0.00004
    first, first_config = script(tmp_path, [{"text": "x"}] * 20)
    other, other_config = script(tmp_path, [{"text": "y"}] * 20)
    a = CallGuard(Limits(), budget=budget, card=CARD)
    b = CallGuard(Limits(), budget=budget, card=CARD)
    a.seat(first, "s", first_config)
    b.seat(other, "s", other_config)
    with pytest.raises(LimitReached) as refused:
        for _ in range(20):
            guarded(a).call(first, REQUEST, Ledger())
    assert refused.value.stop == "budget" and budget.exhausted
    with pytest.raises(LimitReached, match=r"^budget_usd:") as also:
        guarded(b).call(other, REQUEST, Ledger())
    assert also.value.stop == "budget"
    assert budget.spent_usd <= 0.0007


def test_a_call_that_raises_past_the_guard_keeps_its_worst_case_spent(tmp_path: Path) -> None:
    class Broken(ScriptModel):
        def complete(self, request: ModelRequest) -> Any:
            raise RuntimeError("a bug, not a provider failure")

    _, config = script(tmp_path, [{}])
    model = Broken("s", [])
    budget = Budget(1.0)
    guard = CallGuard(Limits(), budget=budget, card=CARD)
    guard.seat(model, "s", config)
    with pytest.raises(RuntimeError):
        guarded(guard).call(model, REQUEST, Ledger())
    state = budget.state()
    assert state.reserved_usd == 0 and state.spent_usd > 0  # what it spent is unknown: all of it


def test_a_cap_needs_the_rate_card() -> None:
    with pytest.raises(ValueError, match="rate card"):
        CallGuard(Limits(max_cost_usd=1.0))


# --- through the real SDK, against serve-sim -------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, _condition: threading.Condition, timeout: float | None) -> None:
        assert timeout is not None
        self.waits.append(timeout)
        self.now += timeout


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer("anthropic").start() as running:
        yield running


def test_a_429_from_the_real_sdk_is_retried_and_shrinks_its_endpoint(server: SimServer) -> None:
    server.set_faults([parse_fault("status=429,retry_after=7,after=1,times=1")])
    config = AnthropicModelConfig(
        provider="anthropic", model="claude-test", base_url=server.sdk_base_url
    )
    factory = ModelFactory({"m": config}, environ={"ANTHROPIC_API_KEY": "sk-test-0123456789"})
    fake = FakeTime()
    limiters = Limiters(
        {"m": config}, {}, connections=4, retry_after_cap_s=60, clock=fake.clock, wait=fake.wait
    )
    budget = Budget(10.0)
    queued: list[float] = []
    guard = CallGuard(Limits(), budget=budget, card=CARD, limiters=limiters, on_queue=queued.append)
    try:
        model = factory.build("m")
        guard.seat(model, "m", config)
        ledger = Ledger()
        caller = guarded(guard)
        caller.call(model, REQUEST, ledger)  # the first request passes
        caller.call(model, REQUEST, ledger)  # the second meets the 429, then is retried
    finally:
        factory.close()
    assert [a.error.infra_class if a.error else "ok" for a in ledger.attempts] == [
        "ok",
        "rate_limit",
        "ok",
    ]
    state = limiters.state()[0]
    assert (state.endpoint, state.throttled, state.ceiling) == (
        f"anthropic@{server.sdk_base_url}",
        1,
        4,
    )
    assert state.allowed == 1  # one call was in flight when the 429 came: halved, at least 1
    assert fake.waits == [7.0]  # the retry waited out the server's retry-after in the limiter
    assert queued == [0.0, 0.0, 7.0]  # and the trial's clock is told, to leave it out
    assert budget.spent_usd == ledger.cost(model) > 0
    assert [fault["applied"] for fault in server.stats()["faults"]] == [1]
