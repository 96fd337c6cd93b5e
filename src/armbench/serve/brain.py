"""The sim coder behind HTTP: stateless, because every request carries the whole conversation.

A request names no task and no trial, so the brain works out both from what it is sent: the
brief from the first user message (the task's prompt, looked up in the pack), the seed from the
server's seed, the model name and that prompt, and the position in the conversation from the
tool results so far (`armbench.models.sim.replay`). The same conversation therefore gets the
same answers from any server thread, in any order, after a restart.

Usage comes from one `SimAccounting` per model name, shared by all conversations, so the prompt
cache behaves like a provider's: a prefix another conversation wrote is a hit for the next.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from armbench.agent.arms.orchestrated import EXECUTOR_SYSTEM, ORCHESTRATOR_SYSTEM
from armbench.agent.instructions import parse_instruction
from armbench.agent.routing import ROUTER_SYSTEM
from armbench.config import SimModelConfig
from armbench.core import (
    Block,
    CacheBreakpoint,
    ModelRequest,
    TextBlock,
    ToolUseBlock,
    Usage,
    derive_seed,
    iter_files,
)
from armbench.judge.single_shot import CONTRACT
from armbench.models.sim import (
    SimAccounting,
    SimRole,
    can_edit,
    observations,
    render,
    replay,
    route_answer,
    single_shot_answer,
)
from armbench.models.types import TaskBrief
from armbench.tasks.packs import Pack
from armbench.tasks.single_shot import single_shot_brief
from armbench.tasks.spec import Task

CacheTtl = Literal["5m", "1h"]


class InvalidRequest(ValueError):
    """A request the wire layer cannot turn into a `ModelRequest`; answered with a 400 in the
    API's own error shape. `param` names the offending field where known."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class BrainCall:
    """What one HTTP request asks the brain, in armbench's vocabulary."""

    model: str
    request: ModelRequest
    ttl: CacheTtl | None = None
    """The cache TTL the request's markers ask for (None: the default, 5 minutes)."""


@dataclass(frozen=True)
class Answer:
    content: tuple[Block, ...]
    usage: Usage
    stop_reason: Literal["end_turn", "tool_use"]


def _overlay(task: Task, relative: str | None, *, suffix: str = "") -> dict[str, str]:
    """Text of the files of one of the task's folders, by workspace-relative path."""
    if relative is None:
        return {}
    folder = task.resolve(relative)
    return {
        rel: (folder / rel).read_text(encoding="utf-8")
        for rel in iter_files(folder)
        if rel.endswith(suffix)
    }


def brief_for(task: Task) -> TaskBrief:
    """What the sim is told about `task` when it cannot see the trial that prepared it.

    An overlay solution is known in full. Injected breakage is not: the server never learns
    which files a trial's injection broke, so the sim is offered the pristine text of every
    Python file and restores the ones the check output names.
    """
    spec = task.spec
    solution: dict[str, str | None] = dict(_overlay(task, spec.solution.overlay))
    solution.update(dict.fromkeys(spec.solution.delete))
    restorable: dict[str, str] = {}
    if spec.solution.restore_injected:
        restorable = _overlay(task, spec.fixture, suffix=".py")
        restorable.update(_overlay(task, spec.prepare.overlay, suffix=".py"))
    return TaskBrief(solution=solution, check_commands=spec.check_commands, restorable=restorable)


def first_user_text(request: ModelRequest) -> str:
    for message in request.messages:
        if message.role == "user":
            return message.text
    return ""


def end_of_prompt(request: ModelRequest) -> tuple[CacheBreakpoint, ...]:
    """A breakpoint on the prompt's last block (none for an empty prompt): where Anthropic's
    top-level `cache_control` puts its marker, and where OpenAI's automatic caching ends."""
    for m in range(len(request.messages) - 1, -1, -1):
        if request.messages[m].content:
            last = len(request.messages[m].content) - 1
            return (CacheBreakpoint(where="message", message_index=m, block_index=last),)
    if request.system:
        return (CacheBreakpoint(where="system"),)
    return (CacheBreakpoint(where="tools"),) if request.tools else ()


class Brain:
    """Answers `BrainCall`s as the sim would; thread-safe."""

    def __init__(
        self,
        *,
        pack: Pack | None,
        default_skill: float = 0.9,
        model_skills: Mapping[str, float] | None = None,
        seed: int = 0,
        reasoning_tokens: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._briefs = {
            t.spec.prompt.strip(): brief_for(t) if isinstance(t, Task) else single_shot_brief(t)
            for t in (pack.tasks if pack else ())
        }
        self._default_skill = default_skill
        self._model_skills = dict(model_skills or {})
        self._seed = seed
        self._reasoning_tokens = reasoning_tokens
        self._clock = clock
        self._accounting: dict[str, SimAccounting] = {}
        self._lock = threading.Lock()
        for model in [None, *self._model_skills]:
            self._settings(model or "default")  # refuse a bad skill now, not on a request

    def _settings(self, model: str) -> SimModelConfig:
        return SimModelConfig(
            provider="sim",
            model=model,
            skill=self._model_skills.get(model, self._default_skill),
            reasoning_tokens_per_call=self._reasoning_tokens,
        )

    def accounting(self, model: str) -> SimAccounting:
        """The shared usage model (and prompt cache) of `model`."""
        with self._lock:
            if model not in self._accounting:
                self._accounting[model] = SimAccounting(self._settings(model))
            return self._accounting[model]

    def brief(self, request: ModelRequest) -> TaskBrief:
        """The brief of the task whose prompt opens the conversation (a single-shot prompt may
        be followed by the execution contract); empty if none does."""
        opening = first_user_text(request).strip()
        for prompt, brief in self._briefs.items():
            if opening == prompt or opening.startswith(prompt + "\n"):
                return brief
        return TaskBrief()

    def answer(self, call: BrainCall, *, call_id: str) -> Answer:
        """The sim's next turn in `call.request`'s conversation, and what it costs.

        The role is read from what the request is: an executor's or an orchestrator's system
        prompt, the router's, or a task prompt with no tools (a single-shot completion).
        """
        request = call.request
        accounting = self.accounting(call.model)
        settings = accounting.settings
        opening = first_user_text(request)
        seed = derive_seed(self._seed, call.model, opening)
        if request.system.startswith(ROUTER_SYSTEM):
            rng = random.Random(derive_seed(seed, len(request.messages)))
            content: tuple[Block, ...] = (
                TextBlock(text=route_answer(request, settings.skill, rng)),
            )
        elif not request.tools and (brief := self.brief(request)).solution:
            contract = CONTRACT in opening
            text = single_shot_answer(
                brief, contract=contract, skill=settings.skill, rng=random.Random(seed)
            )
            content = (TextBlock(text=text),)
        else:
            role: SimRole = "solo"
            brief = self.brief(request)
            if request.system.startswith(EXECUTOR_SYSTEM):
                role, brief = "executor", parse_instruction(opening)
            elif request.system.startswith(ORCHESTRATOR_SYSTEM):
                role = "orchestrator"
            action = replay(
                settings,
                brief,
                seed,
                observations(request),
                role=role,
                can_edit=can_edit(request),
            )
            content = render(action, call_id=call_id)
        usage, _ = accounting.account(call.request, content, self._clock(), ttl=call.ttl)
        calls = any(isinstance(b, ToolUseBlock) for b in content)
        return Answer(content=content, usage=usage, stop_reason="tool_use" if calls else "end_turn")
