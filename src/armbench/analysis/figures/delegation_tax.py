"""The delegation-tax figure: what each orchestrated arm paid per trial for delegating."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from armbench.analysis.figures.base import FIGSIZE, money_axis, new_figure, to_svg
from armbench.analysis.render_md import money
from armbench.analysis.report_model import ArmSpend


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
    with new_figure() as fig:
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
        money_axis(ax, "y")
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
        return to_svg(fig, key, title)
