"""Finding the comments and decorators that silence a checker, by file and by kind.

A task's `no_new_suppressions` rule forbids silencing mypy, ruff or any other checker instead of
fixing the code. The counts are taken on the template at preparation and on the workspace at
judging; each kind has a name, so the gate's record says which file added which kind.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from armbench.core import iter_files, read_regular

_COMMENT_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("type-ignore", r"#\s*type:\s*ignore\b"),
        ("noqa", r"#\s*(?:(?:ruff|flake8)\s*:\s*)?noqa\b"),
        ("pyright-ignore", r"#\s*pyright:\s*(?:ignore\b|basic\b|[^#]*=\s*false)"),
        ("mypy-file", r"#\s*mypy:\s*[^#]*(?:ignore|disable|allow)"),
        ("pylint-disable", r"#\s*pylint:\s*disable"),
        ("pyre-ignore", r"#\s*pyre-(?:ignore|fixme|ignore-all-errors)\b"),
        ("isort-skip", r"#\s*isort:\s*(?:skip|off)\b"),
    )
)
"""Comment silencers: line-level (type-ignore, noqa, pyright- and pyre-ignore, pylint-disable,
isort's skips, which silence ruff's import sorting)
and file-level (ruff or flake8 file-wide noqa, mypy's ignore-errors and its other `mypy:`
relaxations). Spelt out in words here: ruff reads a real silencer written in a comment of this
file as one."""

_DECORATOR_KINDS = {"no_type_check": "no-type-check", "no_type_check_decorator": "no-type-check"}
"""Names in code (not comments or strings) that switch type checking off for what they wrap."""

Suppressions = Mapping[str, Mapping[str, int]]
"""Python file → suppression kind → how many."""


def _tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def file_suppressions(text: str) -> Counter[str]:
    """The suppressions in one Python source, by kind (comments and code names only, never
    string contents; line by line when the file does not tokenize)."""
    tokens = _tokens(text)
    if tokens is None:
        comments = [line[line.index("#") :] for line in text.splitlines() if "#" in line]
        names: list[str] = []
    else:
        comments = [t.string for t in tokens if t.type == tokenize.COMMENT]
        names = [t.string for t in tokens if t.type == tokenize.NAME]
    found: Counter[str] = Counter()
    for comment in comments:
        for kind, pattern in _COMMENT_KINDS:
            found[kind] += len(pattern.findall(comment))
    for name in names:
        if name in _DECORATOR_KINDS:
            found[_DECORATOR_KINDS[name]] += 1
    return +found  # without zero counts


def find_suppressions(root: Path) -> dict[str, dict[str, int]]:
    """Every Python file under `root` that holds a suppression, with its counts by kind."""
    found: dict[str, dict[str, int]] = {}
    for rel in iter_files(root):
        if rel.endswith((".py", ".pyi")) and (data := read_regular(root / rel)) is not None:
            counts = file_suppressions(data.decode("utf-8", errors="replace"))
            if counts:
                found[rel] = dict(sorted(counts.items()))
    return found


def count_suppressions(root: Path) -> dict[str, int]:
    """How many suppressions each Python file under `root` holds, all kinds together."""
    return {rel: sum(kinds.values()) for rel, kinds in find_suppressions(root).items()}


def new_suppressions(before: Suppressions, after: Suppressions) -> list[str]:
    """`file: kind +n` for each file and kind that holds more suppressions `after` than
    `before`, sorted."""
    added: list[str] = []
    for rel in sorted(after):
        for kind, n in after[rel].items():
            more = n - before.get(rel, {}).get(kind, 0)
            if more > 0:
                added.append(f"{rel}: {kind} +{more}")
    return added
