"""The token-growth figure of a task: the mean prompt size of each role's k-th call, one line
per arm and role.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from armbench.analysis.figures.base import legend_right, new_figure, to_svg

ROLE_STYLES = {"solo": "-", "orchestrator": "-", "executor": "--", "router": ":"}
ROLE_WIDTHS = {"orchestrator": 2.2}


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
    with new_figure(legend_chars=max(len(label) for label in labels)) as fig:
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
        legend_right(fig, handles)
        return to_svg(fig, key or f"token_growth-{task}", title)


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
