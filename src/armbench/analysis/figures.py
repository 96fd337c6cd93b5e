"""The report's figures, each drawn with matplotlib and returned as an SVG string to inline in
one self-contained HTML file.

- **Byte-identical for the same report**: a fixed `svg.hashsalt`, no date, no metadata block,
  and every element id prefixed with the figure's key so that several SVGs can share one HTML
  document without their ids (clip paths, markers) colliding.
- **No global state**: figures are `matplotlib.figure.Figure` objects (no pyplot, no backend
  switch), styled inside `matplotlib.rc_context`, which restores the rcParams afterwards.
  matplotlib is imported inside the functions, so importing this module stays cheap for
  callers that only want Markdown or JSON.
- **Readable on a laptop**: 6.4 × 4 in, fonts of at least 9 pt, text kept as SVG text
  (`svg.fonttype = none`): smaller files, selectable labels, and the browser's sans-serif
  when DejaVu Sans is absent.
- A figure with nothing to plot is skipped (None), never drawn empty.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, cast

from armbench.analysis.render_md import money, percent
from armbench.analysis.report_model import ArmSpend, Cell, ParetoPoint, Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGSIZE = (6.4, 4.0)
"""Inches; at the SVG's natural size that is about 615 × 385 CSS pixels."""
MAX_TASK_FIGURES = 30
"""Per-task figures (two Pareto plots and token growth) are drawn for at most this many tasks,
in task order; the report says which tasks were left out. Each figure takes ~0.1 s and 30–60
KB of HTML, and past a few dozen tasks a reader turns to the tables anyway: 30 tasks keeps a
report under ~10 s of drawing and a few MB."""
HASHSALT = "armbench"

STYLE: dict[str, Any] = {
    "svg.hashsalt": HASHSALT,
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d0d0d0",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
}

PALETTE = (
    # Tableau 10, then the lighter halves of Tableau 20: distinguishable, colour-blind tolerant.
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
ROLE_STYLES = {"solo": "-", "orchestrator": "-", "executor": "--", "router": ":"}
ROLE_WIDTHS = {"orchestrator": 2.2}

ChartKind = Literal["cost_wall", "cost_success", "token_growth", "delegation_tax", "cloud_fraction"]


@dataclass(frozen=True)
class Chart:
    key: str
    """Unique within a report, usable as an HTML id."""
    kind: ChartKind
    title: str
    caption: str
    """How to read it: what the axes are and what counts as good."""
    task: str | None
    svg: str


@dataclass(frozen=True)
class Figures:
    charts: list[Chart]
    omitted_tasks: list[str]
    """Tasks beyond `MAX_TASK_FIGURES` whose per-task figures were not drawn."""


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """One colour per arm, the same in every figure (and in the HTML tables' swatches)."""
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(sorted(set(arms)))}


@contextmanager
def _figure(
    width: float = FIGSIZE[0], height: float = FIGSIZE[1], *, legend_chars: int = 0
) -> Iterator[Figure]:
    """A figure with fixed margins (room for tick labels such as "$0.0123" and, with
    `legend_chars`, a legend of labels that long on the right). Fixed margins rather than
    constrained layout: it would draw every figure twice, and the sizes here never vary."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(cast(Any, STYLE)):
        fig = Figure(figsize=(width, height))
        legend_in = (2.6 + 0.62 * legend_chars) * 9 / 72 if legend_chars else 0.0
        fig.subplots_adjust(
            left=0.85 / width,
            right=1 - (0.2 + legend_in) / width,
            bottom=0.55 / height,
            top=1 - 0.35 / height,
        )
        yield fig


def _legend_right(fig: Figure, handles: Sequence[Any]) -> None:
    """The legend in the right margin that `_figure(legend_chars=...)` left for it."""
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1, 0.97), frameon=False)


def _svg(fig: Figure, key: str, title: str) -> str:
    """The figure as inline SVG: no prolog, no metadata, ids prefixed with `key`."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", key) + "-"
    text = re.sub(
        r'(\bid="|xlink:href="#|\bhref="#|url\(#)([^")]+)',
        lambda m: m.group(1) + prefix + m.group(2),
        text,
    )
    label = html.escape(title, quote=True)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1).strip() + "\n"


