"""Endpoint limiters: AIMD on 429/529, a capped retry-after hold, rpm, first come first served.

Time is a fake clock that waiting advances: nothing sleeps and nothing is timed.
"""

from __future__ import annotations

import threading
import time

import pytest

from armbench.config import AnthropicModelConfig, OpenAIModelConfig, SimModelConfig
from armbench.core import EndpointLimits
from armbench.models import EndpointLimiter, Limiters


class FakeTime:
    """A clock that only moves when a limiter waits on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float | None] = []

    def clock(self) -> float:
        return self.now

    def wait(self, _condition: threading.Condition, timeout: float | None) -> None:
        assert timeout is not None, "a single thread would wait forever for a release"
        self.waits.append(timeout)
        self.now += timeout


def limiter(fake: FakeTime, **limits: int) -> EndpointLimiter:
    return EndpointLimiter(
        "anthropic",
        EndpointLimits.model_validate(limits),
        connections=8,
        retry_after_cap_s=60.0,
        clock=fake.clock,
        wait=fake.wait,
    )


def test_a_429_halves_the_calls_in_flight_once_per_congestion_event() -> None:
    fake = FakeTime()
    lim = limiter(fake, grow_after=3)
    slots = [lim.acquire() for _ in range(8)]
    assert lim.state().allowed == 8 and fake.waits == []
    lim.release(slots[0], "throttled", retry_after_s=30)
    assert lim.state().allowed == 4  # half of the 8 that were in flight
    for slot in slots[1:4]:  # sent before the cut: the same event, no further cut
        lim.release(slot, "throttled")
    assert lim.state().allowed == 4
    assert lim.state().throttled == 4
    for slot in slots[4:]:
        lim.release(slot, "ok")  # successes count toward growing back
    assert lim.state().allowed == 5  # 3 successes (grow_after) allowed one more
    # The next call waits out the retry-after from the release, then is a new epoch:
    after = lim.acquire()
    assert fake.waits == [pytest.approx(30.0)] and after.waited_s == pytest.approx(30.0)
    lim.release(after, "throttled")
    assert lim.state().allowed == 1  # half of the one in flight, but never below 1


def test_the_hold_is_capped_and_other_failures_do_not_adapt() -> None:
    fake = FakeTime()
    lim = limiter(fake)
    first = lim.acquire()
    lim.release(first, "throttled", retry_after_s=3600)
    assert lim.state().held_s == pytest.approx(60.0)  # retry_after_cap_s, never an hour
    second = lim.acquire()
    assert second.waited_s == pytest.approx(60.0)
    lim.release(second, "failed", retry_after_s=30)  # a 500: neither a cut nor a hold
    assert lim.state().allowed == 1 and lim.state().held_s == 0
    third = lim.acquire()
    assert third.waited_s == 0


def test_grows_back_one_call_per_grow_after_successes_up_to_the_ceiling() -> None:
    fake = FakeTime()
    lim = limiter(fake, max_connections=2, grow_after=2)
    lim.release(lim.acquire(), "throttled")
    allowed = []
    for _ in range(5):
        lim.release(lim.acquire(), "ok")
        allowed.append(lim.state().allowed)
    assert allowed == [1, 2, 2, 2, 2]  # the second success grew it; the ceiling holds it


def test_rpm_spaces_attempts_over_a_sliding_minute() -> None:
    fake = FakeTime()
    lim = limiter(fake, rpm=2)
    waited = []
    for _ in range(5):
        slot = lim.acquire()
        waited.append(slot.waited_s)
        lim.release(slot, "ok")
    assert waited == [0, 0, pytest.approx(60.0), 0, pytest.approx(60.0)]


def test_waiting_calls_are_served_in_arrival_order() -> None:
    lim = EndpointLimiter(
        "e", EndpointLimits(max_connections=1), connections=8, retry_after_cap_s=1
    )
    held = lim.acquire()
    order: list[int] = []

    def call(n: int) -> None:
        slot = lim.acquire()
        order.append(n)
        lim.release(slot, "ok")

    threads = []
    for n in range(5):
        thread = threading.Thread(target=call, args=(n,))
        thread.start()
        threads.append(thread)
        while lim.state().waiting < n + 1:  # n has queued before n+1 arrives
            time.sleep(0.001)
    lim.release(held, "ok")
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]


def test_endpoints_are_a_provider_at_a_base_url_and_configs_merge_strictest() -> None:
    models = {
        "opus": AnthropicModelConfig(provider="anthropic", model="claude-opus-4-7"),
        "haiku": AnthropicModelConfig(provider="anthropic", model="claude-haiku-4-5"),
        "gpt": OpenAIModelConfig(provider="openai", model="gpt-5"),
        "qwen": OpenAIModelConfig(
            provider="openai", model="qwen3.5:9b", base_url="http://localhost:11434/v1"
        ),
        "sim": SimModelConfig(provider="sim"),
    }
    table = {
        "anthropic": EndpointLimits(max_connections=8, rpm=50),
        "haiku": EndpointLimits(max_connections=4),
        "openai": EndpointLimits(rpm=100),
        "qwen": EndpointLimits(max_connections=1),
    }
    limiters = Limiters(models, table, connections=16, retry_after_cap_s=60)
    assert limiters.of("opus") is limiters.of("haiku")  # one account, one limiter
    assert limiters.of("gpt") is not limiters.of("qwen")  # the cloud and a local server
    anthropic = limiters.of("opus")
    assert (anthropic.ceiling, anthropic.limits.rpm) == (4, 50)  # haiku's 4 is stricter
    assert (limiters.of("qwen").ceiling, limiters.of("qwen").limits.rpm) == (1, 100)
    assert (limiters.of("gpt").ceiling, limiters.of("gpt").limits.rpm) == (16, 100)
    assert limiters.of("sim").ceiling == 16 and limiters.of("sim").limits.rpm is None
    assert [s.endpoint for s in limiters.state()] == [
        "anthropic",
        "openai",
        "openai@http://localhost:11434/v1",
        "sim",
    ]
