"""Perimeters in metres."""

from __future__ import annotations

import math

from shapes.units import to_metres


def square_perimeter(side: float, unit: str = "m") -> float:
    return 4 * to_metres(side, unit)


def circle_perimeter(radius: float, unit: str = "m") -> float:
    if radius < 0:
        raise ValueError("a radius cannot be negative")
    return 2 * math.pi * to_metres(radius, unit)