def _money_axis(ax: Axes, axis: Literal["x", "y"] = "x") -> None:
    """Dollar ticks with as many decimals as the tick step needs, alike on every tick
    ("$0.005, $0.010, $0.015", not "$0.00500, $0.0100")."""
    from matplotlib.ticker import Formatter

    class Money(Formatter):
        ticks: Sequence[float] = ()

        def set_locs(self, locs: Sequence[float]) -> None:
            self.ticks = list(locs)

        def __call__(self, x: float, pos: int | None = None) -> str:
            ticks = self.ticks
            steps = [abs(b - a) for a, b in pairwise(ticks)]
            step = min((d for d in steps if d > 0), default=abs(x) or 1.0)
            decimals = next((d for d in range(7) if abs(round(step, d) - step) < step * 1e-6), 6)
            decimals = 2 if decimals in (1, 2) and max(ticks, default=0) < 10 else decimals
            if abs(x) < step / 2:
                return "$0"
            sign = "-" if x < 0 else ""
            return f"{sign}${abs(x):,.{decimals}f}"

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(Money())


def _percent_axis(ax: Axes, axis: Literal["x", "y"], top: float = 1.05) -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: percent(v)))
    target.set_major_locator(MultipleLocator(0.25))
    (ax.set_xlim if axis == "x" else ax.set_ylim)(-0.05, top)


Box = tuple[float, float, float, float]
LABEL_OFFSETS: tuple[tuple[float, float, str], ...] = (
    (6, 3, "left"), (6, -13, "left"), (-6, 3, "right"), (-6, -13, "right"),
    (6, 13, "left"), (-6, 13, "right"), (6, -23, "left"), (-6, -23, "right"),
    (6, 23, "left"), (-6, 23, "right"), (6, -33, "left"), (-6, -33, "right"),
)  # fmt: skip
"""Where a point's label may go, in points from the point, in order of preference."""


def _label_box(
    px: float, py: float, size: tuple[float, float], offset: tuple[float, float, str], scale: float
) -> Box:
    dx, dy, ha = offset
    left = px + dx * scale - (size[0] if ha == "right" else 0)
    return (left, py + dy * scale, left + size[0], py + dy * scale + size[1])


def _within(box: Box, frame: Sequence[float]) -> bool:
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


def _label_points(ax: Axes, points: Sequence[tuple[float, float, str, str]]) -> None:
    """Label each point with its arm, trying a few offsets so that a label stays inside the
    axes and off other labels and markers (sizes estimated from character counts: exact
    enough at 9 pt, and far cheaper than measuring text)."""
    fig = ax.get_figure()
    assert fig is not None
    ax.get_xlim(), ax.get_ylim()  # settles autoscaling, so transData maps to final positions
    to_pixels = ax.transData.transform
    scale = fig.dpi / 72
    frame = ax.bbox.extents
    marker = 4 * scale
    placed: list[Box] = []
    for x, y, _, _ in points:
        px, py = to_pixels((x, y))
        placed.append((px - marker, py - marker, px + marker, py + marker))
    for x, y, text, color in sorted(points, key=lambda p: (p[0], p[1])):
        px, py = to_pixels((x, y))
        size = (5.7 * len(text) * scale, 10 * scale)
        boxes = {o: _label_box(px, py, size, o, scale) for o in LABEL_OFFSETS}
        inside = [o for o in LABEL_OFFSETS if _within(boxes[o], frame)] or list(LABEL_OFFSETS)
        # The first free place; in a crowd, the place that covers the least of the others.
        dx, dy, ha = min(inside, key=lambda o: sum(_overlap(boxes[o], other) for other in placed))
        placed.append(boxes[(dx, dy, ha)])
        ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, fontsize=9,
            color=color,
        )  # fmt: skip


