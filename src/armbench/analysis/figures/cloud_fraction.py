"""The cloud-fraction figure: routed arms' share of calls sent to the cloud model against their
pass rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from armbench.analysis.figures.base import legend_right, new_figure, percent_axis, to_svg
from armbench.analysis.report_model import Cell


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
    with new_figure(legend_chars=max(len(label) for label in labels)) as fig:
        ax = fig.add_subplot()
        for c in routed:
            x, y = c.cloud_fraction_calls or 0.0, c.pass_rate or 0.0
            low, high = c.pass_rate_ci or (y, y)
            ax.errorbar(
                [x], [y], yerr=[[max(y - low, 0.0)], [max(high - y, 0.0)]],
                fmt=markers[tasks.index(c.task) % len(markers)], ms=6, capsize=3,
                color=colors.get(c.arm, "#555555"), elinewidth=1.1,
            )  # fmt: skip
        percent_axis(ax, "x")
        percent_axis(ax, "y")
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
        legend_right(fig, handles)
        return to_svg(fig, key, title)
