# mypy: ignore-errors
"""Shims for callers of the 0.x API; mypy is told to leave this file alone."""

from __future__ import annotations

from textkit.slug import slugify


class OldSlugger:
    def __init__(self, separator: str | None = None) -> None:
        self.separator = separator or "_"
        self.history = []

    def make(self, title: str) -> str:
        slug = slugify(title, self.separator)
        self.history.append(slug)
        return slug

    def last(self, default: str | None = None) -> str | None:
        if self.history is None:
            return default
        return self.history[-1] if self.history else default
