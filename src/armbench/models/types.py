"""The model-facing vocabulary: messages, tools, requests, responses, usage.

Content is a list of typed blocks (text, tool_use, tool_result) — the Anthropic shape, which
maps onto OpenAI's tool_calls losslessly — so transcripts serialise as-is and every provider
translates at its own edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field

TokenKind = Literal[
    "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "reasoning"
]
TOKEN_KINDS: tuple[TokenKind, ...] = (
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "reasoning",
)

Role = Literal["solo", "orchestrator", "executor", "router", "single_shot"]
ROLES: tuple[Role, ...] = get_args(Role)
"""Every role, in the order tables show them."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Frozen):
    """Tokens of one call in the six kinds. `input` excludes cached tokens; `reasoning` is the
    part of `output` spent reasoning (reported where a provider reports it, never priced twice)."""

    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0
    reasoning: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in TOKEN_KINDS})

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: uncached input, cache writes and cache reads."""
        return self.input + self.cache_write_5m + self.cache_write_1h + self.cache_read

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in TOKEN_KINDS}


class TextBlock(_Frozen):
    type: Literal["text"] = "text"
    text: str


class ToolUseBlock(_Frozen):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


class ToolResultBlock(_Frozen):
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str
    is_error: bool = False


Block = Annotated[TextBlock | ToolUseBlock | ToolResultBlock, Field(discriminator="type")]


class Message(_Frozen):
    role: Literal["user", "assistant"]
    content: tuple[Block, ...]

    @classmethod
    def user_text(cls, text: str) -> Message:
        return cls(role="user", content=(TextBlock(text=text),))

    @property
    def tool_uses(self) -> tuple[ToolUseBlock, ...]:
        return tuple(b for b in self.content if isinstance(b, ToolUseBlock))

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


UNPARSED_ARGUMENTS = "__unparsed_arguments__"
"""The input key of a tool call whose arguments the model did not write as a JSON object."""


class ToolSpec(_Frozen):
    """A tool as offered to the model: a name, what it does, a JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


class CacheBreakpoint(_Frozen):
    """The end of a cacheable prompt prefix, in the provider's prefix order: tools, system,
    then message blocks."""

    where: Literal["tools", "system", "message"]
    message_index: int = 0
    block_index: int = 0


class ModelRequest(_Frozen):
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    cache_breakpoints: tuple[CacheBreakpoint, ...] = ()
    max_tokens: int = 8192


SIMULATED_HEADER = "x-armbench-simulated"
"""Response header by which armbench's serve-sim says its answers come from the sim."""


class ModelResponse(_Frozen):
    content: tuple[Block, ...]
    stop_reason: Literal["end_turn", "tool_use", "max_tokens"]
    usage: Usage
    latency_s: float
    latency_simulated: bool
    model_id: str
    """The model id the provider says answered (may differ from the one asked for)."""
    request_id: str | None = None
    simulated: bool = False
    """The answer came from a simulated model — in process, or behind serve-sim."""
    block_usage: dict[tuple[int, int], Usage] | None = Field(default=None, exclude=True)
    """How each (message, block) of the request was billed, when the model knows exactly (the
    sim does); None otherwise, and delegation tax is then estimated from the blocks' share."""

    @property
    def tool_uses(self) -> tuple[ToolUseBlock, ...]:
        return tuple(b for b in self.content if isinstance(b, ToolUseBlock))


InfraClass = Literal[
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "quota",
    "malformed_response",
    "sandbox",
    "harness",
]


RETRYABLE: frozenset[InfraClass] = frozenset(
    {"rate_limit", "overloaded", "server_error", "timeout", "connection", "malformed_response"}
)
"""Failures that may pass if the same request is sent again."""
FATAL: frozenset[InfraClass] = frozenset({"auth", "quota"})
"""Failures that every further call would meet too: they stop the whole run."""


class ModelError(Exception):
    """A call that produced no usable response; never the model's fault on the task."""

    def __init__(
        self,
        message: str,
        infra_class: InfraClass,
        usage: Usage | None = None,
        *,
        retry_after_s: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.infra_class: InfraClass = infra_class
        self.usage = usage or Usage()
        """Tokens the failed attempt was billed for, when the provider said."""
        self.retry_after_s = retry_after_s
        """How long the server asked us to wait, if it did."""
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        return self.infra_class in RETRYABLE

    @property
    def fatal(self) -> bool:
        return self.infra_class in FATAL


SIMULATED_PROVIDERS = frozenset({"sim", "script"})
"""Providers whose models are simulated: their results are labelled so, and only a rate card
can say what their tokens should cost."""


class ModelIdentity(_Frozen):
    """Who a model is for pricing and provenance."""

    provider: str
    model: str
    simulated: bool

    @property
    def price_key(self) -> str:
        return f"{self.provider}/{self.model}"


class Model(Protocol):
    """One conversation partner. Implementations may keep per-trial state (a prompt cache)."""

    @property
    def identity(self) -> ModelIdentity: ...

    def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer one request, or raise ModelError with its infra class."""
        ...


@dataclass(frozen=True)
class TaskBrief:
    """What a simulated model is handed about its task. Real models never see this."""

    solution: Mapping[str, str | None] = field(default_factory=dict)
    """The reference solution: final content of each file it changes (None: deleted)."""
    check_commands: tuple[str, ...] = ()
    """The commands the task's prompt says to run."""
    restorable: Mapping[str, str] = field(default_factory=dict)
    """Pristine contents the sim restores a file to once check output names it (for breakage
    it was not told about, e.g. when it plays behind an HTTP server)."""
