"""`report --group-by FIELD`: arms compared over groups of tasks that share a metadata value
(a category, a language, a difficulty), as a published study tabulates them.

A task's metadata is what the run's config says of it (`tasks: {id: {field: value}}`, as
imports record it). Within a group, an arm's pass rate is pooled over the group's judged
trials, and its interval treats tasks as clusters (the trials of one task are not independent
draws of the group): the same cluster-robust interval as the cloud fraction
(armbench.analysis.stats.pooled_share), or Wilson's when every trial agreed (a rate of 0 or 1
leaves the delta method nothing to work with). The median cost is over every judged trial of the
group, failed ones included, as a per-task cost is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from armbench.analysis import stats
from armbench.analysis.facts import TrialFacts
from armbench.analysis.report_model import GroupCell, Tally, Unjudged
from armbench.analysis.summary import median


class GroupingError(ValueError):
    """The run's tasks cannot be grouped by the field asked for."""


def task_groups(config: Mapping[str, Any], field: str, tasks: set[str]) -> dict[str, str]:
    """Task → its value of `field`, for every task of the run; GroupingError naming what is
    missing otherwise."""
    described = config.get("tasks")
    if not isinstance(described, Mapping):
        raise GroupingError(
            f"--group-by {field}: this run's config describes no task metadata (its `tasks` "
            "is a list of ids, not a mapping of id to fields); imported runs carry it"
        )
    found: dict[str, str] = {}
    known: set[str] = set()
    for task in sorted(tasks):
        meta = described.get(task)
        if isinstance(meta, Mapping):
            known |= set(meta)
            if field in meta:
                found[task] = str(meta[field])
    missing = sorted(tasks - set(found))
    if missing:
        fields = ", ".join(sorted(known)) or "none"
        raise GroupingError(
            f"--group-by {field}: {len(missing)} task(s) have no {field!r} (first: "
            f"{missing[0]}); fields the tasks have: {fields}"
        )
    return found


def group_cells(field: str, groups: Mapping[str, str], trials: list[TrialFacts]) -> list[GroupCell]:
    """One row per group × arm."""
    by_cell: dict[tuple[str, str], list[TrialFacts]] = {}
    for t in trials:
        by_cell.setdefault((groups[t.task], t.arm), []).append(t)
    cells = []
    for (group, arm), mine in sorted(by_cell.items()):
        judged = [t for t in mine if t.judged]
        by_task: dict[str, list[tuple[int, int]]] = {}
        for t in judged:
            by_task.setdefault(t.task, []).append((int(t.passed), 1))
        pooled = stats.pooled_share(list(by_task.values()))
        n_pass = sum(t.passed for t in judged)
        if pooled is not None and pooled[0] in (0.0, 1.0):
            # Every trial agreed: tasks add no spread to estimate, and the delta method has
            # none to work with; Wilson's interval over the trials says what n supports.
            pooled = (pooled[0], stats.wilson(n_pass, len(judged)))
        cells.append(
            GroupCell(
                group_by=field,
                group=group,
                arm=arm,
                tasks=len({t.task for t in mine}),
                n=len(mine),
                n_judged=len(judged),
                n_pass=n_pass,
                pass_rate=None if pooled is None else pooled[0],
                pass_rate_ci=None if pooled is None else pooled[1],
                median_cost_usd=median([t.cost_usd for t in judged]),
                spent_usd=sum(t.cost_usd for t in mine),
            )
        )
    return cells


def unjudged_spend(imported: Mapping[str, Any] | None, field: str | None) -> Unjudged | None:
    """What the rows an import could not judge cost (`imported.skipped`, each with its arm as
    `route` and its `cost_usd` where the importer priced it): in all, by arm, and by group of
    `field` where the rows carry it. None when nothing was skipped."""
    skipped = (imported or {}).get("skipped")
    if not isinstance(skipped, list) or not skipped:
        return None

    def tally(rows: list[Mapping[str, Any]]) -> Tally:
        costs = [r.get("cost_usd") for r in rows]
        known = all(isinstance(c, int | float) for c in costs)
        return Tally(rows=len(rows), cost_usd=sum(costs) if known else None)

    by_arm: dict[str, list[Mapping[str, Any]]] = {}
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for row in skipped:
        by_arm.setdefault(str(row.get("route")), []).append(row)
        if field is not None and field in row:
            by_group.setdefault(str(row[field]), []).append(row)
    return Unjudged(
        **tally(skipped).model_dump(),
        by_arm={arm: tally(rows) for arm, rows in sorted(by_arm.items())},
        by_group={group: tally(rows) for group, rows in sorted(by_group.items())},
    )
