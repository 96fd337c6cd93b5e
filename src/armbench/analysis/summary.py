"""Per arm × task: how often it passed and what a pass typically cost."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from armbench.analysis.runs import LoadedRun, trial_cost


@dataclass(frozen=True)
class Cell:
    arm: str
    task: str
    n: int
    passes: int
    fails: int
    limits: int
    infra_errors: int
    median_cost_usd: float | None
    """Among passing trials; None when nothing passed."""
    median_wall_s: float | None
    median_iterations: float | None

    @property
    def success_rate(self) -> float | None:
        """Passes over trials that were not infra errors (those say nothing about the arm)."""
        judged = self.n - self.infra_errors
        return self.passes / judged if judged else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(run: LoadedRun) -> list[Cell]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, trial in enumerate(run.trials):
        groups.setdefault((trial.arm, trial.task), []).append(index)
    cells = []
    for (arm, task), members in sorted(groups.items()):
        trials = [run.trials[i] for i in members]
        passed = [t for t in trials if t.status == "pass"]
        cells.append(
            Cell(
                arm=arm,
                task=task,
                n=len(trials),
                passes=len(passed),
                fails=sum(t.status == "fail" for t in trials),
                limits=sum(t.status == "limit" for t in trials),
                infra_errors=sum(t.status == "infra_error" for t in trials),
                median_cost_usd=_median([trial_cost(t, run.rate_card) for t in passed]),
                median_wall_s=_median([t.wall_s for t in passed]),
                median_iterations=_median([float(t.iterations) for t in passed]),
            )
        )
    return cells
