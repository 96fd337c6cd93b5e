"""`sim`: a deterministic simulated coder that plays a task's reference solution for real.

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
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from armbench.agent.editor import occurrences
from armbench.agent.tools import BASH, EDITOR
from armbench.config import SimModelConfig
from armbench.models.cache import PromptCache, block_text, linearize, uncached_usage
from armbench.models.tokenizer import BLOCK_OVERHEAD, count_tokens
from armbench.models.types import (
    Block,
    ModelError,
    ModelIdentity,
    ModelRequest,
    ModelResponse,
    TaskBrief,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

_EXIT_CODE = re.compile(r"\[exit code: ([^\]]+)\]\s*$")
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


class SimPolicy:
    """What the sim does next, given what its tools returned so far."""

    def __init__(self, settings: SimModelConfig, brief: TaskBrief, seed: int) -> None:
        self._settings = settings
        self._brief = brief
        self._decide = random.Random(seed)
        self._prose = random.Random(seed + 1)  # prose never shifts the decisions
        self._targets: dict[str, str | None] = dict(brief.solution)
        self._play_gen = self._play()
        self._started = False

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
        skill = self._settings.skill
        checks = " && ".join(self._brief.check_commands)
        if checks:
            output, _ = yield SimAction(
                self._say("Let me run the checks to see where things stand."),
                BASH,
                {"command": checks},
            )
            self._discover(output)
        focus = sorted(self._targets)
        rounds_left = 1 + round(4 * skill)
        while True:
            for path in focus:
                yield from self._bring_to_target(path)
            if not checks or self._decide.random() > 0.5 + skill / 2:
                break  # overconfident: it declares victory without verifying
            output, _ = yield SimAction(
                self._say("Running the checks again to verify."), BASH, {"command": checks}
            )
            rounds_left -= 1
            if _exit_code(output) == "0" or rounds_left <= 0:
                break
            self._discover(output)
            focus = [p for p in sorted(self._targets) if p in output] or sorted(self._targets)
        yield SimAction(self._say("I have made the changes the task asks for."))

    def _bring_to_target(self, path: str) -> Policy:
        target = self._targets[path]
        if target is None:
            yield SimAction(
                self._say(f"{path} is no longer needed."),
                BASH,
                {"command": f"rm -f {shlex.quote(path)}"},
            )
            return
        shown, missing = yield SimAction(
            self._say(f"Let me look at {path}."), EDITOR, {"command": "view", "path": path}
        )
        if missing:
            content = self._maybe_wrong(target)
            yield SimAction(
                self._say(f"Creating {path}."),
                EDITOR,
                {"command": "create", "path": path, "file_text": content},
            )
            return
        current = unnumber(shown)
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
        """`text`, or with probability 1 - skill a copy with one identifier garbled."""
        if self._decide.random() < self._settings.skill:
            return text
        names = [m for m in _IDENTIFIER.finditer(text) if not keyword.iskeyword(m.group())]
        if not names:
            return text + "\n"
        hit = self._decide.choice(names)
        cut = hit.start() + self._decide.randrange(1, len(hit.group()) - 1)
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
    settings: SimModelConfig, brief: TaskBrief, seed: int, history: list[Observation]
) -> SimAction:
    """The action a policy takes after `history`, replayed from the start."""
    policy = SimPolicy(settings, brief, seed)
    action = policy.step(None)
    for observation in history:
        action = policy.step(observation)
    return action


def render(action: SimAction, call_id: str) -> tuple[Block, ...]:
    content: tuple[Block, ...] = (TextBlock(text=action.text),)
    if action.tool is not None and action.input is not None:
        content += (ToolUseBlock(id=call_id, name=action.tool, input=action.input),)
    return content


class SimAccounting:
    """Usage and latency of sim responses, through one prompt cache (a trial's, or a server's).

    Thread-safe, so one instance can serve concurrent conversations as a provider's cache does.
    """

    def __init__(self, settings: SimModelConfig) -> None:
        self.settings = settings
        self._cache = (
            PromptCache(ttl=settings.cache_ttl, min_tokens=settings.min_cacheable_tokens)
            if settings.cache
            else None
        )
        self._lock = threading.Lock()

    def account(
        self,
        request: ModelRequest,
        content: tuple[Block, ...],
        now: float,
        *,
        ttl: str | None = None,
    ) -> tuple[Usage, float]:
        """Usage of answering `request` with `content` at time `now` (s), and its latency;
        `ttl` overrides the cache's default TTL for this request's writes."""
        s = self.settings
        output = s.reasoning_tokens_per_call
        for block in content:
            output += BLOCK_OVERHEAD + (
                count_tokens(block.text)
                if isinstance(block, TextBlock)
                else count_tokens(block_text(block))
            )
        segments, breakpoints = linearize(request)
        with self._lock:
            prompt = (
                self._cache.account(segments, breakpoints, now, ttl=ttl)
                if self._cache is not None
                else uncached_usage(segments)
            )
        usage = prompt.model_copy(
            update={"output": output, "reasoning": s.reasoning_tokens_per_call}
        )
        latency = (
            s.first_token_s
            + (usage.input + usage.cache_write_5m + usage.cache_write_1h) / s.input_tokens_per_s
            + usage.cache_read / (10 * s.input_tokens_per_s)
            + output / s.output_tokens_per_s
        )
        return usage, latency


class SimModel:
    """A simulated model for one trial: a policy plus a prompt cache of its own."""

    def __init__(self, name: str, settings: SimModelConfig, brief: TaskBrief, seed: int) -> None:
        self._identity = ModelIdentity(provider="sim", model=name, simulated=True)
        self._policy = SimPolicy(settings, brief, seed)
        self._accounting = SimAccounting(settings)
        self._pending_call: str | None = None
        self._calls = 0
        self._started = time.monotonic()
        self._simulated_s = 0.0

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        observation = None
        if self._pending_call is not None:
            observation = self._observation(request, self._pending_call)
        action = self._policy.step(observation)
        self._calls += 1
        content = render(action, call_id=f"toolu_sim_{self._calls:04d}")
        calls = [b for b in content if isinstance(b, ToolUseBlock)]
        self._pending_call = calls[0].id if calls else None
        now = time.monotonic() - self._started + self._simulated_s
        usage, latency = self._accounting.account(request, content, now)
        self._simulated_s += latency
        return ModelResponse(
            content=content,
            stop_reason="tool_use" if calls else "end_turn",
            usage=usage,
            latency_s=latency,
            latency_simulated=True,
            model_id=f"sim-{self._identity.model}",
            request_id=f"sim-{self._calls}",
            simulated=True,
        )

    def _observation(self, request: ModelRequest, call_id: str) -> Observation:
        last = request.messages[-1] if request.messages else None
        for block in last.content if last is not None else ():
            if isinstance(block, ToolResultBlock) and block.tool_use_id == call_id:
                return block.content, block.is_error
        raise ModelError(f"sim: the request carries no result for tool call {call_id}", "harness")


def _exit_code(bash_output: str) -> str | None:
    match = _EXIT_CODE.search(bash_output)
    return match.group(1) if match else None
