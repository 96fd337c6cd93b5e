"""The terminal view of a report: the cells, the decision per task, what is significant."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from armbench.analysis.render_md import (
    NONE,
    money,
    money_interval,
    percent,
    rate_interval,
    significant,
)
from armbench.analysis.report_model import Interval, Report


def _rate_ci(rate: float | None, ci: Interval | None) -> str:
    return NONE if rate is None else f"{percent(rate)} {rate_interval(ci)}"


def _with_ci(text: str, ci: tuple[float, float | None] | None) -> str:
    """A value and its interval; no interval at all where none could be stated."""
    return text if ci is None else f"{text} {money_interval(ci)}"


def print_report(report: Report, out: Console) -> None:
    if report.simulated:
        out.print(
            "[bold yellow]SIMULATED[/] — the models in this run are simulated: "
            "its numbers do not measure real models."
        )
    if report.imported:
        out.print(f"[bold cyan]IMPORTED[/] from {report.imported.get('source')}", highlight=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"{report.run_id}: {report.trials} trials",
        title_justify="left",
        caption="rate: passes / judged trials, Wilson 95% CI · ITT: passes / all trials · "
        "cost: median over passes, bootstrap 95% CI (none when too few passes; * leaves out a "
        "role whose tokens were never recorded) · E[$/pass]: every judged attempt's cost / passes",
        caption_justify="left",
    )
    table.add_column("task", overflow="fold")
    table.add_column("arm", overflow="fold")
    for column in ("n", "pass", "fail", "limit", "infra"):
        table.add_column(column, justify="right", no_wrap=True)
    for column in ("rate", "ITT", "cost", "E[$/pass]", "tax", "cloud"):
        table.add_column(column, justify="right", no_wrap=True)
    for c in sorted(
        report.cells, key=lambda c: (c.task, c.expected_cost_per_success or float("inf"))
    ):
        cost = c.success_median.cost_usd
        table.add_row(
            c.task,
            c.arm,
            str(c.n),
            str(c.n_pass),
            str(c.n_fail),
            str(c.n_limit),
            str(c.n_infra),
            _rate_ci(c.pass_rate, c.pass_rate_ci),
            percent(c.pass_rate_itt),
            _with_ci(money(cost), c.success_median_ci.cost_usd)
            + ("*" if c.unmeasured_roles else ""),
            _with_ci(money(c.expected_cost_per_success), c.expected_cost_per_success_ci)
            + ("*" if c.unmeasured_roles else ""),
            "" if c.delegation_tax_usd is None else money(c.delegation_tax_usd),
            "" if c.cloud_fraction_calls is None else percent(c.cloud_fraction_calls),
        )
    out.print(table)
    decisions = Table("task", "pick", "E[$/pass]", "why", box=box.SIMPLE_HEAD, pad_edge=False)
    for d in report.decisions:
        decisions.add_row(d.task, d.arm or NONE, money(d.expected_cost_per_success), d.reason)
    out.print(decisions)
    found = significant(report.comparisons)
    out.print(
        f"{len(report.comparisons)} comparisons (Mann-Whitney, Holm-adjusted per task and "
        f"metric); {len(found)} significant at {1 - report.confidence:.2f}"
        + (":" if found else "."),
        highlight=False,
    )
    for s in found:
        out.print(
            f"  {s.task} {s.metric}: {s.a} vs {s.b}  p_holm={s.p_holm:.3g}  "
            f"Cliff's δ={s.cliffs_delta:+.2f}",
            highlight=False,
        )
    for note in report.notes:
        out.print(f"note: {note}", style="dim", highlight=False)
    out.print(f"costs priced with {report.rate_card_source}", style="dim", highlight=False)
