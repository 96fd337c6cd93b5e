"""The model-facing vocabulary: messages, tools, requests and responses.

Content is a list of typed blocks (text, tool_use, tool_result) — the Anthropic shape, which
maps onto OpenAI's tool_calls losslessly — so transcripts serialise as-is and every provider
translates at its own edge.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from armbench.core.tokens import Usage


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


SIMULATED_PROVIDERS = frozenset({"sim", "script"})
"""Providers whose models are simulated: their results are labelled so, and only a rate card
can say what their tokens should cost."""
