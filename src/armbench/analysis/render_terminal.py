"""Terminal views: `show`'s summary of a run, `report`'s cells, decisions and significant
comparisons, a repricing's totals, and the list of packs — rich tables built with the same
formatters as the Markdown and HTML views (armbench.analysis.render_md)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from armbench.analysis.facts import RunFacts
from armbench.analysis.render_md import (
    NONE,
    count,
    money,
    money_interval,
    number,
    percent,
    rate_interval,
    significant,
)
from armbench.analysis.report_model import Interval, Report
from armbench.analysis.stats import SIGNIFICANCE
from armbench.analysis.summary import agent_accounts, contract_table, spend_by_arm, summarize
from armbench.core import ROLES
from armbench.tasks import Pack

SIMULATED_LINE = (
    "[bold yellow]SIMULATED[/] — the models in this run are simulated: "
    "its numbers do not measure real models."
)


def _rate_ci(rate: float | None, ci: Interval | None) -> str:
    return NONE if rate is None else f"{percent(rate)} {rate_interval(ci)}"


def _with_ci(text: str, ci: tuple[float, float | None] | None) -> str:
    """A value and its interval; no interval at all where none could be stated."""
    return text if ci is None else f"{text} {money_interval(ci)}"


def print_report(report: Report, out: Console) -> None:
    if report.simulated:
        out.print(SIMULATED_LINE)
    if report.imported:
        out.print(f"[bold cyan]IMPORTED[/] from {report.imported.get('source')}", highlight=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"{report.run_id}: {report.trials} trials",
        title_justify="left",
        caption="rate: passes / judged trials, Wilson 95% CI · ITT: passes / all trials · "
        "cost: median over passes, exact 95% CI (none below 6 passes; * leaves out a role whose "
        "tokens were never recorded) · E[$/pass]: every judged attempt's cost / passes, 95% CI "
        "(mean cost's t over pass rate's Wilson, Bonferroni) · cloud: share of served tokens "
        "the cloud model served, pooled over judged trials",
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
            "" if c.cloud_fraction_tokens is None else percent(c.cloud_fraction_tokens),
        )
    out.print(table)
    decisions = Table("task", "pick", "E[$/pass]", "why", box=box.SIMPLE_HEAD, pad_edge=False)
    for d in report.decisions:
        decisions.add_row(d.task, d.arm or NONE, money(d.expected_cost_per_success), d.reason)
    out.print(decisions)
    found = significant(report.comparisons)
    tested = sum(c.testable for c in report.comparisons)
    out.print(
        f"{tested} comparisons tested (Mann-Whitney, Holm-adjusted per task and metric; "
        f"{len(report.comparisons) - tested} too small to test); {len(found)} significant at "
        f"{SIGNIFICANCE}" + (":" if found else "."),
        highlight=False,
    )
    for s in found:
        out.print(
            f"  {s.task} {s.metric}: {s.a} vs {s.b}  p_holm={s.p_holm:.3g}  "
            f"Cliff's δ={s.cliffs_delta:+.2f}",
            highlight=False,
        )
    differ = [
        t for t in report.cost_per_success_tests if t.p_holm is not None and t.p_holm < SIGNIFICANCE
    ]
    for t in differ:
        out.print(
            f"  {t.task} cost per success: {t.a} {money(t.expected_cost_per_success_a)} vs "
            f"{t.b} {money(t.expected_cost_per_success_b)}  p_holm={t.p_holm:.3g}",
            highlight=False,
        )
    if any(a.n_infra for a in report.arms):
        rates = ", ".join(
            f"{a.arm} {percent(a.infra_rate)} {rate_interval(a.infra_rate_ci)}" for a in report.arms
        )
        p = report.infra_rates_p
        differ_line = "" if p is None else f"; do they differ? p={p:.3g}"
        out.print(f"infra-error rate per arm: {rates}{differ_line}", highlight=False)
    if report.groups:
        grouped = _titled(
            f"by {report.group_by}: pass rate pooled over the group's tasks, 95% CI with tasks as "
            "clusters · median cost over every judged trial",
        )
        for column in (str(report.group_by), "arm", "tasks", "passes", "rate", "median $", "spent"):
            grouped.add_column(column, justify="left" if column in ("arm",) else "right")
        for g in report.groups:
            grouped.add_row(
                g.group,
                g.arm,
                str(g.tasks),
                f"{g.n_pass}/{g.n_judged}",
                _rate_ci(g.pass_rate, g.pass_rate_ci),
                money(g.median_cost_usd),
                money(g.spent_usd),
            )
        out.print(grouped)
    if report.unjudged:
        out.print(
            f"{report.unjudged.rows} imported row(s) had no executed verdict and are in no "
            f"cell; they cost {money(report.unjudged.cost_usd)}",
            highlight=False,
        )
    for note in report.notes:
        out.print(f"note: {note}", style="dim", highlight=False)
    out.print(f"costs priced with {report.rate_card_source}", style="dim", highlight=False)


# --- `armbench show` -------------------------------------------------------------------------


def print_summary(run: RunFacts, out: Console) -> None:
    """Per arm × task: outcomes, success rate, medians of passing trials; then spend by role
    and the single-shot contract table when they apply."""
    if run.manifest.simulated or any(t.simulated for t in run.trials):
        out.print(SIMULATED_LINE)
    imported = run.manifest.imported
    if imported:
        out.print(f"[bold cyan]IMPORTED[/] from {imported.get('source')}", highlight=False)
        for note in imported.get("notes") or ():
            out.print(f"note: {note}", style="dim", highlight=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        title=run.run_id,
        title_justify="left",
        caption="cost, wall and iterations: medians over passing trials; "
        "rate: passes / trials without infra errors",
        caption_justify="left",
    )
    # Numbers are never cut; on a narrow terminal long arm and task names wrap instead.
    table.add_column("arm", overflow="fold")
    table.add_column("task", overflow="fold")
    for column, width in (("n", 1), ("pass", 4), ("fail", 4), ("limit", 5), ("infra", 5)):
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for column, width in (("rate", 4), ("cost", 6), ("wall s", 6), ("iters", 5)):
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for c in summarize(run):
        table.add_row(
            c.arm,
            c.task,
            str(c.n),
            str(c.passes),
            str(c.fails),
            str(c.limits),
            str(c.infra_errors),
            percent(c.success_rate),
            money(c.median_cost_usd),
            number(c.median_wall_s),
            count(c.median_iterations),
        )
    out.print(table)
    earlier = run.earlier
    if earlier.count:
        out.print(
            f"{earlier.count} earlier attempt(s) of {len(earlier.by_trial)} retried trial(s) "
            f"are kept in the run's history, not counted above; their calls cost "
            f"{money(earlier.cost_usd)} of the run's {money(run.spent_usd)}",
            highlight=False,
        )
    print_spend(run, out)
    print_contract(run, out)
    print_agent_accounts(run, out)
    out.print(f"costs priced with {run.rate_card.source}", style="dim", highlight=False)


def _titled(title: str, caption: str | None = None) -> Table:
    """A compact table with its title (and caption) on the left, as `show`'s side tables are."""
    return Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )


