"""Rules the prompt states and the judge enforces."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from armbench.core import iter_files

_SUPPRESSION = re.compile(
    r"#\s*(?:type:\s*ignore\b|(?:(?:ruff|flake8)\s*:\s*)?noqa\b|pyright:\s*ignore\b"
    r"|mypy:\s*[^#]*(?:ignore|disable|allow))",
    re.IGNORECASE,
)
"""Line-level silencers (type-ignore, noqa and pyright-ignore comments) and file-level ones
(ruff or flake8 file-wide noqa, mypy ignore-errors and the other `mypy:` relaxations). Spelt
out in words here: ruff reads a real silencer written in a comment of this file as one."""


def count_suppressions(root: Path) -> dict[str, int]:
    """`# type: ignore` and `# noqa` comments per Python file (comments only, not strings)."""
    counts: dict[str, int] = {}
    for rel in iter_files(root):
        if not rel.endswith(".py"):
            continue
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        try:
            comments = [
                tok.string
                for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                if tok.type == tokenize.COMMENT
            ]
        except (tokenize.TokenError, SyntaxError):
            comments = [line[line.index("#") :] for line in text.splitlines() if "#" in line]
        n = sum(len(_SUPPRESSION.findall(c)) for c in comments)
        if n:
            counts[rel] = n
    return counts
