"""The terminal view of a report: the cells, the decision per task, what is significant."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from armbench.analysis.report_model import Interval, Report


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.3f}" if value >= 0.01 or value == 0 else f"${value:.2g}"


def _money_ci(ci: tuple[float, float | None] | None) -> str:
    if ci is None:
        return ""
    return f" [{money(ci[0])}, {'∞' if ci[1] is None else money(ci[1])}]"


def _rate_ci(rate: float | None, ci: Interval | None) -> str:
    if rate is None:
        return "—"
    return f"{rate:.0%}" + ("" if ci is None else f" [{ci[0]:.0%}, {ci[1]:.0%}]")


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
            f"{c.pass_rate_itt:.0%}" if c.pass_rate_itt is not None else "—",
            money(cost)
            + _money_ci(c.success_median_ci.cost_usd)
            + ("*" if c.unmeasured_roles else ""),
            money(c.expected_cost_per_success) + _money_ci(c.expected_cost_per_success_ci),
            "" if c.delegation_tax_usd is None else money(c.delegation_tax_usd),
            "" if c.cloud_fraction_calls is None else f"{c.cloud_fraction_calls:.0%}",
        )
    out.print(table)
    decisions = Table("task", "pick", "E[$/pass]", "why", box=box.SIMPLE_HEAD, pad_edge=False)
    for d in report.decisions:
        decisions.add_row(d.task, d.arm or "—", money(d.expected_cost_per_success), d.reason)
    out.print(decisions)
    alpha = 1 - report.confidence
    significant = [s for s in report.comparisons if s.p_holm is not None and s.p_holm < alpha]
    out.print(
        f"{len(report.comparisons)} comparisons (Mann-Whitney, Holm-adjusted per task and "
        f"metric); {len(significant)} significant at {1 - report.confidence:.2f}"
        + (":" if significant else "."),
        highlight=False,
    )
    for s in significant:
        out.print(
            f"  {s.task} {s.metric}: {s.a} vs {s.b}  p_holm={s.p_holm:.3g}  "
            f"Cliff's δ={s.cliffs_delta:+.2f}",
            highlight=False,
        )
    for note in report.notes:
        out.print(f"note: {note}", style="dim", highlight=False)
    out.print(f"costs priced with {report.rate_card_source}", style="dim", highlight=False)
