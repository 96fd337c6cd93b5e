"""The tables of the HTML report, built from a report: what each cell says, how it sorts and
why a number is missing (cells, decisions, comparisons per task, spend per arm). Every number
is formatted by armbench.analysis.render_md's formatters, so both views print it alike; a
missing number is "—" with the reason in its tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from armbench.analysis.html_view import Column, ComparisonGroup, Row, Table, Value
from armbench.analysis.render_md import (
    NO_INTERVAL,
    NONE,
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
from armbench.analysis.stats import SIGNIFICANCE
from armbench.core import ROLES

METRIC_ORDER = ("success", "attempt_cost", "cost_usd", "wall_s", "iterations")
METRIC_LABELS = {
    "success": "success",
    "attempt_cost": "cost per attempt",
    "cost_usd": "cost of passes",
    "wall_s": "wall time",
    "iterations": "iterations",
}
OPEN_COMPARISONS_MAX = 40
"""A task's comparisons table starts expanded when it has at most this many rows."""


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
    if ecps is None and ecps_ci is not None:
        expected = _num(
            None,
            NONE,
            detail=f"≥ {money(ecps_ci[0])}",
            detail_title="nothing passed: no estimate, but a success costs at least this (95%)",
        )
    elif ecps is None:
        expected = _missing("nothing passed: a success has no finite expected cost")
    else:
        expected = _num(
            ecps,
            money(ecps) + star,
            title=unmeasured,
            detail=money_interval(ecps_ci) if ecps_ci is not None else NO_INTERVAL,
            detail_title=note if ecps_ci is None else None,
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
    if cell.cloud_fraction_tokens is None:
        cloud = _missing("not a routed arm" if cell.arm_kind != "routed" else None)
    else:
        cloud = _num(
            cell.cloud_fraction_tokens,
            percent(cell.cloud_fraction_tokens),
            detail=f"{percent(cell.cloud_fraction_calls)} of calls",
            title="share of served tokens the cloud model served, pooled over judged trials",
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
    Column("median cost", "median over passing trials, with its exact 95% interval"),
    Column("median wall", "median over passing trials, with its exact 95% interval"),
    Column("median iters", "median iterations over passing trials"),
    Column("tax / trial", "delegation tax: orchestrated arms only"),
    Column(
        "cloud",
        "share of served tokens the cloud model served, pooled over judged trials (routed arms "
        "only); below it, the mean share of calls",
    ),
]


def cells_table(report: Report, colors: Mapping[str, str]) -> Table:
    rows = [_cell_row(c, colors.get(c.arm)) for c in ordered_cells(report.cells)]
    return Table("cells-table", CELL_COLUMNS, rows)


def decisions_table(report: Report, colors: Mapping[str, str]) -> Table:
    arms = sorted({c.arm for c in report.cells})
    by_cell = {(c.task, c.arm): c for c in report.cells}
    columns = [
        Column("task"),
        Column(
            "choose",
            "the cheapest per success of the best arm and the arms shown within the margin of it",
        ),
        Column("E[cost/success]"),
        Column("pass rate"),
        Column("best", "the arm with the best pass rate on this task, and that rate"),
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
            _num(d.best_pass_rate, percent(d.best_pass_rate), detail=d.best_arm),
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
                    title="candidate: shown within the margin of the best arm's pass rate"
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


def comparison_groups(report: Report, colors: Mapping[str, str]) -> list[ComparisonGroup]:
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


def arms_table(report: Report, colors: Mapping[str, str]) -> Table:
    roles = _roles(r for a in report.arms for r in a.mean_cost_by_role)
    columns = [
        Column("arm"),
        Column("kind"),
        Column("trials"),
        Column("spent", "every trial's calls, infra errors included; below: judged trials only"),
        Column("infra", "share of the arm's trials that ended in an infra error, Wilson 95%"),
        *(Column(r, f"mean $ per judged attempt spent by the {r}") for r in roles),
        Column("total", "mean $ per judged attempt, all roles"),
        Column("tax / trial", "delegation tax: orchestrated arms only"),
        Column("cloud calls", "mean share per trial of calls sent to the cloud model"),
        Column(
            "cloud tokens",
            "the cloud fraction: share of served tokens the cloud model served, pooled over "
            "judged trials, with a task-clustered 95% interval",
        ),
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
                    _num(a.spent_usd, money(a.spent_usd), detail=money(a.spent_judged_usd)),
                    _num(
                        a.infra_rate, percent(a.infra_rate), detail=rate_interval(a.infra_rate_ci)
                    ),
                    *(
                        _num(a.mean_cost_by_role[r], money(a.mean_cost_by_role[r]))
                        if r in a.mean_cost_by_role
                        else _missing(f"no {r} in this arm")
                        for r in roles
                    ),
                    _num(total, money(total)),
                    tax,
                    _num(a.cloud_fraction_calls, percent(a.cloud_fraction_calls)),
                    _num(
                        a.cloud_fraction_tokens,
                        percent(a.cloud_fraction_tokens),
                        detail=rate_interval(a.cloud_fraction_tokens_ci)
                        if a.cloud_fraction_tokens_ci
                        else None,
                    ),
                ]
            )
        )
    return Table("arms-table", columns, rows)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
