"""Delegation instructions: what an orchestrator hands an executor, written so both a model and
the sim can act on them.

An instruction gives each file to write as a FILE block — the single-shot contract's format:
a `FILE: <path>` line, then a fenced block with the whole content — or, for a file too long to
write out in one answer, its changes as EDIT blocks (an `EDIT: <path>` line, then an `old`
and a `new` fenced block: replace the one with the other); plus `DELETE: <path>` lines for
files to remove and `CHECK: <command>` lines for how to check. The simulated executor reads
exactly this — it applies what it is told, and nothing it was not told — which is also how it
plays behind serve-sim, where it knows nothing else about the task.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from armbench.core import extract_strict, file_names, prose_lines, render_answer
from armbench.sim.brief import TaskBrief

_DELETE = re.compile(r"^DELETE:\s*(\S+)\s*$")
_CHECK = re.compile(r"^CHECK:\s*(.+?)\s*$")


def render_instruction(
    files: Mapping[str, str | None],
    checks: Sequence[str],
    *,
    summary: str = "",
    edits: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> str:
    """An instruction to bring `files` to their content (None: delete), to make `edits`
    (path → its replacements, in order), and then run `checks`."""
    written = {p: c for p, c in sorted(files.items()) if c is not None}
    parts = [summary or _SUMMARY[bool(edits)], ""]
    if written:
        parts.append(render_answer(written, None, contract=True))
    for path, replacements in sorted((edits or {}).items()):
        for old, new in replacements:
            parts.append(f"EDIT: {path}\n{_fence(old, 'old')}{_fence(new, 'new')}")
    parts += [f"DELETE: {p}" for p, c in sorted(files.items()) if c is None]
    parts += [f"CHECK: {command}" for command in checks]
    return "\n".join(parts) + "\n"


_SUMMARY = {
    False: "Bring these files to exactly the content below, then run the checks.",
    True: "Make these changes (in each EDIT, replace the old text with the new), then run "
    "the checks.",
}
_EDIT = re.compile(
    r"^EDIT:[ \t]*(\S+)[ \t]*\n(`{3,})old\n(.*?)\n\2\n(`{3,})new\n(.*?)\n\4[ \t]*$", re.M | re.S
)


def _fence(text: str, tag: str) -> str:
    """`text` exactly, in a fenced block longer than any fence inside it; the line break
    before the closing fence is the block's own, so text ending in one keeps it."""
    longest = max((len(m) for m in re.findall(r"^ {0,3}(`{3,})", text, re.M)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{tag}\n{text}\n{fence}\n"


def parse_instruction(text: str) -> TaskBrief:
    """The brief an instruction amounts to: its files, edits, deletions and check commands."""
    files: dict[str, str | None] = dict(extract_strict(text, file_names(text)))
    edits: dict[str, tuple[tuple[str, str], ...]] = {}
    for edit in _EDIT.finditer(text):
        path, old, new = edit.group(1, 3, 5)
        edits[path] = (*edits.get(path, ()), (old, new))
    checks: list[str] = []
    for line in prose_lines(text):
        if m := _DELETE.match(line):
            files[m.group(1)] = None
        elif m := _CHECK.match(line):
            checks.append(m.group(1))
    return TaskBrief(solution=files, check_commands=tuple(checks), edits=edits)
