"""The views of a report: figures (SVG), the self-contained HTML page and the Markdown summary,
rendered from hand-built `Report` objects so they are tested apart from the statistics."""

from __future__ import annotations

import html
import json
import random
import re
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import pytest

from armbench.analysis import figures, render_html, render_md
from armbench.analysis.report_model import (
    ArmSpend,
    Cell,
    Comparison,
    Decision,
    Dominance,
    MedianIntervals,
    Medians,
    NonInferiorityTest,
    PairedTest,
    ParetoPoint,
    Report,
)
from armbench.analysis.stats import too_few_for_interval, wilson

# (arm, kind, base cost $, skill): the demo's arms, enough of every kind.
ARMS: tuple[tuple[str, str, float, float], ...] = (
    ("strong", "solo", 0.22, 0.95),
    ("strong+local", "orchestrated", 0.36, 0.9),
    ("routed-heur", "routed", 0.05, 0.6),
    ("cheap", "solo", 0.06, 0.8),
    ("strong+cheap", "orchestrated", 0.27, 0.92),
    ("routed-cascade", "routed", 0.18, 0.85),
    ("strong+local-s", "orchestrated", 0.30, 0.9),
    ("oneshot", "single_shot", 0.003, 0.5),
    ("oneshot+c", "single_shot", 0.003, 0.55),
)
TASKS = ("breakage", "refactor", "feature")
TASK_FIGURE_KINDS = ("cost_wall", "cost_success", "token_growth")
ROLES = {
    "solo": ("solo",),
    "orchestrated": ("orchestrator", "executor"),
    "routed": ("solo", "router"),
    "single_shot": ("single_shot",),
}


def _cell(rng: random.Random, arm: str, kind: str, cost: float, skill: float, task: str) -> Cell:
    n = 6 if task == TASKS[0] and kind == "solo" else 3
    n_infra = 1 if (arm, task) == ("cheap", TASKS[-1]) else 0
    judged = n - n_infra
    n_pass = sum(rng.random() < skill for _ in range(judged))
    if arm == "routed-heur" and task == TASKS[1]:
        n_pass = 0
    n_fail = judged - n_pass
    n_limit = min(n_fail, 1 if kind == "orchestrated" else 0)
    n_fail -= n_limit
    passes = n_pass > 0
    c = cost * rng.uniform(0.7, 1.3)
    wall = 40 + 300 * c * rng.uniform(0.8, 1.2)
    note = too_few_for_interval(n_pass)
    ci = note is None
    roles = ROLES[kind]
    by_role = {r: c / len(roles) for r in roles}
    if kind == "orchestrated" and "local" in arm:
        by_role["executor"] = 0.0
    return Cell(
        arm=arm,
        arm_kind=kind,
        task=task,
        n=n,
        n_pass=n_pass,
        n_fail=n_fail,
        n_limit=n_limit,
        n_infra=n_infra,
        infra_classes={"provider_overloaded": n_infra} if n_infra else {},
        pass_rate=n_pass / judged,
        pass_rate_itt=n_pass / n,
        pass_rate_ci=wilson(n_pass, judged),
        success_median=Medians(
            cost_usd=c if passes else None,
            wall_s=wall if passes else None,
            iterations=float(rng.randint(4, 30)) if passes else None,
        ),
        success_median_ci=MedianIntervals(
            cost_usd=(c * 0.8, c * 1.25) if ci else None,
            wall_s=(wall * 0.8, wall * 1.3) if ci else None,
            iterations=(4.0, 31.0) if ci else None,
        ),
        interval_note=note,
        success_median_tokens={"input": 12000.0, "output": 900.0} if passes else {},
        success_median_tokens_by_role={},
        mean_cost_usd=c,
        mean_cost_by_role=by_role,
        expected_cost_per_success=c * judged / n_pass if passes else None,
        expected_cost_per_success_ci=(
            (c, c * judged / n_pass * 1.6 if n_pass > 1 else None) if passes and ci else None
        ),
        expected_cost_per_success_method="t / Wilson" if passes and ci else None,
        delegation_tax_tokens=41000.0 if kind == "orchestrated" else None,
        delegation_tax_usd=c * 0.1 if kind == "orchestrated" else None,
        delegation_tax_estimated=arm == "strong+cheap",
        cloud_fraction_calls=rng.uniform(0.05, 0.8) if kind == "routed" else None,
        cloud_fraction_tokens=rng.uniform(0.1, 0.9) if kind == "routed" else None,
        cloud_fraction_tokens_ci=(0.05, 0.95) if kind == "routed" else None,
        unmeasured_roles=[],
        simulated=True,
    )


