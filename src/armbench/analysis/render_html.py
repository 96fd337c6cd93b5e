"""The HTML view of a report: ONE self-contained file that can be mailed, archived or opened
from a CI artifact years later. CSS, SVG figures and a small script for sortable tables are
inline; nothing is loaded from anywhere, and a Content-Security-Policy (`default-src 'none'`,
the script allowed by its hash) makes the browser refuse any load a future edit might add.

The work of deciding what each table cell says happens here, in Python, where it is typed and
tested; the template (templates/report.html.j2) only lays the prepared tables out. Every number
is formatted by armbench.analysis.render_md's formatters, so both views print it alike; a
missing number is "—" with the reason in its tooltip.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from armbench.analysis.figures import Chart, Figures, arm_colors, report_figures
from armbench.analysis.render_md import (
    NO_INTERVAL,
    NONE,
    SIGNIFICANCE,
    SIMULATED_BANNER,
    count,
    metric_value,
    money,
    money_interval,
    number,
    ordered_cells,
    percent,
    pvalue,
    rate_interval,
    seconds,
)
from armbench.analysis.report_model import Cell, Comparison, Report
from armbench.core import ROLES

TEMPLATES = Path(__file__).parent / "templates"
METRIC_ORDER = ("success", "cost_usd", "wall_s", "iterations")
METRIC_LABELS = {
    "success": "success",
    "cost_usd": "cost",
    "wall_s": "wall time",
    "iterations": "iterations",
}
OPEN_COMPARISONS_MAX = 40
"""A task's comparisons table starts expanded when it has at most this many rows."""


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


def _num(x: float | None, text: str | None = None, **kw: Any) -> Value:
    if x is None:
        return Value(text or NONE, "", **kw)
    return Value(text if text is not None else number(x), repr(float(x)), **kw)


def _text(text: str, **kw: Any) -> Value:
    return Value(text, text, numeric=False, **kw)


def _missing(why: str | None) -> Value:
    return Value(NONE, "", title=why)


def _cell_row(cell: Cell, color: str | None) -> Row:
    unmeasured = (
        f"leaves out the cost of {', '.join(cell.unmeasured_roles)}, whose tokens were never "
        "recorded"
        if cell.unmeasured_roles
        else None
    )
    star = "*" if unmeasured else ""
    note = cell.interval_note or "no interval"
    infra = ", ".join(f"{k}: {v}" for k, v in sorted(cell.infra_classes.items())) or None

    def median(
        name: str,
        fmt: Callable[[float], str],
        interval: Callable[[tuple[float, float]], str],
    ) -> Value:
        x = getattr(cell.success_median, name)
        ci = getattr(cell.success_median_ci, name)
        if x is None:
            return _missing("no passing trial")
        text = fmt(x) + (star if name == "cost_usd" else "")
        title = unmeasured if name == "cost_usd" else None
        if ci is None:
            return _num(x, text, title=title, detail=NO_INTERVAL, detail_title=note)
        return _num(x, text, title=title, detail=interval(ci))

    def seconds_interval(ci: tuple[float, float]) -> str:
        return f"[{seconds(ci[0])}–{seconds(ci[1])}]"

    def count_interval(ci: tuple[float, float]) -> str:
        return f"[{count(ci[0])}–{count(ci[1])}]"

    ecps = cell.expected_cost_per_success
    ecps_ci = cell.expected_cost_per_success_ci
    if ecps is None:
        expected = _missing("nothing passed: a success has no finite expected cost")
    else:
        unbounded = ecps_ci is not None and ecps_ci[1] is None
        expected = _num(
            ecps,
            money(ecps) + star,
            title=unmeasured,
            detail=money_interval(ecps_ci) if ecps_ci is not None else NO_INTERVAL,
            detail_title=(
                "upper end unbounded: too many resamples had no pass"
                if unbounded
                else (note if ecps_ci is None else None)
            ),
        )
    if cell.delegation_tax_usd is None:
        tax = _missing("not an orchestrated arm" if cell.arm_kind != "orchestrated" else None)
    else:
        tax = _num(
            cell.delegation_tax_usd,
            money(cell.delegation_tax_usd),
            detail="estimate" if cell.delegation_tax_estimated else None,
            detail_title="estimated, not measured" if cell.delegation_tax_estimated else None,
        )
    if cell.cloud_fraction_calls is None:
        cloud = _missing("not a routed arm" if cell.arm_kind != "routed" else None)
    else:
        cloud = _num(
            cell.cloud_fraction_calls,
            percent(cell.cloud_fraction_calls),
            detail=f"{percent(cell.cloud_fraction_tokens)} of tokens",
        )
    return Row(
        [
            _text(cell.arm, swatch=color),
            _text(cell.arm_kind),
            _text(cell.task),
            _num(cell.n, str(cell.n)),
            _num(cell.n_pass, str(cell.n_pass)),
            _num(cell.n_fail, str(cell.n_fail)),
            _num(cell.n_limit, str(cell.n_limit)),
            _num(cell.n_infra, str(cell.n_infra), title=infra),
            (
                _num(
                    cell.pass_rate,
                    percent(cell.pass_rate),
                    detail=rate_interval(cell.pass_rate_ci),
                )
                if cell.pass_rate is not None
                else _missing("every trial was an infra error")
            ),
            _num(cell.pass_rate_itt, percent(cell.pass_rate_itt)),
            expected,
            median("cost_usd", money, money_interval),
            median("wall_s", seconds, seconds_interval),
            median("iterations", count, count_interval),
            tax,
            cloud,
        ]
    )


