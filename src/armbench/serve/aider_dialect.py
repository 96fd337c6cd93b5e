"""serve-sim answering aider: its two main edit formats, its reflections, its commit messages.

aider offers no tools. It sends the files it was given ("I have *added these files to the
chat*", each as its path and a fenced listing), the task, and expects edits in the reply's
text: `whole` lists every changed file in full (the path alone on a line, then a fence), `diff`
gives SEARCH/REPLACE blocks (the path, a fence, `<<<<<<< SEARCH`, old lines, `=======`, new
lines, `>>>>>>> REPLACE`). It applies them, lints (and tests, with `--auto-test`), and when
something fails sends the output back for another try ("reflection", up to three times).

The sim plays the same coder as elsewhere: it brings each file of the reference solution to
its content, each write right with probability `skill` (the sim's one kind of mistake, a
garbled identifier, which the lint or the tests then show), and tries again on every
reflection; once the files in the chat are right it answers without edits, and aider stops.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Literal

from armbench.core import ModelRequest, derive_seed
from armbench.sim import TaskBrief, maybe_wrong, plan_edits

AiderStyle = Literal["whole", "diff", "commit"]
_FILES_MARK = "*added these files to the chat*"
_LISTING = re.compile(r"^(\S[^\n]*)\n(`{3,})[^\n]*\n(.*?)\n?\2[ \t]*$", re.M | re.S)


def aider_style(request: ModelRequest) -> AiderStyle | None:
    """Which of aider's prompts `request` is (None: not aider's)."""
    system = request.system
    if request.tools:
        return None
    if "one-line Git commit messages" in system:
        return "commit"
    if "*SEARCH/REPLACE block*" in system or "*SEARCH/REPLACE* edits" in system:
        return "diff"
    if "*file listing*" in system:
        return "whole"
    return None


def chat_files(request: ModelRequest) -> tuple[dict[str, str], int]:
    """The files as aider last sent them (path → content), and how many answers the sim has
    given since (its tries at the task so far)."""
    files: dict[str, str] = {}
    at = -1
    for index, message in enumerate(request.messages):
        if message.role == "user" and _FILES_MARK in message.text:
            at = index
            files = {
                path.strip(): body + ("\n" if body else "")
                for path, _fence, body in _LISTING.findall(message.text)
            }
    # After the files: aider's own "Ok, any changes I propose..." and then the sim's answers.
    answers = sum(1 for m in request.messages[at + 1 :] if m.role == "assistant")
    return files, max(answers - 1, 0) if at >= 0 else answers


def aider_answer(
    style: AiderStyle, request: ModelRequest, brief: TaskBrief, skill: float, seed: int
) -> str:
    if style == "commit":
        return "fix: make the requested change"
    files, tries = chat_files(request)
    rng = random.Random(derive_seed(seed, "aider", tries))
    targets = {p: c for p, c in sorted(brief.solution.items()) if c is not None}
    pending = {p: c for p, c in targets.items() if files.get(p) != c}
    if not pending:
        return "The files already make the requested change; nothing more to edit."
    intro = "I will make the change." if tries == 0 else "Let me fix what the output shows."
    if style == "whole":
        return intro + "\n\n" + _whole(pending, skill, rng)
    return intro + "\n\n" + _diff(pending, files, skill, rng)


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=2)
    return "`" * max(3, longest + 1)


def _whole(pending: Mapping[str, str], skill: float, rng: random.Random) -> str:
    parts = []
    for path, content in pending.items():
        body = maybe_wrong(content, skill, rng).rstrip("\n")
        fence = _fence(body)
        parts.append(f"{path}\n{fence}python\n{body}\n{fence}\n")
    return "\n".join(parts)


def _diff(
    pending: Mapping[str, str], files: Mapping[str, str], skill: float, rng: random.Random
) -> str:
    blocks = []
    for path, content in pending.items():
        current = files.get(path)
        if current is None:  # a new file: an empty SEARCH creates it
            edits = [("", maybe_wrong(content, skill, rng).rstrip("\n"))]
        else:
            edits = [
                (old, maybe_wrong(new, skill, rng))
                for old, new in plan_edits(current.splitlines(), content.splitlines())
            ]
        for old, new in edits:
            body = f"<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE"
            if not old:
                body = f"<<<<<<< SEARCH\n=======\n{new}\n>>>>>>> REPLACE"
            fence = _fence(body)
            blocks.append(f"{path}\n{fence}python\n{body}\n{fence}\n")
    return "\n".join(blocks)
