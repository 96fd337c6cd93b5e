"""Minor units per currency, generated from ISO 4217 (excluded from ruff)."""
from __future__ import annotations

MINOR_UNITS: dict[str, int] = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3, "CLF": 4}
def minor_units(code: str, default: int | None = None) -> int:
    value = MINOR_UNITS.get(code)
    if value == None:
        if default is None:
            raise KeyError("unknown currency code")
        return default
    return value
