"""The sim's decisions: what a simulated coder does next, given what its tools returned.

It is handed the reference solution (the final content of the files it changes) and reaches it
only through the harness's tools: it runs the checks, views each file, derives str_replace edits
from what the view showed, runs the checks again and repairs what they flag. Nothing is faked
downstream of it — the workspace, the checkers, the judge and the ledger all see real activity.
A brief may instead (or also) offer `restorable` files: pristine contents the sim brings back
only once check output names them, which is how it repairs breakage it was not told about.

The decisions (`SimPolicy`) are a pure function of the seed, the brief and the tool results so
far, so a conversation can be replayed to any point — which lets the stateless HTTP servers of
`armbench serve-sim` play the same coder. The accounting (`SimAccounting`) turns an action and
the request that asked for it into usage and latency.

`skill` is the chance an edit is right first time (a wrong edit garbles one identifier, which
the checks usually catch and the model must then repair), the chance it bothers to verify, and
how many repair rounds it attempts. Its token usage is computed from the requests it actually
receives (armbench.models.tokenizer), through the prompt-cache model when cache-capable, and its
latency is simulated from those counts and recorded as simulated.
"""

from __future__ import annotations

import difflib
import keyword
import random
import re
import shlex
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from armbench.agent.editor import VIEW_CUT, occurrences
from armbench.agent.tools import BASH, DELEGATE, EDITOR
from armbench.config import SimModelConfig
from armbench.core import (
    Block,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    exited_zero,
)
from armbench.sim.accounting import answer_tokens
from armbench.sim.brief import TaskBrief
from armbench.sim.instructions import render_instruction

_IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
_FILLER = (
    "I want to keep the change minimal and consistent with the existing style.",
    "The type annotations should stay precise so the strict checker is satisfied.",
    "Nothing else in the module should need to change for this.",
    "I will keep the public names as they are so callers do not break.",
    "Afterwards the test suite should tell me whether anything regressed.",
    "This follows the conventions already used elsewhere in the package.",
    "It is worth double-checking the imports once the edit is in place.",
    "Small, verifiable steps are safer than one large rewrite here.",
)


@dataclass(frozen=True)
class SimAction:
    """One turn of the policy: prose, then a tool call (or nothing, to finish)."""

    text: str
    tool: str | None = None
    input: dict[str, Any] | None = None


def render(action: SimAction, call_id: str) -> tuple[Block, ...]:
    """The answer's content blocks: its prose, then its tool call if it makes one."""
    content: tuple[Block, ...] = (TextBlock(text=action.text),)
    if action.tool is not None and action.input is not None:
        content += (ToolUseBlock(id=call_id, name=action.tool, input=action.input),)
    return content


Observation = tuple[str, bool]
"""What the last tool call returned: its text and whether it was an error."""
Policy = Generator[SimAction, Observation, None]


def unnumber(view_output: str) -> list[str]:
    """The file lines behind an editor `view` (each shown as `<number>\\t<line>`)."""
    return [line.partition("\t")[2] for line in view_output.splitlines() if "\t" in line]


def plan_edits(current: list[str], target: list[str]) -> Iterator[tuple[str, str]]:
    """str_replace edits turning `current` into `target`, applied bottom-up.

    Each `old` is widened with context lines until it occurs exactly once in the file as it
    will be when that edit is applied, so every edit is acceptable to the editor in order.
    """
    lines = list(current)
    matcher = difflib.SequenceMatcher(None, current, target, autojunk=False)
    for group in reversed(list(matcher.get_grouped_opcodes(n=0))):
        a1, a2 = group[0][1], group[-1][2]
        b1, b2 = group[0][3], group[-1][4]
        text = "\n".join(lines)
        # A pure deletion needs a context line, or the line break it sat on would remain.
        context = 1 if b1 == b2 else 0
        while True:
            lo, hi = max(a1 - context, 0), min(a2 + context, len(lines))
            old = "\n".join(lines[lo:hi])
            if (old and occurrences(text, old) == 1) or (lo == 0 and hi == len(lines)):
                break
            context += 1
        replacement = lines[lo:a1] + target[b1:b2] + lines[a2:hi]
        lines[lo:hi] = replacement
        yield old, "\n".join(replacement)


SimRole = Literal["solo", "orchestrator", "executor"]


