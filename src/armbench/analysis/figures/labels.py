"""Placing each point's label on a scatter plot: beside its point, inside the axes, and off
the other labels and markers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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


def label_points(ax: Axes, points: Sequence[tuple[float, float, str, str]]) -> None:
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
