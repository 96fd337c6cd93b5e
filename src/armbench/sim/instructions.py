"""Delegation instructions: what an orchestrator hands an executor, written so both a model and
the sim can act on them.

An instruction gives each file to write as a FILE block — the single-shot contract's format:
a `FILE: <path>` line, then a fenced block with the whole content — plus `DELETE: <path>` lines
for files to remove and `CHECK: <command>` lines for how to check. The simulated executor
reads exactly this — it applies what it is told, and nothing it was not told — which is also
how it plays behind serve-sim, where it knows nothing else about the task.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from armbench.core import extract_strict, file_names, prose_lines, render_answer
from armbench.sim.brief import TaskBrief

_DELETE = re.compile(r"^DELETE:\s*(\S+)\s*$")
_CHECK = re.compile(r"^CHECK:\s*(.+?)\s*$")


def render_instruction(
    files: Mapping[str, str | None], checks: Sequence[str], *, summary: str = ""
) -> str:
    """An instruction to bring `files` to their content (None: delete) and then run `checks`."""
    written = {p: c for p, c in sorted(files.items()) if c is not None}
    parts = [summary or "Bring these files to exactly the content below, then run the checks.", ""]
    if written:
        parts.append(render_answer(written, None, contract=True))
    parts += [f"DELETE: {p}" for p, c in sorted(files.items()) if c is None]
    parts += [f"CHECK: {command}" for command in checks]
    return "\n".join(parts) + "\n"


def parse_instruction(text: str) -> TaskBrief:
    """The brief an instruction amounts to: its files, deletions and check commands."""
    files: dict[str, str | None] = dict(extract_strict(text, file_names(text)))
    checks: list[str] = []
    for line in prose_lines(text):
        if m := _DELETE.match(line):
            files[m.group(1)] = None
        elif m := _CHECK.match(line):
            checks.append(m.group(1))
    return TaskBrief(solution=files, check_commands=tuple(checks))
