"""Length units."""

from __future__ import annotations

FACTORS = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048}


class UnitError(ValueError):
    """A unit this module does not know."""


def to_metres(value: float, unit: str) -> float:
    """`value` in `unit`, converted to metres; UnitError for an unknown unit."""
    key = unit.strip().lower()
    if key not in FACTORS:
        known = ", ".join(sorted(FACTORS))
        raise UnitError(f"unknown unit {unit!r} (known: {known})")
    return value * FACTORS[key]


def describe(value: float, unit: str | None = None) -> str:
    """`value` with its unit, or alone when there is none."""
    if unit is None:
        return f"{value:g}"
    return f"{value:g} {unit}"
