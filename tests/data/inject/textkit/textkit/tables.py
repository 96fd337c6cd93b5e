"""Replacement table for typographic characters (ruff excludes this file: its layout is hand-aligned)."""
from __future__ import annotations

REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",   "\u2019": "'",
    "\u201c": '"',   "\u201d": '"',
    "\u2013": "-",   "\u2014": "--",
}
def plain(text: str, table: dict[str, str] | None = None) -> str:
    mapping = REPLACEMENTS if table is None else table
    return "".join(mapping.get(char, char) for char in text)
