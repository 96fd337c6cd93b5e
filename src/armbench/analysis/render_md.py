"""The Markdown view of a report, for pull requests: short enough to read in a comment, honest
enough to act on — the banner, the cells, the decisions and only the comparisons that survive
Holm's adjustment. No figures (a PR comment cannot hold them).

The plain-text formatters here (money, p-values, rates, intervals) are the HTML view's too, so
both views print the same number the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from armbench.analysis.report_model import Cell, Comparison, Report, Unjudged
from armbench.analysis.stats import SIGNIFICANCE

NONE = "—"
"""How a missing number is shown: never as 0, never as a blank that reads like one."""
SIMULATED_BANNER = "SIMULATED — these numbers do not measure real models"


def money(x: float | None) -> str:
    """Dollars with the precision a reader needs: cents from $1 up, three significant digits
    below (a single-shot trial costs fractions of a cent, and $0.00 would hide it)."""
    if x is None or math.isnan(x):
        return NONE
    if x == 0:
        return "$0"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 1000:
        return f"{sign}${a:,.0f}"
    if a >= 1:
        return f"{sign}${a:,.2f}"
    digits = 2 - math.floor(math.log10(a))
    return f"{sign}${a:.{digits}f}"


def pvalue(p: float | None) -> str:
    """Three significant digits; scientific below 0.0001 so tiny values stay short."""
    if p is None or math.isnan(p):
        return NONE
    if p != 0 and p < 1e-4:
        return f"{p:.2e}"
    return f"{p:#.3g}"


def percent(x: float | None, digits: int = 0) -> str:
    if x is None or math.isnan(x):
        return NONE
    return f"{x * 100:.{digits}f}%"


def number(x: float | None, digits: int = 3) -> str:
    """A plain quantity (tokens, iterations, U) to `digits` significant digits, with thousands
    separators instead of exponents."""
    if x is None or math.isnan(x):
        return NONE
    if x == 0:
        return "0"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    places = digits - 1 - math.floor(math.log10(abs(x)))
    return f"{x:,.{max(places, 0)}f}"


def count(x: float | None) -> str:
    """A count or a median of counts (iterations, Mann-Whitney U): "12", "12.5", never
    "12.0"."""
    if x is None or math.isnan(x):
        return NONE
    return f"{x:,.1f}".removesuffix(".0")


def seconds(x: float | None) -> str:
    if x is None or math.isnan(x):
        return NONE
    if round(x) >= 120:
        return f"{x / 60:.1f} min"
    return f"{number(x)} s"


def metric_value(metric: str, x: float | None) -> str:
    """A comparison's median in its metric's unit."""
    if metric in ("cost_usd", "attempt_cost"):
        return money(x)
    if metric == "wall_s":
        return seconds(x)
    if metric == "success":
        return percent(x)
    return count(x)


def rate_interval(ci: tuple[float, float] | None) -> str:
    """A Wilson interval as `[21–94%]`."""
    if ci is None:
        return NO_INTERVAL
    return f"[{ci[0] * 100:.0f}–{ci[1] * 100:.0f}%]"


NO_INTERVAL = f"[{NONE}]"
"""Where an interval would be, had the data supported one."""


def money_interval(ci: Sequence[float | None] | None) -> str:
    """A dollar interval; an upper end of None is unbounded (no pass: only a lower bound)."""
    if ci is None:
        return NO_INTERVAL
    low, high = ci[0], ci[1]
    return f"[{money(low)}–{money(high) if high is not None else '∞'}]"


def ordered_cells(cells: Iterable[Cell]) -> list[Cell]:
    """Task by task, cheapest expected success first; cells where nothing passed go last."""
    return sorted(
        cells,
        key=lambda c: (
            c.task,
            c.expected_cost_per_success is None,
            c.expected_cost_per_success or 0.0,
            c.arm,
        ),
    )


def significant(comparisons: Iterable[Comparison]) -> list[Comparison]:
    return [c for c in comparisons if c.p_holm is not None and c.p_holm < SIGNIFICANCE]


def banner_lines(report: Report) -> list[str]:
    """What a reader must see before any number: simulated models, imported data."""
    lines = []
    if report.simulated:
        lines.append(f"> **{SIMULATED_BANNER}.**")
    if report.imported:
        source = report.imported.get("source", "unknown source")
        importer = report.imported.get("importer")
        via = f" by `{importer}`" if importer else ""
        lines.append(f"> **IMPORTED** from `{source}`{via}: armbench did not run these trials.")
    return lines


def _cell_text(text: object) -> str:
    """Table-safe: a pipe or newline inside a value would break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str) -> list[str]:
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    out += ["| " + " | ".join(_cell_text(v) for v in row) + " |" for row in rows]
    return out