def _overlap(a: Box, b: Box) -> float:
    """The area two boxes share (0 when they are apart)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def pareto_svg(
    points: Sequence[ParetoPoint],
    axes: Literal["cost_wall", "cost_success"],
    task: str,
    colors: Mapping[str, str],
    key: str | None = None,
) -> str | None:
    """Each arm's point on `axes` for `task`: frontier arms filled and joined by a dashed line,
    dominated arms hollow. None when the task has no point on these axes."""
    from matplotlib.lines import Line2D

    mine = [p for p in points if p.task == task and p.axes == axes]
    if len(mine) < 2:
        return None  # one arm has no trade-off to show
    title = f"{task}: cost vs " + (
        "wall time (passing trials)" if axes == "cost_wall" else "success"
    )
    with _figure() as fig:
        ax = fig.add_subplot()
        for p in mine:
            color = colors.get(p.arm, "#555555")
            ax.scatter(
                [p.x], [p.y], s=52, zorder=3, linewidths=1.6, edgecolors=color,
                facecolors=color if p.on_frontier else "white",
            )  # fmt: skip
        front = sorted((p for p in mine if p.on_frontier), key=lambda p: (p.x, p.y))
        if len(front) > 1:
            ax.plot([p.x for p in front], [p.y for p in front], "--", color="#444444", lw=1.1)
        if axes == "cost_wall":
            ax.set_xlabel("median cost per passing trial")
            ax.set_ylabel("median wall time per passing trial (s)")
        else:
            ax.set_xlabel("mean cost per judged attempt")
            ax.set_ylabel("pass rate")
            _percent_axis(ax, "y", top=1.12)  # room for labels above 100%
        # Costs and times are anchored at zero, so distances read as ratios; margins in
        # proportion to the largest value leave room for labels even when arms are close.
        right = max(p.x for p in mine) or 1.0
        ax.set_xlim(-0.02 * right, right * 1.12)  # a free arm ($0) stays visible
        if axes == "cost_wall":
            ax.set_ylim(0, max(p.y for p in mine) * 1.15 or 1.0)
        _money_axis(ax)
        ax.set_title(title, loc="left")
        _label_points(ax, [(p.x, p.y, p.arm, colors.get(p.arm, "#555555")) for p in mine])
        ax.legend(
            handles=[
                Line2D([], [], ls="", marker="o", color="#444444", label="on the frontier"),
                Line2D([], [], ls="", marker="o", mfc="white", color="#444444", label="dominated"),
            ],
            loc="best",
            frameon=False,
        )
        return _svg(fig, key or f"{axes}-{task}", title)


def token_growth_svg(
    rows: Sequence[Mapping[str, Any]],
    task: str,
    colors: Mapping[str, str],
    key: str | None = None,
) -> str | None:
    """Mean prompt tokens of the k-th call of each role, one line per arm × role: a line that
    climbs steeply is a role re-reading a growing context (an orchestrator re-reading what its
    executor sent back). None when the task has no rows with a second call to show growth.

    A line stops where fewer than half of the trials that made a first call of that role are
    still calling (`n` of the rows): past that, the mean is over a few long-running survivors
    and its jumps say more about who survived than about growth."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    series = _growth_series(rows, task)
    if not any(len(v) > 1 for v in series.values()):
        return None
    title = f"{task}: prompt tokens of each call, by role"
    labels = [arm for arm, _ in series] + [f"role: {role}" for _, role in series]
    with _figure(legend_chars=max(len(label) for label in labels)) as fig:
        ax = fig.add_subplot()
        roles: list[str] = []
        for (arm, role), values in sorted(series.items()):
            values.sort()
            style = ROLE_STYLES.get(role, "-.")
            ax.plot(
                [k for k, _ in values], [v for _, v in values], ls=style,
                lw=ROLE_WIDTHS.get(role, 1.4), color=colors.get(arm, "#555555"),
                marker="o" if len(values) == 1 else None, ms=4,
            )  # fmt: skip
            if role not in roles:
                roles.append(role)
        ax.set_xlabel("k-th call of the role in a trial")
        ax.set_ylabel("mean prompt tokens (input + cache)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _tokens(v)))
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        arms = sorted({arm for arm, _ in series})
        handles = [Line2D([], [], color=colors.get(a, "#555555"), lw=2, label=a) for a in arms]
        handles += [
            Line2D([], [], color="#444444", ls=ROLE_STYLES.get(r, "-."),
                   lw=ROLE_WIDTHS.get(r, 1.4), label=f"role: {r}")
            for r in sorted(roles)
        ]  # fmt: skip
        _legend_right(fig, handles)
        return _svg(fig, key or f"token_growth-{task}", title)


def _growth_series(
    rows: Sequence[Mapping[str, Any]], task: str
) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """(arm, role) → [(k, mean prompt)], cut where survivors drop below half (see above)."""
    raw: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
    for r in rows:
        if r["task"] == task and r.get("prompt") is not None:
            raw.setdefault((str(r["arm"]), str(r["role"])), []).append(
                (int(r["k"]), float(r["prompt"]), int(r.get("n") or 1))
            )
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for name, values in raw.items():
        values.sort()
        enough = math.ceil(values[0][2] / 2)
        kept = []
        for k, prompt, n in values:
            if n < enough:
                break
            kept.append((k, prompt))
        series[name] = kept
    return series


def _tokens(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def delegation_tax_svg(
    arms: Sequence[ArmSpend], colors: Mapping[str, str], key: str = "delegation_tax"
) -> str | None:
    """Dollars per trial each orchestrated arm paid for delegating (the orchestrator's extra
    reading and writing); hatched and marked "estimate" where the tax was estimated rather
    than measured. None without an orchestrated arm that has a tax."""
    from matplotlib.patches import Patch

    taxed = [a for a in arms if a.arm_kind == "orchestrated" and a.delegation_tax_usd is not None]
    if not taxed:
        return None
    title = "Delegation tax per orchestrated arm"
    crowded = sum(len(a.arm) + 3 for a in taxed) > 60  # names longer than the axis: slant them
    with _figure() as fig:
        if crowded:
            fig.subplots_adjust(bottom=1.1 / FIGSIZE[1])
        ax = fig.add_subplot()
        values = [a.delegation_tax_usd or 0.0 for a in taxed]
        bars = ax.bar(
            range(len(taxed)), values, width=0.6,
            color=[colors.get(a.arm, "#555555") for a in taxed],
            hatch=None, edgecolor="#333333", linewidth=0.8,
        )  # fmt: skip
        for bar, a, v in zip(bars, taxed, values, strict=True):
            if a.delegation_tax_estimated:
                bar.set_hatch("///")
                bar.set_alpha(0.6)
            label = money(v) + ("\nestimate" if a.delegation_tax_estimated else "")
            ax.annotate(
                label, (bar.get_x() + bar.get_width() / 2, v), xytext=(0, 3 if v >= 0 else -3),
                textcoords="offset points", ha="center", va="bottom" if v >= 0 else "top",
                fontsize=9,
            )  # fmt: skip
        ax.set_xticks(range(len(taxed)), [a.arm for a in taxed])
        if crowded:
            ax.tick_params(axis="x", labelrotation=25)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        ax.set_ylabel("tax per trial")
        _money_axis(ax, "y")
        ax.axhline(0, color="#333333", lw=0.8)
        ax.margins(y=0.2)
        ax.grid(axis="x", visible=False)
        ax.set_title(title, loc="left")
        if any(a.delegation_tax_estimated for a in taxed):
            ax.legend(
                handles=[Patch(facecolor="white", edgecolor="#333333", hatch="///",
                               label="estimated, not measured")],
                loc="best", frameon=False,
            )  # fmt: skip
        return _svg(fig, key, title)


def cloud_fraction_svg(
    cells: Sequence[Cell], colors: Mapping[str, str], key: str = "cloud_fraction"
) -> str | None:
    """Routed arms: share of calls sent to the cloud model against pass rate, with Wilson 95%
    error bars, one point per arm and task. None without routed cells that have both."""
    from matplotlib.lines import Line2D

    routed = [
        c
        for c in cells
        if c.arm_kind == "routed" and c.cloud_fraction_calls is not None and c.pass_rate is not None
    ]
    if not routed:
        return None
    title = "Routed arms: cloud share of calls vs pass rate"
    tasks = sorted({c.task for c in routed})
    markers = "osD^vP*Xph"
    labels = [c.arm for c in routed] + (tasks[: len(markers)] if len(tasks) > 1 else [])
    with _figure(legend_chars=max(len(label) for label in labels)) as fig:
        ax = fig.add_subplot()
        for c in routed:
            x, y = c.cloud_fraction_calls or 0.0, c.pass_rate or 0.0
            low, high = c.pass_rate_ci or (y, y)
            ax.errorbar(
                [x], [y], yerr=[[max(y - low, 0.0)], [max(high - y, 0.0)]],
                fmt=markers[tasks.index(c.task) % len(markers)], ms=6, capsize=3,
                color=colors.get(c.arm, "#555555"), elinewidth=1.1,
            )  # fmt: skip
        _percent_axis(ax, "x")
        _percent_axis(ax, "y")
        ax.set_xlabel("share of calls sent to the cloud model (mean per trial)")
        ax.set_ylabel("pass rate (Wilson 95% interval)")
        ax.set_title(title, loc="left")
        arms = sorted({c.arm for c in routed})
        handles = [
            Line2D([], [], ls="", marker="o", color=colors.get(a, "#555555"), label=a) for a in arms
        ]
        if len(tasks) > 1:
            handles += [
                Line2D([], [], ls="", marker=markers[i % len(markers)], color="#444444", label=t)
                for i, t in enumerate(tasks[: len(markers)])
            ]
        _legend_right(fig, handles)
        return _svg(fig, key, title)


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


__all__ = [
    "MAX_TASK_FIGURES",
    "Chart",
    "Figures",
    "arm_colors",
    "cloud_fraction_svg",
    "delegation_tax_svg",
    "pareto_svg",
    "report_figures",
    "token_growth_svg",
]
