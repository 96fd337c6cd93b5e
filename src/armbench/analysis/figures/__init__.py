"""The report's figures, each drawn with matplotlib and returned as an SVG string to inline in
one self-contained HTML file. A figure with nothing to plot is skipped (None), never drawn empty.

- `base`: the shared machinery (style, arm colours, figure creation, SVG export, axes) and the
  `Chart` / `Figures` containers; its docstring says why the SVGs are byte-identical.
- `labels`: placing point labels clear of each other.
- `pareto`, `token_growth`, `delegation_tax`, `cloud_fraction`: one module per chart kind.
- `assemble`: `report_figures`, which draws every figure a report has data for.
"""

from armbench.analysis.figures.assemble import MAX_TASK_FIGURES, report_figures
from armbench.analysis.figures.base import Chart, Figures, arm_colors
from armbench.analysis.figures.cloud_fraction import cloud_fraction_svg
from armbench.analysis.figures.delegation_tax import delegation_tax_svg
from armbench.analysis.figures.pareto import pareto_svg
from armbench.analysis.figures.token_growth import token_growth_svg

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