def _pareto(cells: Sequence[Cell]) -> list[ParetoPoint]:
    points = []
    for axes in ("cost_wall", "cost_success"):
        xy: dict[str, tuple[float, float]] = {}
        for c in cells:
            if axes == "cost_wall" and c.success_median.cost_usd is not None:
                xy[c.arm] = (c.success_median.cost_usd, c.success_median.wall_s or 0.0)
            elif axes == "cost_success" and c.pass_rate is not None:
                xy[c.arm] = (c.mean_cost_usd or 0.0, c.pass_rate)
        sign = 1 if axes == "cost_wall" else -1  # minimise both
        for arm, (x, y) in sorted(xy.items()):
            beaten = [
                o
                for o, (ox, oy) in xy.items()
                if o != arm and ox <= x and sign * oy <= sign * y and (ox, oy) != (x, y)
            ]
            points.append(
                ParetoPoint(
                    task=cells[0].task,
                    axes=axes,  # type: ignore[arg-type]
                    arm=arm,
                    x=x,
                    y=y,
                    on_frontier=not beaten,
                    dominated_by=[Dominance(arm=o, support=0.999) for o in sorted(beaten)],
                    support_needed=0.99,
                    note=None,
                )
            )
    return points


def _decision(cells: Sequence[Cell]) -> Decision:
    best = max(cells, key=lambda c: c.pass_rate or 0.0)
    shown = [c for c in cells if c is not best and c.n_pass == c.n - c.n_infra and c.n_pass]
    tests = [
        NonInferiorityTest(
            arm=c.arm,
            difference=(c.pass_rate or 0.0) - (best.pass_rate or 0.0),
            lower_bound=-0.3,
            p=0.01 if c in shown else 0.4,
            p_holm=0.02 if c in shown else 0.8,
            non_inferior=c in shown,
        )
        for c in cells
        if c is not best
    ]
    candidates = [best, *shown]
    pick = min(candidates, key=lambda c: c.expected_cost_per_success or 0.0)
    return Decision(
        task=cells[0].task,
        arm=pick.arm,
        expected_cost_per_success=pick.expected_cost_per_success,
        pass_rate=pick.pass_rate,
        best_arm=best.arm,
        best_pass_rate=best.pass_rate,
        margin=0.1,
        tests=tests,
        candidates=sorted(c.arm for c in candidates),
        cheapest_support=0.8 if len(candidates) > 1 else None,
        cost_lower_bound=False,
        incomplete_cost=[],
        reason=f"cheapest expected cost per success among {len(candidates)} arm(s)",
    )


def _comparisons(rng: random.Random, cells: Sequence[Cell]) -> list[Comparison]:
    out = []
    arms = [c for c in cells if c.n_pass][:4]
    for metric in ("cost_usd", "success"):
        for i, (a, b) in enumerate(combinations(arms, 2)):
            strong = i == 0
            p = 0.004 if strong else rng.uniform(0.1, 1.0)
            out.append(
                Comparison(
                    task=a.task,
                    metric=metric,  # type: ignore[arg-type]
                    a=a.arm,
                    b=b.arm,
                    n_a=a.n_pass,
                    n_b=b.n_pass,
                    median_a=a.success_median.cost_usd if metric == "cost_usd" else a.pass_rate,
                    median_b=b.success_median.cost_usd if metric == "cost_usd" else b.pass_rate,
                    u=float(rng.randint(0, 9)),
                    p_exact=p if i % 3 else None,
                    p_exact_method="exact" if i % 3 else None,
                    p_asymptotic=min(1.0, p * 1.1),
                    p_holm=min(1.0, p * 6),
                    testable=True,
                    cliffs_delta=rng.uniform(-1, 1),
                    paired=PairedTest(
                        n_pairs=3, p=None if i == 1 else 0.25, method="wilcoxon", p_holm=None
                    )
                    if metric == "cost_usd"
                    else None,
                )
            )
    return out


