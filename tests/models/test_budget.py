"""The dollar account: reserve before, settle after, never overdrawn — also under threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.models import Budget


def test_a_reservation_holds_until_settled_to_the_real_cost() -> None:
    budget = Budget(1.0)
    held = budget.reserve(0.25)
    assert held is not None
    assert (budget.spent_usd, budget.reserved_usd) == (0.0, 0.25)
    budget.settle(held, 0.125)
    assert (budget.spent_usd, budget.reserved_usd) == (0.125, 0.0)
    with pytest.raises(ValueError, match="already settled"):
        budget.settle(held, 0.125)


def test_a_reservation_that_would_cross_is_refused_and_exhausts_for_good() -> None:
    budget = Budget(1.0)
    first = budget.reserve(0.75)
    assert first is not None
    assert budget.reserve(0.5) is None  # 0.75 held + 0.5 > 1
    assert budget.exhausted
    budget.settle(first, 0.0)  # the room is back, but the account stays exhausted:
    assert budget.reserve(0.01) is None  # in-flight trials end at their next call
    state = budget.state()
    assert (state.refused, state.spent_usd, state.reserved_usd) == (2, 0.0, 0.0)


def test_a_reservation_that_exactly_fills_the_budget_less_its_slack_fits() -> None:
    budget = Budget(1.0)
    assert budget.reserve(0.5) is not None
    assert budget.reserve(0.5 - 1e-6) is not None
    assert budget.reserve(1e-6) is None  # within the float slack of the limit: refused


def test_no_limit_never_refuses_and_still_counts() -> None:
    budget = Budget()
    held = budget.reserve(1e9)
    assert held is not None and not budget.exhausted
    budget.settle(held, 3.0)
    assert budget.spent_usd == 3.0


def test_zero_priced_calls_pass_a_zero_budget() -> None:
    budget = Budget(0.0)
    held = budget.reserve(0.0)
    assert held is not None
    budget.settle(held, 0.0)
    assert budget.reserve(1e-12) is None


def test_an_unknown_cost_counts_the_whole_reservation_and_overruns_are_counted() -> None:
    budget = Budget(10.0)
    unknown = budget.reserve(2.0)
    over = budget.reserve(1.0)
    assert unknown is not None and over is not None
    budget.settle(unknown, None)
    budget.settle(over, 1.5)  # a model that wrote past its max_tokens
    state = budget.state()
    assert (state.spent_usd, state.overrun_usd) == (3.5, 0.5)


def test_a_resumed_run_starts_with_what_it_recorded() -> None:
    assert Budget(1.0, spent_usd=1.0).exhausted
    resumed = Budget(1.0, spent_usd=0.75)
    assert not resumed.exhausted
    assert resumed.reserve(0.3) is None


@pytest.mark.parametrize("bad", [-0.01, float("inf"), float("nan")])
def test_nonsense_amounts_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        Budget(bad)
    with pytest.raises(ValueError):
        Budget(1.0).reserve(bad)


@settings(max_examples=200, deadline=None)
@given(
    limit=st.floats(0, 100),
    calls=st.lists(
        st.tuples(st.floats(0, 10), st.floats(0, 1), st.booleans()), min_size=1, max_size=40
    ),
)
def test_settled_spend_never_exceeds_the_limit_when_calls_stay_within_their_worst_case(
    limit: float, calls: list[tuple[float, float, bool]]
) -> None:
    """Any interleaving of reservations and settlements (a settle may wait while others
    reserve): spent is the sum of real costs, and it never passes the limit."""
    budget = Budget(limit)
    open_holds = []
    real = 0.0
    for worst, share, settle_now in calls:
        held = budget.reserve(worst)
        if held is not None:
            open_holds.append((held, worst * share))
        if settle_now and open_holds:
            reservation, cost = open_holds.pop(0)
            budget.settle(reservation, cost)
            real += cost
        assert budget.spent_usd + budget.reserved_usd <= limit
    for reservation, cost in open_holds:
        budget.settle(reservation, cost)
        real += cost
    assert budget.spent_usd == pytest.approx(real, rel=1e-12, abs=1e-12)
    assert budget.spent_usd <= limit and budget.reserved_usd == 0


def slow_numbers() -> Iterator[int]:
    """Reservation numbers handed out slowly: a reservation's check and its record are then
    far apart in time, as they can be whenever a thread is switched out between them."""
    number = 0
    while True:
        time.sleep(0.002)
        number += 1
        yield number


def test_concurrent_reservations_never_overcommit() -> None:
    """32 threads released at once each reserve $0.10 of a $1 budget: exactly 9 fit (the tenth
    would reach the limit, which the slack refuses). An unlocked check-then-record lets them
    all in."""
    budget = Budget(1.0)
    budget._numbers = slow_numbers()
    start = threading.Barrier(32)
    won: list[bool] = []

    def reserve() -> None:
        start.wait()
        won.append(budget.reserve(0.1) is not None)

    threads = [threading.Thread(target=reserve) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(won) == 9
    assert budget.reserved_usd == pytest.approx(0.9)


def test_concurrent_reserve_and_settle_keep_the_books() -> None:
    budget = Budget(5.0)
    spent = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        for n in range(200):
            held = budget.reserve(0.01 + (seed * n % 7) / 1000)
            if held is None:
                continue
            cost = held.usd / 2
            budget.settle(held, cost)
            with lock:
                spent.append(cost)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = budget.state()
    assert state.reserved_usd == 0
    assert state.spent_usd == pytest.approx(sum(spent), rel=1e-12)
    assert state.spent_usd <= 5.0
