"""Areas in square metres."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapes.units import to_metres


@dataclass
class Rectangle:
    width: float
    height: float
    unit: str = "m"

    def area(self) -> float:
        return to_metres(self.width, self.unit) * to_metres(self.height, self.unit)


def circle_area(radius: float, unit: str = "m") -> float:
    """The area of a circle of `radius`, in square metres."""
    if radius < 0:
        raise ValueError("a radius cannot be negative")
    metres = to_metres(radius, unit)
    return math.pi * metres * metres


def total_area(rectangles: list[Rectangle], scale: int = 1) -> float:
    """The summed area of `rectangles`, times `scale`."""
    total = 0.0
    for rectangle in rectangles:
        total += rectangle.area()
    return total * scale
