"""Rules the prompt states and the judge enforces."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from armbench.tasks.files import iter_files

_SUPPRESSION = re.compile(r"#\s*(type:\s*ignore|noqa)\b", re.IGNORECASE)


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