CELL_COLUMNS = [
    Column("arm"),
    Column("kind"),
    Column("task"),
    Column("n", "trials"),
    Column("pass"),
    Column("fail", "the work failed the judge"),
    Column("limit", "hit an iteration, time or cost cap"),
    Column("infra", "infra errors: provider, sandbox or harness failures, excluded from rates"),
    Column("pass rate", "passes over judged trials, with its Wilson 95% interval"),
    Column("ITT", "intent to treat: passes over all trials, infra errors counted as misses"),
    Column(
        "E[cost/success]",
        "every judged attempt's cost over the passes: what one success costs when failures "
        "are paid for and retried",
    ),
    Column("median cost", "median over passing trials, with a bootstrap 95% interval"),
    Column("median wall", "median over passing trials, with a bootstrap 95% interval"),
    Column("median iters", "median iterations over passing trials"),
    Column("tax / trial", "delegation tax: orchestrated arms only"),
    Column("cloud", "share of calls sent to the cloud model: routed arms only"),
]


def _cells_table(report: Report, colors: Mapping[str, str]) -> Table:
    rows = [_cell_row(c, colors.get(c.arm)) for c in ordered_cells(report.cells)]
    return Table("cells-table", CELL_COLUMNS, rows)


def _decisions_table(report: Report, colors: Mapping[str, str]) -> Table:
    arms = sorted({c.arm for c in report.cells})
    by_cell = {(c.task, c.arm): c for c in report.cells}
    columns = [
        Column("task"),
        Column("choose", "the cheapest arm whose pass-rate interval reaches the best pass rate"),
        Column("E[cost/success]"),
        Column("pass rate"),
        Column("best", "the best pass rate of any arm on this task"),
        *(Column(a, "E[cost/success] and pass rate of this arm") for a in arms),
        Column("why"),
    ]
    rows = []
    for d in report.decisions:
        values = [
            _text(d.task),
            (
                _text(d.arm, swatch=colors.get(d.arm), css="pick", title=d.reason)
                if d.arm
                else _missing(d.reason)
            ),
            _num(d.expected_cost_per_success, money(d.expected_cost_per_success)),
            _num(d.pass_rate, percent(d.pass_rate)),
            _num(d.best_pass_rate, percent(d.best_pass_rate)),
        ]
        for arm in arms:
            cell = by_cell.get((d.task, arm))
            if cell is None:
                values.append(_missing("this arm did not run this task"))
                continue
            css = "pick" if arm == d.arm else ("candidate" if arm in d.candidates else "")
            ecps = cell.expected_cost_per_success
            values.append(
                _num(
                    ecps,
                    money(ecps),
                    detail=percent(cell.pass_rate),
                    title="candidate: its pass-rate interval reaches the best"
                    if css == "candidate"
                    else ("chosen" if css == "pick" else None),
                    css=css,
                )
            )
        values.append(_text(d.reason, css="reason"))
        rows.append(Row(values))
    return Table("decisions-table", columns, rows)


def _p_exact(c: Comparison) -> Value:
    if c.p_exact is None:
        return _missing("the sample sizes allow only the normal approximation")
    return _num(c.p_exact, pvalue(c.p_exact), detail=c.p_exact_method)


def _comparison_row(c: Comparison, colors: Mapping[str, str]) -> Row:
    paired = c.paired
    if paired is None:
        paired_value = _missing("no replicates share a seed across the two arms")
    elif paired.p is None:
        paired_value = Value(
            NONE,
            "",
            detail=f"n={paired.n_pairs}",
            title=f"{paired.method}: no difference between pairs to test",
        )
    else:
        paired_value = _num(
            paired.p, pvalue(paired.p), detail=f"{paired.method}, n={paired.n_pairs}"
        )
    holm_title = f"p_holm < {SIGNIFICANCE}" if c.p_holm is not None else None
    sig = c.p_holm is not None and c.p_holm < SIGNIFICANCE
    return Row(
        [
            _text(METRIC_LABELS[c.metric]),
            _text(c.a, swatch=colors.get(c.a)),
            _text(c.b, swatch=colors.get(c.b)),
            _num(c.n_a, str(c.n_a)),
            _num(c.n_b, str(c.n_b)),
            _num(c.median_a, metric_value(c.metric, c.median_a)),
            _num(c.median_b, metric_value(c.metric, c.median_b)),
            _num(c.u, count(c.u)),
            _p_exact(c),
            _num(c.p_asymptotic, pvalue(c.p_asymptotic)),
            _num(c.p_holm, pvalue(c.p_holm), title=holm_title if sig else None),
            _num(c.cliffs_delta, f"{c.cliffs_delta:+.2f}"),
            paired_value,
        ],
        css="significant" if sig else "",
    )