def sample_report(
    tasks: Sequence[str] = TASKS,
    n_arms: int = 7,
    *,
    simulated: bool = True,
    imported: dict[str, object] | None = None,
    seed: int = 7,
) -> Report:
    """A realistic report: solo, orchestrated (one with an estimated tax), routed and
    single-shot arms; some cells with intervals, most (n = 3) with notes instead."""
    rng = random.Random(seed)
    arms = ARMS[:n_arms]
    cells: list[Cell] = []
    comparisons: list[Comparison] = []
    pareto: list[ParetoPoint] = []
    decisions: list[Decision] = []
    for task in tasks:
        mine = [_cell(rng, arm, kind, cost, skill, task) for arm, kind, cost, skill in arms]
        cells += mine
        comparisons += _comparisons(rng, mine)
        pareto += _pareto(mine)
        decisions.append(_decision(mine))
    spend = []
    for arm, kind, _, _ in arms:
        mine = [c for c in cells if c.arm == arm]
        roles = {r for c in mine for r in c.mean_cost_by_role}
        spend.append(
            ArmSpend(
                arm=arm,
                arm_kind=kind,
                trials=sum(c.n for c in mine),
                spent_usd=sum((c.mean_cost_usd or 0.0) * c.n for c in mine),
                spent_judged_usd=sum((c.mean_cost_usd or 0.0) * (c.n - c.n_infra) for c in mine),
                n_infra=sum(c.n_infra for c in mine),
                infra_rate=sum(c.n_infra for c in mine) / sum(c.n for c in mine),
                infra_rate_ci=(0.0, 0.3),
                mean_cost_by_role={
                    r: sum(c.mean_cost_by_role.get(r, 0.0) for c in mine) / len(mine)
                    for r in sorted(roles)
                },
                delegation_tax_usd=mine[0].delegation_tax_usd,
                delegation_tax_estimated=mine[0].delegation_tax_estimated,
                cloud_fraction_calls=mine[0].cloud_fraction_calls,
                cloud_fraction_tokens=mine[0].cloud_fraction_tokens,
                cloud_fraction_tokens_ci=None,
                cloud_fraction_clusters="tasks" if mine[0].cloud_fraction_tokens else None,
            )
        )
    statuses = {
        "pass": sum(c.n_pass for c in cells),
        "fail": sum(c.n_fail for c in cells),
        "limit": sum(c.n_limit for c in cells),
        "infra_error": sum(c.n_infra for c in cells),
    }
    notes = ["Simulated models: these numbers exercise the harness, not real models."]
    if imported:
        notes += [str(n) for n in imported.get("notes", [])]  # type: ignore[attr-defined]
    return Report(
        run_id="20250101-000000-paradox",
        name="paradox",
        armbench_version="0.1.0",
        simulated=simulated,
        imported=imported,
        rate_card_source="genai-prices + cards/test.toml",
        notes=notes,
        confidence=0.95,
        margin=0.1,
        bootstrap_resamples=2000,
        bootstrap_seed=0,
        dominance_support=0.95,
        trials=sum(statuses.values()),
        statuses=statuses,
        infra_classes={"provider_overloaded": statuses["infra_error"]},
        infra_rates_p=0.4,
        cells=cells,
        comparisons=comparisons,
        cost_per_success_tests=[],
        pareto=pareto,
        decisions=decisions,
        arms=spend,
    )