class SimPolicy:
    """What the sim does next, given what its tools returned so far.

    As `solo` it works the task itself; as `executor` it does the same with the brief an
    instruction gave it, then reports back (echoing the files it wrote when verbose — the
    summaries an orchestrator then re-reads); as `orchestrator` it delegates the reference
    solution in chunks, verifies, and repairs — itself, or by delegating again when its editor
    only views.
    """

    def __init__(
        self, settings: SimModelConfig, brief: TaskBrief, seed: int, *, role: SimRole = "solo"
    ) -> None:
        self._settings = settings
        self._brief = brief
        self._role = role
        self._decide = random.Random(seed)
        self._prose = random.Random(seed + 1)  # prose never shifts the decisions
        self._targets: dict[str, str | None] = dict(brief.solution)
        self._play_gen = self._orchestrate() if role == "orchestrator" else self._play()
        self._started = False
        self.skill = settings.skill
        """The skill of the model answering now (models sharing a policy set it per call)."""
        self.can_edit = True
        """Whether its editor may change files (an orchestrator's may only view)."""
        self.max_output_tokens: int | None = None
        """The answer's `max_tokens` (None: unbounded): an orchestrator delegates in
        instructions that fit it, as a real model must, since an answer past it is cut."""
        self._edits = dict(brief.edits)
        self._last_check = ""

    def step(self, observation: Observation | None) -> SimAction:
        """The next action; `observation` is the result of the previous one (None at first)."""
        try:
            if not self._started:
                self._started = True
                return next(self._play_gen)
            if observation is None:
                raise ValueError("the policy needs the result of its last tool call")
            return self._play_gen.send(observation)
        except StopIteration:
            return SimAction("The task is complete.")

    def _say(self, intent: str) -> str:
        extra = round(self._settings.verbosity * 4)
        return " ".join([intent, *self._prose.sample(_FILLER, k=min(extra, len(_FILLER)))])

    def _discover(self, output: str) -> None:
        """Take on the restorable files that check output names."""
        for path, content in sorted(self._brief.restorable.items()):
            if path not in self._targets and path in output:
                self._targets[path] = content

    def _play(self) -> Policy:
        skill = self.skill
        checks = " && ".join(self._brief.check_commands)
        if checks and self._role == "solo":
            output, _ = yield SimAction(
                self._say("Let me run the checks to see where things stand."),
                BASH,
                {"command": checks},
            )
            self._discover(output)
        focus = sorted(self._targets.keys() | self._edits.keys())
        rounds_left = 1 + round(4 * skill)
        while True:
            for path in focus:
                yield from self._bring_to_target(path)
            if not checks or self._decide.random() > 0.5 + self.skill / 2:
                break  # overconfident: it declares victory without verifying
            output, _ = yield SimAction(
                self._say("Running the checks again to verify."), BASH, {"command": checks}
            )
            self._last_check = output
            rounds_left -= 1
            if exited_zero(output) or rounds_left <= 0:
                break
            self._discover(output)
            focus = [p for p in sorted(self._targets) if p in output] or sorted(self._targets)
        if self._role == "executor":
            yield SimAction(self._report())
        else:
            yield SimAction(self._say("I have made the changes the task asks for."))

    def _report(self) -> str:
        """An executor's closing report: what it did, how the checks went, and — when verbose —
        the files it wrote, in full (the habit that makes free-text returns expensive)."""
        written = [p for p in sorted(self._targets) if self._targets[p] is not None]
        removed = [p for p in sorted(self._targets) if self._targets[p] is None]
        lines = [self._say(f"Done. I brought {len(written)} file(s) to the requested content.")]
        if removed:
            lines.append("Removed: " + ", ".join(removed) + ".")
        if self._last_check:
            passed = exited_zero(self._last_check) is True
            lines.append("The checks pass." if passed else "The checks still report problems.")
        if self._settings.verbosity >= 0.5:
            for path in written:
                lines += [
                    "",
                    f"Here is {path} as it now reads:",
                    "```python",
                    str(self._targets[path]).rstrip("\n"),
                    "```",
                ]
        return "\n".join(lines)

    def _delegate(
        self, paths: list[str], edits: dict[str, list[tuple[str, str]]] | None = None
    ) -> SimAction:
        files = {p: self._targets[p] for p in paths if not edits or p not in edits}
        instruction = render_instruction(files, self._brief.check_commands, edits=edits)
        return SimAction(
            self._say(f"Delegating {', '.join(paths)} to the executor."),
            DELEGATE,
            {"instruction": instruction},
        )

    def _fits(self, action: SimAction) -> bool:
        limit = self.max_output_tokens
        return limit is None or answer_tokens(render(action, ""), self._settings) <= limit

    def _delegate_all(self, paths: list[str]) -> Policy:
        """Delegate `paths` in up to three instructions; one too long for an answer is split
        file by file, and a file too long to write out whole is handed over as its edits
        (worked out from the file as viewed), as few to an instruction as fit."""
        chunks = max(1, min(3, len(paths)))
        for start in range(chunks):
            group = paths[start::chunks]
            action = self._delegate(group)
            if self._fits(action) or (len(group) == 1 and self._targets[group[0]] is None):
                yield action
                continue
            for path in group:
                action = self._delegate([path])
                target = self._targets[path]
                if self._fits(action) or target is None:
                    yield action
                    continue
                current, missing = yield from self._read(path)
                if missing:  # a new file that long: nothing to edit, write it out
                    yield action
                    continue
                batch: list[tuple[str, str]] = []
                for edit in plan_edits(current, target.splitlines()):
                    if batch and not self._fits(self._delegate([path], {path: [*batch, edit]})):
                        yield self._delegate([path], {path: batch})
                        batch = []
                    batch.append(edit)
                if batch:
                    yield self._delegate([path], {path: batch})

    def _orchestrate(self) -> Policy:
        checks = " && ".join(self._brief.check_commands)
        if checks:
            output, _ = yield SimAction(
                self._say("Let me run the checks to see where things stand."),
                BASH,
                {"command": checks},
            )
            self._discover(output)
        yield from self._delegate_all(sorted(self._targets))
        rounds_left = 1 + round(3 * self.skill)
        while checks and rounds_left > 0:
            output, _ = yield SimAction(
                self._say("Verifying the executor's work."), BASH, {"command": checks}
            )
            if exited_zero(output):
                break
            rounds_left -= 1
            self._discover(output)
            focus = [p for p in sorted(self._targets) if p in output] or sorted(self._targets)
            if self.can_edit:
                for path in focus:
                    yield from self._bring_to_target(path)
            else:
                yield from self._delegate_all(focus)
        yield SimAction(self._say("The work is done and verified."))

    def _read(self, path: str) -> Generator[SimAction, Observation, tuple[list[str], bool]]:
        """The file's lines as the editor shows them (a long file viewed part by part), and
        whether it is missing."""
        shown, missing = yield SimAction(
            self._say(f"Let me look at {path}."), EDITOR, {"command": "view", "path": path}
        )
        if missing:
            return [], True
        current = unnumber(shown)
        while VIEW_CUT in shown:  # a long file is shown in parts: read the rest before editing
            shown, _ = yield SimAction(
                self._say(f"The rest of {path}."),
                EDITOR,
                {"command": "view", "path": path, "view_range": [len(current) + 1, -1]},
            )
            current += unnumber(shown)
        return current, False

    def _bring_to_target(self, path: str) -> Policy:
        target = self._targets.get(path)
        if path not in self._targets:  # told its edits, not its content: make them as viewed
            current, missing = yield from self._read(path)
            text = "\n".join(current)
            for old, new in self._edits[path]:
                if old in text:
                    text = text.replace(old, new, 1)
            target = self._targets[path] = None if missing else text + "\n"
            if target is None:
                return  # nothing to edit: the instruction was wrong, and the checks will say
        elif target is None:
            yield SimAction(
                self._say(f"{path} is no longer needed."),
                BASH,
                {"command": f"rm -f {shlex.quote(path)}"},
            )
            return
        else:
            current, missing = yield from self._read(path)
            if missing:
                content = self._maybe_wrong(target)
                yield SimAction(
                    self._say(f"Creating {path}."),
                    EDITOR,
                    {"command": "create", "path": path, "file_text": content},
                )
                return
        if not current:
            content = self._maybe_wrong(target)
            yield SimAction(
                self._say(f"Filling in {path}."),
                EDITOR,
                {"command": "insert", "path": path, "insert_line": 0, "new_str": content},
            )
            return
        for old, new in plan_edits(current, target.splitlines()):
            edit = {
                "command": "str_replace",
                "path": path,
                "old_str": old,
                "new_str": self._maybe_wrong(new),
            }
            yield SimAction(self._say(f"Updating {path}."), EDITOR, edit)

    def _maybe_wrong(self, text: str) -> str:
        return maybe_wrong(text, self.skill, self._decide)