COMPARISON_COLUMNS = [
    Column("metric", "cost, wall time and iterations over passing trials; success over judged"),
    Column("a"),
    Column("b"),
    Column("n a"),
    Column("n b"),
    Column("median a"),
    Column("median b"),
    Column("U", "Mann-Whitney U of a"),
    Column("p exact", "exact (no ties) or exact permutation (ties) Mann-Whitney p"),
    Column("p asympt.", "normal approximation, tie- and continuity-corrected"),
    Column("p Holm", "Holm-adjusted within this task and metric"),
    Column("Cliff's δ", "positive when a's values tend to be larger"),
    Column("paired p", "same-seed replicates: Wilcoxon signed-rank or exact McNemar"),
]


def _comparison_groups(report: Report, colors: Mapping[str, str]) -> list[ComparisonGroup]:
    groups = []
    for task in sorted({c.task for c in report.comparisons}):
        mine = sorted(
            (c for c in report.comparisons if c.task == task),
            key=lambda c: (
                METRIC_ORDER.index(c.metric),
                c.p_holm is None,
                c.p_holm or 0.0,
                c.a,
                c.b,
            ),
        )
        rows = [_comparison_row(c, colors) for c in mine]
        table = Table(f"comparisons-{_slug(task)}", COMPARISON_COLUMNS, rows)
        significant = sum(r.css == "significant" for r in rows)
        groups.append(ComparisonGroup(task, table, significant, len(rows) <= OPEN_COMPARISONS_MAX))
    return groups


def _roles(roles: Iterable[str]) -> list[str]:
    found = set(roles)
    return [r for r in ROLES if r in found] + sorted(found - set(ROLES))


def _arms_table(report: Report, colors: Mapping[str, str]) -> Table:
    roles = _roles(r for a in report.arms for r in a.mean_cost_by_role)
    columns = [
        Column("arm"),
        Column("kind"),
        Column("trials"),
        *(Column(r, f"mean $ per judged attempt spent by the {r}") for r in roles),
        Column("total", "mean $ per judged attempt, all roles"),
        Column("tax / trial", "delegation tax: orchestrated arms only"),
        Column("cloud calls", "share of calls sent to the cloud model: routed arms only"),
        Column("cloud tokens", "share of tokens sent to the cloud model: routed arms only"),
    ]
    rows = []
    for a in report.arms:
        total = sum(a.mean_cost_by_role.values()) if a.mean_cost_by_role else None
        tax = (
            _num(
                a.delegation_tax_usd,
                money(a.delegation_tax_usd),
                detail="estimate" if a.delegation_tax_estimated else None,
            )
            if a.delegation_tax_usd is not None
            else _missing("not an orchestrated arm" if a.arm_kind != "orchestrated" else None)
        )
        rows.append(
            Row(
                [
                    _text(a.arm, swatch=colors.get(a.arm)),
                    _text(a.arm_kind),
                    _num(a.trials, str(a.trials)),
                    *(
                        _num(a.mean_cost_by_role[r], money(a.mean_cost_by_role[r]))
                        if r in a.mean_cost_by_role
                        else _missing(f"no {r} in this arm")
                        for r in roles
                    ),
                    _num(total, money(total)),
                    tax,
                    _num(a.cloud_fraction_calls, percent(a.cloud_fraction_calls)),
                    _num(a.cloud_fraction_tokens, percent(a.cloud_fraction_tokens)),
                ]
            )
        )
    return Table("arms-table", columns, rows)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)


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
                f"{report.confidence:.0%}; bootstrap {report.bootstrap_resamples} resamples, "
                f"seed {report.bootstrap_seed}",
            ),
            ("frontier", f"dominated with ≥ {report.dominance_support:.0%} bootstrap support"),
        ],
        statuses=statuses,
        infra=sorted(report.infra_classes.items(), key=lambda kv: (-kv[1], kv[0])),
        cells=_cells_table(report, colors),
        decisions=_decisions_table(report, colors),
        comparisons=_comparison_groups(report, colors),
        arms=_arms_table(report, colors),
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
