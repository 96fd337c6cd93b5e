"""The live view of a run: trials done of the total and by status, spend against the budget, an
estimate of the time left, and what the run is doing now (preparing a template, running trials).

On a terminal it is a rich progress line redrawn in place; anywhere else (a CI log, a file, a
pipe) it prints a plain line every `interval_s` seconds and one at the end, so a log shows the
run moving without being flooded. Everything it shows is read from the records and events the
runner hands it, and from the budget's own account: it measures nothing itself.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from armbench.core import TrialRecord
from armbench.models import BudgetState
from armbench.runner import Activity

STATUSES = ("pass", "fail", "limit", "infra_error")
SHORT = {"pass": "pass", "fail": "fail", "limit": "limit", "infra_error": "infra"}


def eta_s(done: int, total: int, elapsed_s: float) -> float | None:
    """Seconds left at the pace so far (trials finish at a steady rate once the pool is full);
    None before the first trial ends, when there is no pace to go by."""
    if done <= 0 or done >= total:
        return None if done <= 0 else 0.0
    return elapsed_s / done * (total - done)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class RunProgress:
    """Callbacks for `runner.execute` (`on_trial`, `on_activity`) that keep the view current.

    `spend` returns the dollars spent so far and the budget (None when the run has none);
    `cost_of` prices a finished trial, used when no budget meters the calls as they happen."""

    def __init__(
        self,
        console: Console,
        name: str,
        total: int,
        *,
        budget: Callable[[], BudgetState] | None = None,
        cost_of: Callable[[TrialRecord], float | None] | None = None,
        interval_s: float = 15.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.name = name
        self.total = total
        self.budget = budget
        self.cost_of = cost_of
        self.interval_s = interval_s
        self.now = now
        self.started = now()
        self.statuses: Counter[str] = Counter()
        self.costed = 0.0
        self.uncosted = 0
        self.preparing: dict[str, float] = {}
        self.running: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._live = console.is_terminal
        self._progress: Progress | None = None
        self._bar: TaskID | None = None

    # --- what the runner calls -------------------------------------------------------------

    def on_activity(self, activity: Activity) -> None:
        with self._lock:
            table = self.preparing if activity.kind.startswith("prepar") else self.running
            if activity.kind in ("preparing", "trial_started"):
                table[activity.subject] = self.now()
            else:
                table.pop(activity.subject, None)
        self._refresh()

    def on_trial(self, record: TrialRecord) -> None:
        with self._lock:
            self.statuses[record.status] += 1
            if self.cost_of is not None:
                cost = self.cost_of(record)
                if cost is None:
                    self.uncosted += 1
                else:
                    self.costed += cost
        self._refresh(advance=True)

    # --- what it shows ---------------------------------------------------------------------

    @property
    def done(self) -> int:
        return sum(self.statuses.values())

    def counts(self) -> str:
        return " ".join(f"{SHORT[s]} {self.statuses[s]}" for s in STATUSES)

    def spend(self) -> str:
        state = self.budget() if self.budget is not None else None
        if state is not None and state.limit_usd is not None:
            text = f"${state.spent_usd:.2f} of ${state.limit_usd:.2f}"
            return text + (" (budget reached)" if state.exhausted else "")
        if self.cost_of is None:
            return ""
        unpriced = f" (+{self.uncosted} unpriced)" if self.uncosted else ""
        return f"${self.costed:.2f} spent{unpriced}"

    def doing(self) -> str:
        if self.preparing:
            first = min(self.preparing, key=self.preparing.__getitem__)
            more = f" +{len(self.preparing) - 1}" if len(self.preparing) > 1 else ""
            return f"preparing {first}{more}"
        if self.running:
            return f"running {len(self.running)}"
        return ""

    def line(self) -> str:
        """The plain line: `name  12/40  pass 9 fail 2 limit 0 infra 1  $0.42 of $5.00
        elapsed 3:10  eta 7:25  running 4`."""
        elapsed = self.now() - self.started
        parts = [
            self.name,
            f"{self.done}/{self.total}",
            self.counts(),
            self.spend(),
            f"elapsed {clock(elapsed)}",
            f"eta {clock(eta_s(self.done, self.total, elapsed))}",
            self.doing(),
        ]
        return "  ".join(p for p in parts if p)

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> RunProgress:
        if self._live:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[spend]}"),
                TimeElapsedColumn(),
                TextColumn("eta {task.fields[eta]}"),
                TextColumn("[dim]{task.fields[doing]}"),
                console=self.console,
                transient=False,
            )
            self._progress.__enter__()
            self._bar = self._progress.add_task(
                self.name, total=self.total, counts="", spend="", eta="", doing=""
            )
            self._refresh()
        self._ticker = threading.Thread(target=self._tick, name="armbench-progress", daemon=True)
        self._ticker.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._progress is not None:
            self._refresh()
            self._progress.__exit__(kind, error, trace)
        else:
            self._print()

    def _refresh(self, advance: bool = False) -> None:
        if self._progress is None or self._bar is None:
            return
        with self._lock:
            counts, spend, doing = self.counts(), self.spend(), self.doing()
            eta = clock(eta_s(self.done, self.total, self.now() - self.started))
        self._progress.update(
            self._bar,
            advance=1 if advance else 0,
            counts=counts,
            spend=escape(spend),
            eta=eta,
            doing=escape(doing),
        )

    def _tick(self) -> None:
        """Live: redraw each second (the eta and the clock move); plain: a line per interval."""
        period = 1.0 if self._live else self.interval_s
        while not self._stop.wait(period):
            if self._live:
                self._refresh()
            else:
                self._print()

    def _print(self) -> None:
        with self._lock:
            text = self.line()
        self.console.print(escape(text), highlight=False, soft_wrap=True)