def maybe_wrong(text: str, skill: float, rng: random.Random) -> str:
    """`text`, or with probability 1 - skill a copy with one identifier garbled — the sim's
    one kind of mistake, which the checks usually catch."""
    if rng.random() < skill:
        return text
    names = [m for m in _IDENTIFIER.finditer(text) if not keyword.iskeyword(m.group())]
    if not names:
        return text + "\n"
    hit = rng.choice(names)
    cut = hit.start() + rng.randrange(1, len(hit.group()) - 1)
    return text[:cut] + text[cut + 1 :]


def observations(request: ModelRequest) -> list[Observation]:
    """The result of each tool call in a conversation, in order: what a policy was fed."""
    found: list[Observation] = []
    for message in request.messages:
        if message.role != "user":
            continue
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                found.append((block.content, block.is_error))
    return found


def replay(
    settings: SimModelConfig,
    brief: TaskBrief,
    seed: int,
    history: list[Observation],
    *,
    role: SimRole = "solo",
    can_edit: bool = True,
    max_output_tokens: int | None = None,
) -> SimAction:
    """The action a policy takes after `history`, replayed from the start."""
    policy = SimPolicy(settings, brief, seed, role=role)
    policy.can_edit = can_edit
    policy.max_output_tokens = max_output_tokens
    action = policy.step(None)
    for observation in history:
        action = policy.step(observation)
    return action
