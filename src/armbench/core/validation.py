"""Turning pydantic's validation errors into messages a user can act on."""

from __future__ import annotations

from pydantic import ValidationError


def format_validation_error(
    exc: ValidationError, *, union_tags: frozenset[str] = frozenset()
) -> str:
    """One problem after another, each naming its field as a dotted path.

    pydantic puts the tag of a discriminated union in the path (`models.weak.sim.skill`);
    tags listed in `union_tags` are left out, so the path is the one the user wrote.
    """
    lines = []
    for err in exc.errors():
        parts = [str(p) for p in err["loc"]]
        parts = [p for i, p in enumerate(parts) if not (i == 2 and p in union_tags)]
        where = ".".join(parts)
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
