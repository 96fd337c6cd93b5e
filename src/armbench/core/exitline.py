"""The line the bash tool ends every result with: `[exit code: N]`.

It is how the agent, the routing signals and the sim's policy all learn whether a command
passed, so it is written and read in one place. The tool appends it after the command's own
output, so the last such line is always the real one (a command cannot print its way past it).
"""

from __future__ import annotations

import re

TIMED_OUT = "killed (timeout)"
"""What the exit line says for a command killed at its timeout."""

_EXIT_LINE = re.compile(r"\[exit code: ([^\]]*)\]\s*\Z")


def exit_line(exit_code: int | None, *, timed_out: bool = False) -> str:
    """`[exit code: N]`, or `[exit code: killed (timeout)]`."""
    return f"[exit code: {TIMED_OUT if timed_out else exit_code}]"


def trailing_exit_code(text: str) -> str | None:
    """What the exit line that ends `text` says (`"0"`, `"1"`, `TIMED_OUT`); None without one."""
    match = _EXIT_LINE.search(text)
    return match.group(1).strip() if match else None


def exited_zero(text: str) -> bool | None:
    """True/False for a result that ends with an exit line of 0/anything else; None without."""
    code = trailing_exit_code(text)
    return None if code is None else code == "0"
