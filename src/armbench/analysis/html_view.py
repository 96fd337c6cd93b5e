"""The view model of the HTML report: what the template (templates/report.html.j2) lays out,
already decided and formatted — tables of displayed values, comparison and figure groups, and
the `View` that holds them all. Built by armbench.analysis.html_tables and
armbench.analysis.render_html.
"""

from __future__ import annotations

from dataclasses import dataclass

from armbench.analysis.figures import Chart
from armbench.analysis.render_md import SIMULATED_BANNER
from armbench.analysis.report_model import Report
from armbench.analysis.stats import SIGNIFICANCE


@dataclass(frozen=True)
class Value:
    """One table cell as displayed: its text, the key it sorts by, and why it is missing."""

    text: str
    sort: str = ""
    """What the sortable table orders by: a number as text; "" (missing) always sorts last."""
    title: str | None = None
    detail: str | None = None
    """A smaller second part, usually the 95% interval."""
    detail_title: str | None = None
    numeric: bool = True
    swatch: str | None = None
    """The arm's colour in the figures."""
    css: str = ""


@dataclass(frozen=True)
class Column:
    label: str
    title: str | None = None


@dataclass(frozen=True)
class Row:
    values: list[Value]
    css: str = ""


@dataclass(frozen=True)
class Table:
    id: str
    columns: list[Column]
    rows: list[Row]
    caption: str | None = None


@dataclass(frozen=True)
class ComparisonGroup:
    task: str
    table: Table
    significant: int
    open: bool


@dataclass(frozen=True)
class FigureGroup:
    heading: str
    charts: list[Chart]


@dataclass
class View:
    """Everything the template shows, prepared."""

    report: Report
    title: str
    imported: list[tuple[str, str]] | None
    imported_notes: list[str]
    notes: list[str]
    meta: list[tuple[str, str]]
    statuses: list[tuple[str, int, str]]
    infra: list[tuple[str, int]]
    cells: Table
    decisions: Table
    comparisons: list[ComparisonGroup]
    arms: Table
    figures: list[FigureGroup]
    omitted_tasks: list[str]
    significance: float = SIGNIFICANCE
    simulated_banner: str = SIMULATED_BANNER
