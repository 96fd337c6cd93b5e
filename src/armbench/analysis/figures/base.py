"""Shared machinery of the report's figures: the style, the palette and arm colours, figure
creation with fixed margins, SVG export, the axis formatters, and the `Chart` / `Figures`
containers the chart modules fill.

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
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, cast

from armbench.analysis.render_md import percent

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGSIZE = (6.4, 4.0)
"""Inches; at the SVG's natural size that is about 615 × 385 CSS pixels."""
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
def new_figure(
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


def legend_right(fig: Figure, handles: Sequence[Any]) -> None:
    """The legend in the right margin that `new_figure(legend_chars=...)` left for it."""
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(1, 0.97), frameon=False)


def to_svg(fig: Figure, key: str, title: str) -> str:
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


def money_axis(ax: Axes, axis: Literal["x", "y"] = "x") -> None:
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


def percent_axis(ax: Axes, axis: Literal["x", "y"], top: float = 1.05) -> None:
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: percent(v)))
    target.set_major_locator(MultipleLocator(0.25))
    (ax.set_xlim if axis == "x" else ax.set_ylim)(-0.05, top)
