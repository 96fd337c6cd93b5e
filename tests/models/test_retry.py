"""RetryingCaller: what is retried, how long it waits, when it gives up, and that every attempt
is reported — against a fake model that fails on cue."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.config import RetryPolicy
from armbench.core import (
    FATAL,
    RETRYABLE,
    InfraClass,
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    TextBlock,
    Usage,
)
from armbench.models.base import ModelIdentity
from armbench.models.retry import Attempt, RetryingCaller

REQUEST = ModelRequest(system="s", messages=(Message.user_text("hi"),))
ALL_CLASSES: tuple[InfraClass, ...] = get_args(InfraClass)
RETRIED: tuple[InfraClass, ...] = (
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "malformed_response",
)
NOT_RETRIED: tuple[InfraClass, ...] = ("auth", "quota", "harness", "sandbox")


def answer(text: str = "done") -> ModelResponse:
    return ModelResponse(
        content=(TextBlock(text=text),),
        stop_reason="end_turn",
        usage=Usage(input=10, output=2),
        latency_s=0.01,
        latency_simulated=False,
        model_id="fake-1",
    )


@dataclass
class FakeModel:
    """Raises or returns the scripted items in order; answers once the script runs out."""

    script: list[ModelError | ModelResponse]
    calls: int = 0
    called_at: list[float] = field(default_factory=list)

    @property
    def identity(self) -> ModelIdentity:
        return ModelIdentity(provider="fake", model="fake", simulated=True)

    def complete(self, request: ModelRequest) -> ModelResponse:
        assert request is REQUEST
        self.calls += 1
        self.called_at.append(time.time())
        item = self.script.pop(0) if self.script else answer()
        if isinstance(item, ModelError):
            raise item
        return item


@dataclass
class Recorder:
    """Collects sleeps and attempts, and the order in which they happened."""

    sleeps: list[float] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.events.append("sleep")

    def on_attempt(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.events.append(f"attempt {attempt.number}")


def caller_for(policy: RetryPolicy, recorder: Recorder, seed: int = 0) -> RetryingCaller:
    return RetryingCaller(policy, sleep=recorder.sleep, rng=random.Random(seed))


def error(infra_class: InfraClass, retry_after_s: float | None = None) -> ModelError:
    return ModelError(f"simulated {infra_class}", infra_class, retry_after_s=retry_after_s)


# --- classes ----------------------------------------------------------------------------------


def test_the_class_sets_are_the_documented_ones() -> None:
    assert set(RETRYABLE) == set(RETRIED)
    assert set(FATAL) == {"auth", "quota"}
    assert set(RETRIED) | set(NOT_RETRIED) == set(ALL_CLASSES)


@pytest.mark.parametrize("infra_class", ALL_CLASSES)
def test_retryable_and_fatal_flags(infra_class: InfraClass) -> None:
    e = error(infra_class)
    assert e.retryable is (infra_class in RETRIED)
    assert e.fatal is (infra_class in ("auth", "quota"))


@pytest.mark.parametrize("infra_class", RETRIED)
def test_retried_classes_are_retried_until_success_and_every_attempt_reported(
    infra_class: InfraClass,
) -> None:
    failures = [error(infra_class) for _ in range(3)]
    response = answer("finally")
    model = FakeModel([*failures, response])
    recorder = Recorder()
    policy = RetryPolicy(max_attempts=6, max_identical_failures=10)
    before = time.time()

    got = caller_for(policy, recorder).call(model, REQUEST, recorder.on_attempt)
    after = time.time()

    assert got is response
    assert model.calls == 4
    assert [a.number for a in recorder.attempts] == [1, 2, 3, 4]
    assert [a.error for a in recorder.attempts[:3]] == failures
    assert all(a.error is f for a, f in zip(recorder.attempts, failures, strict=False))
    assert all(a.response is None for a in recorder.attempts[:3])
    assert recorder.attempts[3].response is response and recorder.attempts[3].error is None
    # Each attempt started before its model call and after the previous one's.
    starts = [a.started_at for a in recorder.attempts]
    assert before <= starts[0]
    for start, called in zip(starts, model.called_at, strict=True):
        assert start <= called <= after
    assert starts == sorted(starts)
    assert all(a.elapsed_s >= 0 for a in recorder.attempts)
    # Reported first, then slept: no sleep after the success.
    assert recorder.events == [
        "attempt 1",
        "sleep",
        "attempt 2",
        "sleep",
        "attempt 3",
        "sleep",
        "attempt 4",
    ]


def test_a_first_time_success_is_one_reported_attempt_and_no_sleep() -> None:
    response = answer()
    model = FakeModel([response])
    recorder = Recorder()
    got = caller_for(RetryPolicy(), recorder).call(model, REQUEST, recorder.on_attempt)
    assert got is response
    assert [(a.number, a.response, a.error) for a in recorder.attempts] == [(1, response, None)]
    assert recorder.sleeps == []


@pytest.mark.parametrize("infra_class", NOT_RETRIED)
def test_unretryable_classes_are_tried_once_and_re_raised(infra_class: InfraClass) -> None:
    failure = error(infra_class)
    model = FakeModel([failure, answer()])
    recorder = Recorder()

    with pytest.raises(ModelError) as caught:
        caller_for(RetryPolicy(max_attempts=6), recorder).call(model, REQUEST, recorder.on_attempt)

    assert caught.value is failure
    assert caught.value.fatal is (infra_class in ("auth", "quota"))
    assert model.calls == 1
    assert [(a.number, a.error) for a in recorder.attempts] == [(1, failure)]
    assert recorder.sleeps == []


def test_an_unretryable_failure_after_retries_stops_at_once() -> None:
    quota = error("quota")
    model = FakeModel([error("rate_limit"), error("overloaded"), quota, answer()])
    recorder = Recorder()
    with pytest.raises(ModelError) as caught:
        caller_for(RetryPolicy(max_attempts=6), recorder).call(model, REQUEST, recorder.on_attempt)
    assert caught.value is quota and caught.value.fatal
    assert model.calls == 3
    assert len(recorder.sleeps) == 2


def test_max_attempts_exhausted_raises_the_last_error_after_exactly_max_attempts() -> None:
    failures = [error("timeout"), error("connection"), error("timeout"), error("server_error")]
    model = FakeModel([*failures, error("overloaded"), answer()])
    recorder = Recorder()
    policy = RetryPolicy(max_attempts=4, max_identical_failures=10)

    with pytest.raises(ModelError) as caught:
        caller_for(policy, recorder).call(model, REQUEST, recorder.on_attempt)

    assert caught.value is failures[-1]
    assert model.calls == 4
    assert [a.number for a in recorder.attempts] == [1, 2, 3, 4]
    assert [a.error for a in recorder.attempts] == failures
    assert len(recorder.sleeps) == 3  # no sleep after the last attempt


def test_max_attempts_one_never_retries() -> None:
    failure = error("rate_limit")
    model = FakeModel([failure, answer()])
    recorder = Recorder()
    with pytest.raises(ModelError) as caught:
        caller_for(RetryPolicy(max_attempts=1), recorder).call(model, REQUEST, recorder.on_attempt)
    assert caught.value is failure
    assert model.calls == 1 and recorder.sleeps == []


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_without_retry_after_is_full_jitter_under_the_doubling_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay_s=0.5, max_delay_s=5.0)
    model = FakeModel([error("server_error") for _ in range(7)])
    recorder = Recorder()
    caller_for(policy, recorder, seed=0).call(model, REQUEST, recorder.on_attempt)

    caps = [min(5.0, 0.5 * 2 ** (n - 1)) for n in range(1, 8)]
    assert caps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert len(recorder.sleeps) == 7
    for sleep, cap in zip(recorder.sleeps, caps, strict=True):
        assert 0 <= sleep <= cap
    # Full jitter: uniform over [0, cap] drawn from the caller's rng, not the cap itself.
    reference = random.Random(0)
    assert recorder.sleeps == pytest.approx([reference.uniform(0, cap) for cap in caps])
    assert len(set(recorder.sleeps)) == 7


@pytest.mark.parametrize("seed", range(20))
def test_backoff_s_stays_within_the_full_jitter_bounds(seed: int) -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=30.0)
    caller = RetryingCaller(policy, sleep=lambda _s: None, rng=random.Random(seed))
    for n in range(1, 12):
        assert 0 <= caller.backoff_s(n, error("rate_limit")) <= min(30.0, 2.0 ** (n - 1))


def test_full_jitter_spreads_over_the_whole_range() -> None:
    caller = RetryingCaller(RetryPolicy(base_delay_s=8.0, max_delay_s=8.0), rng=random.Random(1))
    draws = [caller.backoff_s(1, error("overloaded")) for _ in range(400)]
    assert min(draws) < 1.0 and max(draws) > 7.0  # not a fixed delay, not a fixed fraction


def test_a_huge_retry_after_is_capped_never_an_hour() -> None:
    policy = RetryPolicy(max_attempts=4, base_delay_s=1.0, max_delay_s=30.0, retry_after_cap_s=60)
    model = FakeModel([error("rate_limit", retry_after_s=3600) for _ in range(3)])
    recorder = Recorder()
    caller_for(policy, recorder).call(model, REQUEST, recorder.on_attempt)
    assert recorder.sleeps == [60.0, 60.0, 60.0]


def test_a_capped_retry_after_yields_to_a_larger_jittered_backoff() -> None:
    policy = RetryPolicy(base_delay_s=100.0, max_delay_s=100.0, retry_after_cap_s=0.5)
    rng_seed = 3
    caller = RetryingCaller(policy, rng=random.Random(rng_seed))
    jitter = random.Random(rng_seed).uniform(0, 100.0)
    assert jitter > 0.5
    assert caller.backoff_s(1, error("rate_limit", retry_after_s=3600)) == jitter


def test_a_short_retry_after_is_honoured_in_full() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=1.0, max_delay_s=1.0, retry_after_cap_s=60)
    model = FakeModel([error("overloaded", retry_after_s=2.0) for _ in range(2)])
    recorder = Recorder()
    caller_for(policy, recorder).call(model, REQUEST, recorder.on_attempt)
    # Jitter is at most 1 s here, so the server's 2 s is what is waited.
    assert recorder.sleeps == [2.0, 2.0]


@pytest.mark.parametrize("seed", range(10))
def test_a_retry_after_is_a_floor_on_the_sleep(seed: int) -> None:
    caller = RetryingCaller(
        RetryPolicy(base_delay_s=1.0, max_delay_s=30.0), rng=random.Random(seed)
    )
    for n in range(1, 8):
        sleep = caller.backoff_s(n, error("rate_limit", retry_after_s=2.0))
        assert 2.0 <= sleep <= max(2.0, min(30.0, 2.0 ** (n - 1)))


def test_retry_after_zero_is_plain_jitter() -> None:
    policy = RetryPolicy(base_delay_s=4.0, max_delay_s=4.0)
    caller = RetryingCaller(policy, rng=random.Random(5))
    assert caller.backoff_s(1, error("rate_limit", retry_after_s=0.0)) == random.Random(5).uniform(
        0, 4.0
    )


def test_backoff_for_a_very_late_attempt_is_capped_not_an_overflow() -> None:
    caller = RetryingCaller(
        RetryPolicy(max_attempts=2000, base_delay_s=0.001, max_delay_s=0.01),
        rng=random.Random(0),
    )
    assert 0 <= caller.backoff_s(1100, error("rate_limit")) <= 0.01


# --- the identical-failure cap ----------------------------------------------------------------


def test_identical_failures_within_one_call_hit_the_cap() -> None:
    failures = [error("rate_limit") for _ in range(5)]
    model = FakeModel([*failures, answer()])
    recorder = Recorder()
    policy = RetryPolicy(max_attempts=10, max_identical_failures=3)

    with pytest.raises(ModelError) as caught:
        caller_for(policy, recorder).call(model, REQUEST, recorder.on_attempt)

    given_up = caught.value
    assert given_up.infra_class == "rate_limit"
    assert "giving up" in str(given_up)
    assert "3 consecutive rate_limit failures" in str(given_up)
    assert given_up.__cause__ is failures[2]
    assert model.calls == 3
    assert [a.error for a in recorder.attempts] == failures[:3]  # the third is reported too
    assert len(recorder.sleeps) == 2


def test_the_streak_carries_across_calls_of_the_same_caller() -> None:
    policy = RetryPolicy(max_attempts=2, max_identical_failures=3)
    recorder = Recorder()
    caller = caller_for(policy, recorder)
    first = [error("overloaded"), error("overloaded")]
    with pytest.raises(ModelError) as caught:
        caller.call(FakeModel(list(first)), REQUEST, recorder.on_attempt)
    assert caught.value is first[1]  # max_attempts ran out: the provider's own error

    third = error("overloaded")
    model = FakeModel([third, answer()])
    with pytest.raises(ModelError) as caught:
        caller.call(model, REQUEST, recorder.on_attempt)
    assert caught.value is not third
    assert caught.value.infra_class == "overloaded"
    assert "giving up" in str(caught.value)
    assert model.calls == 1
    assert len(recorder.attempts) == 3


def test_a_new_caller_is_a_new_trial_with_a_fresh_streak() -> None:
    policy = RetryPolicy(max_attempts=2, max_identical_failures=3)
    recorder = Recorder()
    with pytest.raises(ModelError):
        caller_for(policy, recorder).call(
            FakeModel([error("timeout"), error("timeout")]), REQUEST, recorder.on_attempt
        )
    response = answer()
    got = caller_for(policy, recorder).call(
        FakeModel([error("timeout"), response]), REQUEST, recorder.on_attempt
    )
    assert got is response


def test_a_success_resets_the_streak() -> None:
    policy = RetryPolicy(max_attempts=3, max_identical_failures=3)
    recorder = Recorder()
    caller = caller_for(policy, recorder)
    for _ in range(3):  # 2 failures per call; 6 in all, but never 3 in a row
        response = answer()
        model = FakeModel([error("server_error"), error("server_error"), response])
        assert caller.call(model, REQUEST, recorder.on_attempt) is response
    assert len(recorder.attempts) == 9


def test_a_different_class_resets_the_streak() -> None:
    policy = RetryPolicy(max_attempts=10, max_identical_failures=3)
    recorder = Recorder()
    response = answer()
    script: list[ModelError | ModelResponse] = [
        error("rate_limit"),
        error("rate_limit"),
        error("overloaded"),
        error("rate_limit"),
        error("rate_limit"),
        response,
    ]
    assert caller_for(policy, recorder).call(FakeModel(script), REQUEST, recorder.on_attempt) is (
        response
    )
    assert len(recorder.attempts) == 6

    # ... and a new streak of the other class counts from one again.
    recorder = Recorder()
    script = [error("rate_limit"), error("rate_limit"), *(error("timeout") for _ in range(3))]
    with pytest.raises(ModelError) as caught:
        caller_for(policy, recorder).call(FakeModel(script), REQUEST, recorder.on_attempt)
    assert caught.value.infra_class == "timeout" and "giving up" in str(caught.value)
    assert len(recorder.attempts) == 5


def test_a_cap_of_one_gives_up_on_the_first_retryable_failure() -> None:
    recorder = Recorder()
    model = FakeModel([error("connection"), answer()])
    with pytest.raises(ModelError) as caught:
        caller_for(RetryPolicy(max_identical_failures=1), recorder).call(
            model, REQUEST, recorder.on_attempt
        )
    assert caught.value.infra_class == "connection" and "giving up" in str(caught.value)
    assert model.calls == 1 and recorder.sleeps == []


# --- property ---------------------------------------------------------------------------------

Step = tuple[InfraClass, float | None] | None
"""A scripted attempt: a failure (class, retry-after) or None for a success."""

steps = st.lists(
    st.one_of(
        st.none(),
        st.tuples(
            st.sampled_from(ALL_CLASSES),
            st.one_of(st.none(), st.floats(min_value=0, max_value=7200, allow_nan=False)),
        ),
    ),
    max_size=14,
)
policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 8),
    base_delay_s=st.floats(0, 10, allow_nan=False),
    max_delay_s=st.floats(0, 40, allow_nan=False),
    retry_after_cap_s=st.floats(0, 90, allow_nan=False),
    max_identical_failures=st.integers(1, 6),
)


def expected_outcome(script: list[Step], policy: RetryPolicy) -> tuple[int, bool]:
    """(attempts, succeeded) by the documented rules, for a fresh caller."""
    streak_class, streak = None, 0
    for number in range(1, policy.max_attempts + 1):
        step = script[number - 1] if number <= len(script) else None
        if step is None:
            return number, True
        infra_class = step[0]
        streak = streak + 1 if infra_class == streak_class else 1
        streak_class = infra_class
        if infra_class not in RETRIED or number == policy.max_attempts:
            return number, False
        if streak >= policy.max_identical_failures:
            return number, False
    raise AssertionError("unreachable")


@settings(max_examples=300)
@given(script=steps, policy=policies, seed=st.integers(0, 2**32 - 1))
def test_attempts_sleeps_and_outcome_follow_the_policy(
    script: list[Step], policy: RetryPolicy, seed: int
) -> None:
    items: list[ModelError | ModelResponse] = [
        answer() if s is None else error(s[0], retry_after_s=s[1]) for s in script
    ]
    model = FakeModel(list(items))
    recorder = Recorder()
    caller = caller_for(policy, recorder, seed)

    try:
        response: ModelResponse | None = caller.call(model, REQUEST, recorder.on_attempt)
    except ModelError:
        response = None

    attempts, succeeded = expected_outcome(script, policy)
    assert len(recorder.attempts) == model.calls == attempts
    assert [a.number for a in recorder.attempts] == list(range(1, attempts + 1))
    assert (response is not None) is succeeded
    if succeeded:
        assert recorder.attempts[-1].response is response
    assert all(a.error is not None for a in recorder.attempts[: attempts - 1])
    assert len(recorder.sleeps) == attempts - 1
    ceiling = max(policy.max_delay_s, policy.retry_after_cap_s)
    for sleep, attempt in zip(recorder.sleeps, recorder.attempts, strict=False):
        assert 0 <= sleep <= ceiling
        assert attempt.error is not None
        if attempt.error.retry_after_s is not None:
            assert sleep >= min(attempt.error.retry_after_s, policy.retry_after_cap_s)