def sample_growth(report: Report, max_k: int = 30) -> list[dict[str, Any]]:
    """prompt_growth rows: orchestrators grow fastest (they re-read executor returns)."""
    slope = {"orchestrator": 2600.0, "solo": 1400.0, "executor": 700.0, "router": 40.0}
    rows = []
    for i, c in enumerate(report.cells):
        bend = 0.75 + 0.5 * (i % 5) / 4  # arms differ, so their lines do not coincide
        for role in ROLES[c.arm_kind]:
            calls = 1 if role == "single_shot" else max_k
            for k in range(1, calls + 1):
                rows.append(
                    {
                        "task": c.task,
                        "arm": c.arm,
                        "role": role,
                        "k": k,
                        "prompt": 3000.0 + slope.get(role, 0.0) * bend * (k - 1) ** 1.1,
                        "n": max(1, c.n - k // 12),
                    }
                )
    return rows


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report()


@pytest.fixture(scope="module")
def drawn(report: Report) -> figures.Figures:
    return figures.report_figures(report, sample_growth(report))


@pytest.fixture(scope="module")
def page(report: Report, drawn: figures.Figures) -> str:
    return render_html.render_html(report, figures=drawn)


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (None, "—"),
        (0.0, "$0"),
        (0.003141, "$0.00314"),
        (0.0421, "$0.0421"),
        (0.219, "$0.219"),
        (1.5, "$1.50"),
        (1234.4, "$1,234"),
        (-0.0123, "-$0.0123"),
    ],
)
def test_money_keeps_the_digits_a_reader_needs(x: float | None, text: str) -> None:
    assert render_md.money(x) == text


@pytest.mark.parametrize(
    ("p", "text"),
    [(None, "—"), (1.0, "1.00"), (0.05, "0.0500"), (0.012345, "0.0123"), (3.2e-6, "3.20e-06")],
)
def test_p_values_have_three_significant_digits(p: float | None, text: str) -> None:
    assert render_md.pvalue(p) == text


def test_unbounded_interval_is_shown_as_infinite() -> None:
    assert render_md.money_interval((0.2, None)) == "[$0.200–∞]"


# ---------------------------------------------------------------- figures


def test_every_figure_kind_is_drawn_when_there_is_data(drawn: figures.Figures) -> None:
    kinds = [c.kind for c in drawn.charts]
    assert kinds.count("cost_wall") == kinds.count("cost_success") == len(TASKS)
    assert kinds.count("token_growth") == len(TASKS)
    assert kinds.count("delegation_tax") == kinds.count("cloud_fraction") == 1
    assert drawn.omitted_tasks == []
    for chart in drawn.charts:
        assert chart.svg.startswith("<svg ")
        assert "<?xml" not in chart.svg and "<metadata>" not in chart.svg
        assert "DOCTYPE" not in chart.svg


def test_figures_are_byte_identical_in_another_process(
    drawn: figures.Figures, other_process: Callable[[str], str]
) -> None:
    # Drawn again in a second interpreter with another hash seed: a second call in this one
    # would share its hash seed, set and dict order and matplotlib's caches.
    elsewhere = other_process(
        "import json\n"
        "from armbench.analysis import figures\n"
        "from test_report_render import sample_growth, sample_report\n"
        "report = sample_report()\n"
        "drawn = figures.report_figures(report, sample_growth(report))\n"
        "print(json.dumps({c.key: c.svg for c in drawn.charts}))\n"
    )
    here = {c.key: c.svg for c in drawn.charts}
    assert len(here) == len(drawn.charts) == 3 * len(TASKS) + 2
    assert json.loads(elsewhere) == here


def test_figures_leave_matplotlib_global_state_alone(report: Report) -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    figures.delegation_tax_svg(report.arms, {})
    assert dict(matplotlib.rcParams) == before


def test_figures_are_skipped_when_there_is_nothing_to_plot(report: Report) -> None:
    solo_only = sample_report(n_arms=1)
    drawn = figures.report_figures(solo_only, [])
    assert drawn.charts == []  # one arm: no trade-off, no tax, no routing, no growth rows
    assert figures.token_growth_svg([], "breakage", {}) is None
    assert figures.delegation_tax_svg(solo_only.arms, {}) is None
    assert figures.cloud_fraction_svg(solo_only.cells, {}) is None
    assert figures.pareto_svg(report.pareto, "cost_wall", "no-such-task", {}) is None