def print_spend(run: RunFacts, out: Console) -> None:
    """Mean cost per trial by role, delegation tax and cloud fraction — when any arm is more
    than one model working alone."""
    spends = spend_by_arm(run)
    if all(s.arm_kind == "solo" for s in spends):
        return
    roles = [r for r in ROLES if any(r in s.mean_cost_by_role for s in spends)]
    table = _titled(
        "mean cost per judged trial by role (infra errors left out)",
        "tax: delegation tax, the orchestrator re-reading executor returns "
        "(~: estimated); cloud: share of served tokens the cloud model served, pooled over "
        "trials [95% CI, task-clustered] · share of calls, mean per trial",
    )
    table.add_column("arm", overflow="fold")
    table.add_column("kind", no_wrap=True)
    for role in roles:
        table.add_column(role, justify="right", no_wrap=True)
    table.add_column("tax", justify="right", no_wrap=True)
    table.add_column("cloud", justify="right", no_wrap=True)
    for s in spends:
        tax = NONE if s.arm_kind != "orchestrated" else money(s.delegation_tax_usd)
        if s.delegation_tax_estimated:
            tax = "~" + tax
        cloud = (
            NONE
            if s.cloud_fraction_tokens is None
            else _rate_ci(s.cloud_fraction_tokens, s.cloud_fraction_tokens_ci)
            + f" · {percent(s.cloud_fraction_calls)}"
        )
        costs = s.mean_cost_by_role
        cells = [money(costs[r]) if r in costs else "" for r in roles]
        table.add_row(s.arm, s.arm_kind, *cells, tax, cloud)
    out.print(table)


def print_contract(run: RunFacts, out: Console) -> None:
    """Single-shot models: format and execution rates without and with the contract."""
    rows = contract_table(run)
    if not rows:
        return
    table = _titled("single-shot: format (strict FILE blocks) and execution (lenient extraction)")
    table.add_column("model", overflow="fold")
    for column in ("n", "format", "exec", "n+c", "format+c", "exec+c", "contract effect"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.model,
            str(r.n_without),
            percent(r.format_without),
            percent(r.execution_without),
            str(r.n_with),
            percent(r.format_with),
            percent(r.execution_with),
            r.effect or NONE,
        )
    out.print(table)


def print_agent_accounts(run: RunFacts, out: Console) -> None:
    """External arms: the agents' own accounts beside the ledger's."""
    rows = agent_accounts(run)
    if not rows:
        return
    table = _titled(
        "external agents: their own account beside armbench's ledger",
        "cost: armbench's at the run's rate card / the agent's at its own prices; "
        "Δ tokens: the agent's count less the ledger's (—: its terms do not map)",
    )
    for column in ("arm", "trials", "calls", "cost", "Δ tokens"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)
    for r in rows:
        calls = f"{r.calls_ledger} / {r.calls_agent if r.calls_agent is not None else NONE}"
        costs = f"{money(r.cost_ledger_usd)} / {money(r.cost_agent_usd)}"
        difference = NONE if r.token_difference is None else f"{r.token_difference:+d}"
        table.add_row(r.arm, str(r.trials), calls, costs, difference)
    out.print(table)


# --- `armbench reprice` and `armbench tasks list` --------------------------------------------


def print_repricing(costs: dict[str, Any], out: Console) -> None:
    """Per arm and in total: trials, the original cost and the repriced one (`costs.json`)."""
    table = Table("arm", "trials", "original", "repriced", box=box.SIMPLE_HEAD)
    for arm, row in costs["arms"].items():
        table.add_row(
            arm, str(row["trials"]), money(row["original_cost_usd"]), money(row["cost_usd"])
        )
    total = costs["total"]
    table.add_row(
        "total", str(total["trials"]), money(total["original_cost_usd"]), money(total["cost_usd"])
    )
    out.print(table)


def print_packs(packs: list[Pack], out: Console) -> None:
    table = Table("pack", "task", "title", "gates")
    for pack in packs:
        for task in pack.tasks:
            gates = ", ".join(g.kind for g in task.spec.gates)
            table.add_row(pack.name, task.id, task.spec.title, gates)
    out.print(table)
