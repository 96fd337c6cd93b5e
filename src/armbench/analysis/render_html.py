"""The HTML view of a report: ONE self-contained file that can be mailed, archived or opened
from a CI artifact years later. CSS, SVG figures and a small script for sortable tables are
inline; nothing is loaded from anywhere, and a Content-Security-Policy (`default-src 'none'`,
the script allowed by its hash) makes the browser refuse any load a future edit might add.

The work of deciding what each table cell says happens in Python, where it is typed and
tested (armbench.analysis.html_tables, into armbench.analysis.html_view's view model); the
template (templates/report.html.j2) only lays the prepared tables out. This module assembles
the view and renders it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from armbench.analysis.figures import Chart, Figures, arm_colors, report_figures
from armbench.analysis.html_tables import (
    arms_table,
    cells_table,
    comparison_groups,
    decisions_table,
)
from armbench.analysis.html_view import FigureGroup, View
from armbench.analysis.render_md import percent
from armbench.analysis.report_model import Report

TEMPLATES = Path(__file__).parent / "templates"


STATUS_ORDER = ("pass", "fail", "limit", "infra_error")


def _view(report: Report, figures: Figures) -> View:
    colors = arm_colors([c.arm for c in report.cells] + [a.arm for a in report.arms])
    imported = None
    imported_notes: list[str] = []
    if report.imported:
        imported = [
            (key, str(report.imported[key]))
            for key in ("source", "importer", "sha256")
            if report.imported.get(key)
        ]
        raw = report.imported.get("notes") or []
        imported_notes = [str(n) for n in raw] if isinstance(raw, list) else [str(raw)]
    statuses = [
        (s, report.statuses.get(s, 0), percent(report.statuses.get(s, 0) / report.trials))
        for s in (*STATUS_ORDER, *sorted(set(report.statuses) - set(STATUS_ORDER)))
        if report.trials and (s in STATUS_ORDER or report.statuses.get(s))
    ]
    per_task: dict[str | None, list[Chart]] = {}
    for chart in figures.charts:
        per_task.setdefault(chart.task, []).append(chart)
    groups = [FigureGroup(task, charts) for task, charts in per_task.items() if task is not None]
    if None in per_task:
        groups.append(FigureGroup("Across tasks", per_task[None]))
    return View(
        report=report,
        title=f"armbench report: {report.name}",
        imported=imported,
        imported_notes=imported_notes,
        notes=[n for n in report.notes if n not in imported_notes],
        meta=[
            ("run", report.run_id),
            ("name", report.name),
            ("trials", str(report.trials)),
            ("rate card", report.rate_card_source),
            ("armbench", report.armbench_version),
            (
                "intervals",
                f"{report.confidence:.0%}: Wilson (pass rates), exact order statistics "
                "(medians), t over Wilson (cost per success); bootstrap "
                f"{report.bootstrap_resamples} resamples, seed {report.bootstrap_seed} "
                "(frontier, cheapest pick)",
            ),
            ("decisions", f"non-inferiority margin {report.margin:.0%} of pass rate"),
            (
                "frontier",
                f"dominated with ≥ {report.dominance_support:.0%} bootstrap support, "
                "Bonferroni over pairs of arms; pass rates drawn from Jeffreys posteriors",
            ),
        ],
        statuses=statuses,
        infra=sorted(report.infra_classes.items(), key=lambda kv: (-kv[1], kv[0])),
        cells=cells_table(report, colors),
        decisions=decisions_table(report, colors),
        comparisons=comparison_groups(report, colors),
        arms=arms_table(report, colors),
        figures=groups,
        omitted_tasks=figures.omitted_tasks,
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    report: Report,
    growth: Sequence[Mapping[str, Any]] = (),
    *,
    figures: Figures | None = None,
) -> str:
    """The report as one self-contained HTML page. `growth` is
    armbench.analysis.facts.prompt_growth's rows, for the token-growth figures; `figures`
    lets a caller that already drew them pass them in."""
    if figures is None:
        figures = report_figures(report, growth)
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8").strip()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        v=_view(report, figures),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        script=script,
        csp=csp,
    )