def _with_interval(value: float | None, text: str, interval: str) -> str:
    return text if value is None else f"{text} {interval}"


def _cells(report: Report) -> list[str]:
    cells = ordered_cells(report.cells)
    rows = [
        (
            f"`{c.arm}`",
            c.task,
            c.n,
            f"{c.n_pass}/{c.n_fail}/{c.n_limit}/{c.n_infra}",
            _with_interval(c.pass_rate, percent(c.pass_rate), rate_interval(c.pass_rate_ci)),
            percent(c.pass_rate_itt),
            _with_interval(
                c.success_median.cost_usd,
                money(c.success_median.cost_usd),
                money_interval(c.success_median_ci.cost_usd),
            )
            + ("\\*" if c.unmeasured_roles else ""),
            money(c.expected_cost_per_success),
        )
        for c in cells
    ]
    header = (
        "arm",
        "task",
        "n",
        "pass/fail/limit/infra",
        "pass rate [95% CI]",
        "ITT",
        "median cost [CI]",
        "E[cost/success]",
    )
    lines = _table(header, rows, "llrrrrrr")
    lines += [
        "",
        "Pass rate: passes over judged trials (infra errors left out); ITT: over all trials.",
    ]
    if any(c.unmeasured_roles for c in cells):
        lines.append("\\* leaves out a role whose tokens were never recorded: its cost is unknown.")
    missing = [c for c in cells if c.success_median.cost_usd is not None and c.interval_note]
    if missing:
        from armbench.analysis.stats import MIN_N_FOR_INTERVAL  # here: stats imports scipy

        lines += [
            "",
            f"{NO_INTERVAL}: fewer than {MIN_N_FOR_INTERVAL} passes, and at that size no "
            "distribution-free 95% interval for a median exists.",
        ]
    return lines


def _decisions(report: Report) -> list[str]:
    rows = [
        (
            d.task,
            f"**`{d.arm}`**" if d.arm else NONE,
            money(d.expected_cost_per_success),
            percent(d.pass_rate),
            f"`{d.best_arm}` {percent(d.best_pass_rate)}" if d.best_arm else NONE,
            ", ".join(f"`{a}`" for a in d.candidates) or NONE,
            d.reason,
        )
        for d in report.decisions
    ]
    header = ("task", "choose", "E[cost/success]", "pass rate", "best", "candidates", "why")
    return _table(header, rows, "llrrrll")


def _comparisons(report: Report) -> list[str]:
    found = significant(report.comparisons)
    per_success = _cost_per_success(report)
    tested = sum(c.testable for c in report.comparisons)
    described = len(report.comparisons) - tested
    small = (
        f" {described} more are described, not tested: their sizes cannot reach p < "
        f"{SIGNIFICANCE} whatever the data."
        if described
        else ""
    )
    if not found:
        return [
            f"No comparison is significant after Holm's adjustment (p_holm < {SIGNIFICANCE}; "
            f"{tested} tested).{small}",
            *per_success,
        ]
    rows = [
        (
            c.task,
            c.metric,
            f"`{c.a}` vs `{c.b}`",
            f"{metric_value(c.metric, c.median_a)} vs {metric_value(c.metric, c.median_b)}",
            pvalue(c.p_holm),
            f"{c.cliffs_delta:+.2f}",
        )
        for c in sorted(found, key=lambda c: (c.task, c.metric, c.p_holm or 0.0))
    ]
    header = ("task", "metric", "arms", "medians", "p_holm", "Cliff's δ")
    return [
        f"{len(found)} of {tested} tested comparisons have p_holm < {SIGNIFICANCE}:{small}",
        "",
        *_table(header, rows, "lllrrr"),
        *per_success,
    ]


