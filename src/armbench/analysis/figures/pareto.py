"""The Pareto figures of a task: each arm's cost against its wall time, or against its pass
rate, with the frontier marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from armbench.analysis.figures.base import money_axis, new_figure, percent_axis, to_svg
from armbench.analysis.figures.labels import label_points
from armbench.analysis.report_model import ParetoPoint


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
    with new_figure() as fig:
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
            percent_axis(ax, "y", top=1.12)  # room for labels above 100%
        # Costs and times are anchored at zero, so distances read as ratios; margins in
        # proportion to the largest value leave room for labels even when arms are close.
        right = max(p.x for p in mine) or 1.0
        ax.set_xlim(-0.02 * right, right * 1.12)  # a free arm ($0) stays visible
        if axes == "cost_wall":
            ax.set_ylim(0, max(p.y for p in mine) * 1.15 or 1.0)
        money_axis(ax)
        ax.set_title(title, loc="left")
        label_points(ax, [(p.x, p.y, p.arm, colors.get(p.arm, "#555555")) for p in mine])
        ax.legend(
            handles=[
                Line2D([], [], ls="", marker="o", color="#444444", label="on the frontier"),
                Line2D([], [], ls="", marker="o", mfc="white", color="#444444", label="dominated"),
            ],
            loc="best",
            frameon=False,
        )
        return to_svg(fig, key or f"{axes}-{task}", title)
