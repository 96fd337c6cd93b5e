"""The sim coder behind HTTP: stateless, because every request carries the whole conversation.

A request names no task and no trial, so the brain works out both from what it is sent: the
brief from the first user message (the task's prompt, looked up in the pack), the seed from the
server's seed, the model name and that prompt, and the position in the conversation from the
tool results so far (`armbench.sim.replay`). The same conversation therefore gets the
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

from armbench.config import SimModelConfig
from armbench.core import (
    Block,
    CacheBreakpoint,
    ModelRequest,
    TextBlock,
    ToolUseBlock,
    Usage,
    derive_seed,
)
from armbench.models.prompt_cache import linearize
from armbench.prompts import CONTRACT, PromptSet
from armbench.serve.aider_dialect import aider_answer, aider_style
from armbench.serve.dialects import dialect_of
from armbench.sim import (
    SimAccounting,
    SimRole,
    TaskBrief,
    cut_to_max_tokens,
    first_user_text,
    parse_instruction,
    replay,
    route_answer,
    single_shot_answer,
    single_shot_brief,
    task_brief,
)
from armbench.tasks import Pack, Task

CacheTtl = Literal["5m", "1h"]
StopReason = Literal["end_turn", "tool_use", "max_tokens"]
"""How an answer ended: the Messages API's names (Chat Completions maps them)."""


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
    stream: bool = False
    """Whether the client asked for server-sent events. That is how the answer travels, not
    what it is: the brain never reads it, so a streamed answer is the one a plain call gets."""
    stream_usage: bool = False
    """Whether a stream ends with the usage: OpenAI's `stream_options.include_usage` (an
    Anthropic stream always carries it)."""


@dataclass(frozen=True)
class Answer:
    content: tuple[Block, ...]
    usage: Usage
    stop_reason: StopReason


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
        brief: TaskBrief | None = None,
        models: Mapping[str, SimModelConfig] | None = None,
        default_skill: float = 0.9,
        model_skills: Mapping[str, float] | None = None,
        seed: int = 0,
        reasoning_tokens: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._briefs = {
            t.spec.prompt.strip(): task_brief(t) if isinstance(t, Task) else single_shot_brief(t)
            for t in (pack.tasks if pack else ())
        }
        self._brief = brief
        self._models = dict(models or {})
        self._prompts = PromptSet()
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
        if model in self._models:
            return self._models[model]
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
        be followed by the execution contract); empty if none does. A brain made for one task
        (`brief`) plays that task whatever the conversation opens with: an external agent wraps
        the task's prompt in its own."""
        if self._brief is not None:
            return self._brief
        opening = first_user_text(request).strip()
        for prompt, brief in self._briefs.items():
            if opening == prompt or opening.startswith(prompt + "\n"):
                return brief
        return TaskBrief()

    @staticmethod
    def input_tokens(request: ModelRequest) -> int:
        """The tokens `request`'s prompt counts, however a cache would split them between
        input, writes and reads: a token count's answer. Touches no cache, so counting a
        prompt first does not make its call a cache hit."""
        segments, _ = linearize(request)
        return sum(segment.tokens for segment in segments)

    def answer(self, call: BrainCall, *, call_id: str) -> Answer:
        """The sim's next turn in `call.request`'s conversation, and what it costs.

        The role is read from what the request is, by the prompt registry: the system prompt of
        an executor, an orchestrator or the router, or a task prompt with no tools (a
        single-shot completion, under the execution contract when its text is one).
        """
        request = call.request
        accounting = self.accounting(call.model)
        settings = accounting.settings
        opening = first_user_text(request)
        seed = derive_seed(self._seed, call.model, opening)
        role = self._prompts.role_of(request.system)
        if role == "router":
            rng = random.Random(derive_seed(seed, len(request.messages)))
            content: tuple[Block, ...] = (
                TextBlock(text=route_answer(request, settings.skill, rng)),
            )
        elif (style := aider_style(request)) is not None:
            answer = aider_answer(style, request, self.brief(request), settings.skill, seed)
            content = (TextBlock(text=answer),)
        elif not request.tools and (brief := self.brief(request)).solution:
            asked = self._prompts.identify(opening)
            contract = asked is not None and asked.id == CONTRACT
            text = single_shot_answer(
                brief, contract=contract, skill=settings.skill, rng=random.Random(seed)
            )
            content = (TextBlock(text=text),)
        else:
            coder: SimRole = "solo"
            brief = self.brief(request)
            if role == "executor":
                coder, brief = "executor", parse_instruction(opening)
            elif role == "orchestrator":
                coder = "orchestrator"
            dialect = dialect_of(request)
            action = replay(
                settings,
                brief,
                seed,
                dialect.observations(request),
                role=coder,
                can_edit=dialect.can_edit(request),
                max_output_tokens=request.max_tokens,
            )
            content = dialect.render(action, call_id, request)
        content, cut = cut_to_max_tokens(content, request.max_tokens, settings)
        usage, _ = accounting.account(call.request, content, self._clock(), ttl=call.ttl)
        calls = any(isinstance(b, ToolUseBlock) for b in content)
        stop: StopReason = "max_tokens" if cut else "tool_use" if calls else "end_turn"
        return Answer(content=content, usage=usage, stop_reason=stop)
