"""Greedy word wrapping."""

from __future__ import annotations


class WrapError(ValueError):
    """The text cannot be wrapped as asked."""


def wrap(text: str, width: int = 72, indent: str | None = None) -> list[str]:
    prefix = "" if indent is None else indent
    if width <= len(prefix):
        raise WrapError("width must be larger than the indent")
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = word if not current else current + " " + word
        if len(prefix + candidate) > width and current:
            lines.append(prefix + current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(prefix + current)
    return lines


def longest(lines: list[str], default: str | None = None) -> str | None:
    if not lines:
        return default
    return max(lines, key=len)


def first_longer_than(lines: list[str], limit: int) -> str | None:
    for line in lines:
        if len(line) > limit:
            return line
    if limit < 0:
        raise WrapError("the limit cannot be negative here")
    return None
