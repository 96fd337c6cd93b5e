"""Assembling a report's figures: which charts are drawn, under which keys and captions, and
for how many tasks. A figure with nothing to plot is skipped (None), never drawn empty.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from armbench.analysis.figures.base import Chart, ChartKind, Figures, arm_colors
from armbench.analysis.figures.cloud_fraction import cloud_fraction_svg
from armbench.analysis.figures.delegation_tax import delegation_tax_svg
from armbench.analysis.figures.pareto import pareto_svg
from armbench.analysis.figures.token_growth import token_growth_svg
from armbench.analysis.report_model import Report

MAX_TASK_FIGURES = 30
"""Per-task figures (two Pareto plots and token growth) are drawn for at most this many tasks,
in task order; the report says which tasks were left out. Each figure takes ~0.1 s and 30–60
KB of HTML, and past a few dozen tasks a reader turns to the tables anyway: 30 tasks keeps a
report under ~10 s of drawing and a few MB."""

CAPTIONS: dict[ChartKind, str] = {
    "cost_wall": (
        "Median cost and wall time of passing trials; lower-left is better. Filled: on the "
        "Pareto frontier (not dominated with the report's bootstrap support); hollow: dominated."
    ),
    "cost_success": (
        "Mean cost of a judged attempt against pass rate; upper-left is better. Filled: on the "
        "frontier; hollow: dominated."
    ),
    "token_growth": (
        "Mean prompt size (input + cache writes + cache reads) of the k-th call of each role, "
        "over the trials that made at least k such calls; a line stops where fewer than half "
        "of its trials are still calling. A steep orchestrator line is the cost of re-reading "
        "what its executor returned."
    ),
    "delegation_tax": (
        "What delegating cost each orchestrated arm per trial, beyond the work itself. Hatched "
        "bars are estimates."
    ),
    "cloud_fraction": (
        "Routed arms: how often the router chose the cloud model, and what that bought in pass "
        "rate. Bars are Wilson 95% intervals."
    ),
}


def report_figures(
    report: Report,
    growth: Sequence[Mapping[str, Any]] = (),
    *,
    max_tasks: int = MAX_TASK_FIGURES,
) -> Figures:
    """Every figure the report has data for, per-task ones first (see `MAX_TASK_FIGURES`)."""
    colors = arm_colors([c.arm for c in report.cells] + [a.arm for a in report.arms])
    tasks = sorted({c.task for c in report.cells} | {p.task for p in report.pareto})
    charts: list[Chart] = []

    taken: set[str] = set()

    def add(kind: ChartKind, task: str | None, draw: Callable[[str], str | None]) -> None:
        key = _key(f"fig-{kind}" + (f"-{task}" if task else ""), taken)
        taken.add(key)
        svg = draw(key)
        if svg is not None:
            charts.append(Chart(key, kind, _title(svg), CAPTIONS[kind], task, svg))

    for task in tasks[:max_tasks]:
        add("cost_wall", task, partial(pareto_svg, report.pareto, "cost_wall", task, colors))
        add("cost_success", task, partial(pareto_svg, report.pareto, "cost_success", task, colors))
        add("token_growth", task, partial(token_growth_svg, growth, task, colors))
    add("delegation_tax", None, partial(delegation_tax_svg, report.arms, colors))
    add("cloud_fraction", None, partial(cloud_fraction_svg, report.cells, colors))
    return Figures(charts, tasks[max_tasks:])


def _key(raw: str, taken: set[str]) -> str:
    """An HTML-id-safe key; tasks whose names differ only in punctuation get a numeric suffix."""
    key = re.sub(r"[^A-Za-z0-9_-]", "-", raw)
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def _title(svg: str) -> str:
    found = re.search(r'aria-label="([^"]*)"', svg)
    return html.unescape(found.group(1)) if found else ""
