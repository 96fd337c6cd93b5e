"""What a run is doing, told as it happens, for a progress display: a template being prepared
(the first trials of a task wait on it, sometimes for many seconds), a trial started and
ended (a trial the budget refused before its first call ends unrecorded), a trial recorded
(`on_trial` receives its record)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from armbench.core import TrialRecord

ActivityKind = Literal["preparing", "prepared", "trial_started", "trial_ended"]


@dataclass(frozen=True)
class Activity:
    kind: ActivityKind
    subject: str
    """The template (`task` or `task seed N`) or the trial id."""


OnActivity = Callable[[Activity], None]
OnTrial = Callable[[TrialRecord], None]


def ignore(_: Activity) -> None:
    """The listener of a run nobody watches."""