def test_pareto_figure_labels_every_arm_and_hollows_dominated_ones(report: Report) -> None:
    points = [p for p in report.pareto if p.task == "breakage" and p.axes == "cost_success"]
    assert any(not p.on_frontier for p in points)
    svg = figures.pareto_svg(report.pareto, "cost_success", "breakage", {}, "k")
    assert svg is not None
    for p in points:
        assert f">{p.arm}<" in svg
    assert "fill: #ffffff" in svg  # hollow markers


def test_delegation_tax_marks_estimates(report: Report) -> None:
    svg = figures.delegation_tax_svg(report.arms, {})
    assert svg is not None
    assert "estimate" in svg
    assert ">strong+cheap<" in svg


def test_per_task_figures_are_capped_and_the_rest_named() -> None:
    many = sample_report(tasks=[f"t{i:02d}" for i in range(4)], n_arms=3)
    drawn = figures.report_figures(many, [], max_tasks=2)
    assert {c.task for c in drawn.charts if c.task} == {"t00", "t01"}
    assert drawn.omitted_tasks == ["t02", "t03"]


# ---------------------------------------------------------------- HTML


def test_html_loads_nothing_from_anywhere(page: str) -> None:
    loads = re.findall(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert loads == []
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert not re.search(r"@import|<link\b|<img\b|<iframe\b", page, re.I)
    assert "default-src 'none'" in html.unescape(page)


def test_html_script_is_allowed_by_its_hash_only(page: str) -> None:
    import base64
    import hashlib

    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    csp = html.unescape(page)
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_html_shows_the_simulated_banner_only_when_simulated(report: Report, page: str) -> None:
    assert 'id="banner-simulated"' in page
    assert "SIMULATED — these numbers do not measure real models" in page
    real = render_html.render_html(sample_report(simulated=False, n_arms=2))
    assert 'id="banner-simulated"' not in real


def test_html_shows_where_imported_data_came_from() -> None:
    imported = {
        "importer": "free-executor-paradox",
        "source": "datasets/free-executor-paradox/trials.csv",
        "sha256": "ab" * 32,
        "notes": ["Executor tokens were never recorded."],
    }
    page = render_html.render_html(sample_report(n_arms=2, imported=imported, simulated=False))
    banner = page.split('id="banner-imported"')[1].split("</div>")[0]
    assert "datasets/free-executor-paradox/trials.csv" in banner
    assert "Executor tokens were never recorded." in banner
    assert page.count("Executor tokens were never recorded.") == 1  # not repeated in notes


def test_html_cell_table_has_every_cell_in_task_then_cost_order(report: Report, page: str) -> None:
    body = page.split('id="cells-table"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    assert len(rows) == len(report.cells)
    keys = []
    for row in rows:
        sorts = re.findall(r'data-sort="([^"]*)"', row)
        keys.append((sorts[2], sorts[10]))  # task, E[cost/success]
    tasks = [t for t, _ in keys]
    assert tasks == sorted(tasks)
    for task in set(tasks):
        costs = [k for t, k in keys if t == task]
        known = [float(k) for k in costs if k]
        assert known == sorted(known)
        assert costs[len(known) :] == [""] * (len(costs) - len(known))  # missing last


def test_html_missing_intervals_say_why(report: Report, page: str) -> None:
    note = next(c.interval_note for c in report.cells if c.interval_note and c.n_pass)
    assert f'title="{note}"' in page.replace("&lt;", "<")


def test_html_gives_the_lower_bound_of_a_cost_per_success_with_no_pass(report: Report) -> None:
    from armbench.analysis.html_tables import cells_table

    none_passed = report.cells[0].model_copy(
        update={
            "n_pass": 0,
            "expected_cost_per_success": None,
            "expected_cost_per_success_ci": (0.5, None),
        }
    )
    table = cells_table(report.model_copy(update={"cells": [none_passed]}), {})
    details = [v.detail for row in table.rows for v in row.values]
    assert "≥ $0.500" in details


def test_html_escapes_names(report: Report) -> None:
    hostile = sample_report(tasks=['<img src=x onerror="alert(1)">'], n_arms=2)
    page = render_html.render_html(hostile)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=" in page


def test_html_svg_ids_are_unique_across_the_page(page: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'(?:xlink:href="#|url\(#)([^")]+)', page):
        assert ref in ids


def test_html_has_every_section(page: str) -> None:
    for section in ("overview", "cells", "decisions", "comparisons", "figures", "spend"):
        assert f'<section id="{section}"' in page
    assert page.count("<svg ") == 3 * len(TASKS) + 2
    assert 'class="significant"' in page


# ---------------------------------------------------------------- Markdown


def test_markdown_summary(report: Report) -> None:
    md = render_md.render_markdown(report)
    assert "> **SIMULATED — these numbers do not measure real models.**" in md
    cells = md.split("### Cells")[1].split("### Decisions")[0]
    cell_rows = [line for line in cells.splitlines() if line.startswith("| `")]
    assert len(cell_rows) == len(report.cells)
    assert "$" in cell_rows[0] and "[—]" in cells  # n = 3 cells: no interval, and it says so
    assert "[—]: fewer than 6 passes" in cells
    assert "### Decisions" in md
    for d in report.decisions:
        assert f"| {d.task} | **`{d.arm}`** |" in md
    significant = render_md.significant(report.comparisons)
    assert significant
    assert f"{len(significant)} of {len(report.comparisons)} tested comparisons" in md
    assert "<svg" not in md


def test_markdown_says_when_nothing_is_significant(report: Report) -> None:
    quiet = report.model_copy(
        update={"comparisons": [c.model_copy(update={"p_holm": 0.5}) for c in report.comparisons]}
    )
    md = render_md.render_markdown(quiet)
    assert "No comparison is significant after Holm's adjustment" in md


def test_markdown_escapes_pipes() -> None:
    md = render_md.render_markdown(sample_report(tasks=["a|b"], n_arms=2))
    assert "a\\|b" in md


# ---------------------------------------------------------------- size


def test_a_big_report_renders_every_figure_and_row() -> None:
    """25 tasks × 8 arms, under the per-task figure cap: nothing is left out of the page or
    the Markdown. (How fast that is is benchmarks/report_100k.py's business, not a test's.)"""
    tasks = [f"task-{i:02d}" for i in range(25)]
    assert len(tasks) < figures.MAX_TASK_FIGURES
    big = sample_report(tasks=tasks, n_arms=8)
    page = render_html.render_html(big, sample_growth(big, max_k=40))
    shown = re.findall(r'<figure id="fig-([^"]+)" class="chart chart-([a-z_]+)">', page)
    assert shown == [
        *((f"{kind}-{task}", kind) for task in tasks for kind in TASK_FIGURE_KINDS),
        ("delegation_tax", "delegation_tax"),
        ("cloud_fraction", "cloud_fraction"),
    ]
    assert page.count("<svg ") == len(shown) == 3 * 25 + 2
    assert "Per-task figures are drawn for the first tasks only" not in page
    md = render_md.render_markdown(big)
    cells = md.split("### Cells")[1].split("### Decisions")[0]
    assert len([line for line in cells.splitlines() if line.startswith("| `")]) == 25 * 8
    for d in big.decisions:
        assert f"| {d.task} | **`{d.arm}`** |" in md


def test_html_marks_costs_that_leave_out_unmeasured_roles() -> None:
    report = sample_report(n_arms=2)
    cells = [
        c.model_copy(update={"unmeasured_roles": ["executor"]}) if c.arm == "strong+local" else c
        for c in report.cells
    ]
    page = render_html.render_html(report.model_copy(update={"cells": cells}))
    assert "leaves out the cost of executor, whose tokens were never recorded" in page
    assert re.search(r"\$[0-9.]+\*", page)
