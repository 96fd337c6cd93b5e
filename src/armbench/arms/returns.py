"""What an orchestrator gets back from one delegation: the return policies.

`free` keeps the head of the executor's final text (as published); `tail` keeps its first and
last characters; `structured` sends a status line and the unified diff of what the executor
changed. Whatever is returned stays in the orchestrator's context: re-reading it on every later
call is the delegation tax (armbench.arms.tax).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from armbench.agent.loop import AgentRun
from armbench.config import ReturnPolicy
from armbench.core import exited_zero, iter_files, read_regular


def workspace_texts(root: Path) -> dict[str, str]:
    """The text files of a workspace (for the diff a structured return reports): regular files
    only, so a symlink cannot pass a host file to the orchestrator."""
    texts = {}
    for rel in iter_files(root):
        data = read_regular(root / rel)
        if data is None:
            continue
        try:
            texts[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def _head(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not returned ...]"


def _head_and_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    omitted = len(text) - 2 * half
    return text[:half] + f"\n[... {omitted} characters not returned ...]\n" + text[-half:]


def _last_check(run: AgentRun) -> str:
    """How the executor's last bash command ended: the checks' status, as far as it shows."""
    for message in reversed(run.messages):
        for block in message.content:
            if block.type == "tool_result" and (passed := exited_zero(block.content)) is not None:
                return "passed" if passed else "failed"
    return "not run"


def shape_return(
    policy: ReturnPolicy, run: AgentRun, before: Mapping[str, str], after: Mapping[str, str]
) -> str:
    """What the orchestrator gets back from one delegation."""
    if policy.policy == "free":
        return _head(run.final_text, policy.max_chars)
    if policy.policy == "tail":
        return _head_and_tail(run.final_text, policy.max_chars)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    status = {"finished": "done", "max_iterations": "stopped at its iteration cap"}.get(
        run.stop, f"stopped ({run.stop})"
    )
    head = (
        f"status: {status}; iterations: {run.iterations}; last command: {_last_check(run)}; "
        f"changed: {', '.join(changed) or 'nothing'}\n"
    )
    diff = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for path in changed
        for line in difflib.unified_diff(
            before.get(path, "").splitlines(keepends=True),
            after.get(path, "").splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    )
    return _head(head + diff, policy.max_chars)
