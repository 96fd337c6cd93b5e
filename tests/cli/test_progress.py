"""The run's live view: what it counts, the spend it shows against the budget, its ETA, what it
says the run is doing, and plain periodic lines off a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from run_helpers import trial

from armbench.cli.progress import RunProgress, clock, eta_s
from armbench.models import BudgetState
from armbench.runner import Activity


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def plain() -> tuple[Console, io.StringIO]:
    sink = io.StringIO()
    return Console(file=sink, force_terminal=False, width=200), sink


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "expected"),
    [(0, 10, 30.0, None), (2, 10, 30.0, 120.0), (10, 10, 30.0, 0.0), (5, 20, 100.0, 300.0)],
)
def test_eta_goes_by_the_pace_so_far(
    done: int, total: int, elapsed: float, expected: float | None
) -> None:
    assert eta_s(done, total, elapsed) == expected


def test_clock_reads_as_minutes_or_hours() -> None:
    assert (clock(None), clock(59.6), clock(125), clock(3725)) == ("–", "1:00", "2:05", "1:02:05")


def test_the_line_counts_statuses_and_prices_finished_trials_without_a_budget() -> None:
    console, _ = plain()
    now = FakeClock()
    costs = {"A-t-1": 0.25, "A-t-2": 0.5, "A-t-3": None}
    view = RunProgress(console, "exp", 6, cost_of=lambda r: costs[r.trial_id], now=now)
    view.on_trial(trial("A-t-1"))
    view.on_trial(trial("A-t-2", status="fail"))
    view.on_trial(trial("A-t-3", status="infra_error"))
    now.t += 90
    assert view.line() == (
        "exp  3/6  pass 1 fail 1 limit 0 infra 1  $0.75 spent (+1 unpriced)  elapsed 1:30  eta 1:30"
    )


def test_the_line_shows_spend_against_the_budget_and_when_it_is_reached() -> None:
    console, _ = plain()
    state = BudgetState(2.0, 0.5, 0.25, False, 0, 0.0)
    view = RunProgress(console, "exp", 4, budget=lambda: state, now=FakeClock())
    assert "$0.50 of $2.00" in view.line() and "reached" not in view.line()
    state = BudgetState(2.0, 1.99, 0.0, True, 3, 0.0)
    assert "$1.99 of $2.00 (budget reached)" in view.line()


def test_it_says_a_template_is_being_prepared_before_any_trial_runs() -> None:
    console, _ = plain()
    view = RunProgress(console, "exp", 4, now=FakeClock())
    view.on_activity(Activity("preparing", "breakage seed 7"))
    view.on_activity(Activity("preparing", "feature"))
    assert view.line().endswith("preparing breakage seed 7 +1")
    view.on_activity(Activity("prepared", "breakage seed 7"))
    view.on_activity(Activity("prepared", "feature"))
    view.on_activity(Activity("trial_started", "A.t.r1"))
    view.on_activity(Activity("trial_started", "B.t.r1"))
    assert view.line().endswith("running 2")
    view.on_activity(Activity("trial_ended", "A.t.r1"))
    assert view.line().endswith("running 1")


def test_off_a_terminal_it_prints_plain_lines_periodically_and_at_the_end() -> None:
    console, sink = plain()
    with RunProgress(console, "exp", 2, interval_s=0.01) as view:
        view.on_trial(trial("A-t-1"))
        for _ in range(200):  # the ticker prints within a few intervals
            if sink.getvalue():
                break
            view._stop.wait(0.01)
        view.on_trial(trial("A-t-2"))
    lines = sink.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("exp  ") for line in lines)
    assert lines[-1].startswith("exp  2/2  pass 2 fail 0 limit 0 infra 0")
    assert "\x1b[" not in sink.getvalue()  # no control codes in a log