def _cost_per_success(report: Report) -> list[str]:
    """The significant cost-per-success tests, one line each."""
    found = [
        t for t in report.cost_per_success_tests if t.p_holm is not None and t.p_holm < SIGNIFICANCE
    ]
    lines = [
        "",
        f"Expected cost per success: {len(found)} of "
        f"{sum(t.testable for t in report.cost_per_success_tests)} tested pairs differ "
        f"(permutation test, Holm per task)" + (":" if found else "."),
    ]
    lines += [
        f"- {t.task}: `{t.a}` {money(t.expected_cost_per_success_a)} vs `{t.b}` "
        f"{money(t.expected_cost_per_success_b)}, p_holm {pvalue(t.p_holm)}"
        for t in found
    ]
    return lines


def _frontier_notes(report: Report) -> list[str]:
    """Why each arm that needs it is on or off a frontier (ranked arms with nothing to say,
    and arms not ranked for want of trials, are left out)."""
    axes = {"cost_wall": "cost × wall", "cost_success": "cost × success"}
    found = [
        f"- {p.task}, {axes[p.axes]}: `{p.arm}` {p.note}"
        for p in report.pareto
        if p.note and p.dominated_by
    ]
    return found or ["No arm's point is beaten by another's on both axes in most resamples."]


def _infra(report: Report) -> list[str]:
    rows = [
        (
            f"`{a.arm}`",
            f"{a.n_infra}/{a.trials}",
            f"{percent(a.infra_rate)} {rate_interval(a.infra_rate_ci)}",
            money(a.spent_usd),
            money(a.spent_judged_usd),
        )
        for a in report.arms
    ]
    header = ("arm", "infra errors", "rate [95%]", "spent", "spent, judged trials")
    tested = (
        []
        if report.infra_rates_p is None
        else [
            "",
            f"Do the arms' infra-error rates differ? p = {report.infra_rates_p:.3g} "
            "(permutation test of the chi-square statistic).",
        ]
    )
    return _table(header, rows, "lrrrr") + tested


def _groups(report: Report) -> list[str]:
    rows = [
        (
            g.group,
            f"`{g.arm}`",
            str(g.tasks),
            f"{g.n_pass}/{g.n_judged}",
            f"{percent(g.pass_rate)} {rate_interval(g.pass_rate_ci)}",
            money(g.median_cost_usd),
            money(g.spent_usd),
        )
        for g in report.groups
    ]
    header = (
        str(report.group_by),
        "arm",
        "tasks",
        "passes",
        "pass rate [95%]",
        "median cost",
        "spent",
    )
    return [
        *_table(header, rows, "llrrrrr"),
        "",
        "Pass rates are pooled over the group's judged trials, with tasks as clusters; median "
        "cost is over every judged trial, failed ones included.",
    ]


def _unjudged(unjudged: Unjudged) -> list[str]:
    lines = [
        f"{unjudged.rows} row(s) had no executed verdict and are in no cell above; they cost "
        f"{money(unjudged.cost_usd)}."
    ]
    for title, part in (("arm", unjudged.by_arm), ("group", unjudged.by_group)):
        if part:
            listed = ", ".join(
                f"`{name}` {t.rows} ({money(t.cost_usd)})" for name, t in part.items()
            )
            lines.append(f"By {title}: {listed}.")
    return lines


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    lines = [f"## armbench report: {report.name}", ""]
    banner = banner_lines(report)
    if banner:
        lines += [*banner, ""]
    lines.append(
        f"Run `{report.run_id}` · {report.trials} trials · rate card: {report.rate_card_source} · "
        f"{report.confidence:.0%} intervals"
    )
    lines.append("")
    if report.notes:
        lines += [f"- {n}" for n in report.notes] + [""]
    lines += ["### Cells", "", *_cells(report), ""]
    lines += ["### Decisions", "", *_decisions(report), ""]
    lines += ["### Pareto frontiers", "", *_frontier_notes(report), ""]
    if any(a.n_infra for a in report.arms):
        lines += ["### Infra errors and spend", "", *_infra(report), ""]
    if report.groups:
        lines += [f"### By {report.group_by}", "", *_groups(report), ""]
    if report.unjudged:
        lines += ["### Rows the import could not judge", "", *_unjudged(report.unjudged), ""]
    lines += ["### Significant comparisons", "", *_comparisons(report), ""]
    return "\n".join(lines)
