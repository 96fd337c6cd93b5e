"""What the server needs of a wire format, and the two it speaks.

The server routes, applies faults, asks the brain and sends bytes; everything about how one
provider's API shapes a request, an answer, a stream or an error lives behind `WireApi`.
"""

from __future__ import annotations

from typing import Any, Protocol

from armbench.core import Usage
from armbench.serve.anthropic_api import AnthropicWire
from armbench.serve.brain import Answer, BrainCall
from armbench.serve.openai_api import OpenAIWire
from armbench.serve.streaming import Event


class WireApi(Protocol):
    """One provider's HTTP shape: where requests go, how they parse, how answers look."""

    name: str
    path: str
    sdk_path: str
    request_id_header: str
    count_path: str | None
    """Where the API counts a prompt's tokens without answering it (None: it cannot)."""

    def new_request_id(self) -> str: ...
    def new_call_id(self) -> str: ...
    def parse(self, body: Any) -> BrainCall: ...
    def parse_count(self, body: Any) -> BrainCall: ...
    def count_body(self, input_tokens: int) -> dict[str, Any]: ...
    def response_body(self, call: BrainCall, answer: Answer, request_id: str) -> dict[str, Any]: ...
    def stream_events(self, call: BrainCall, body: dict[str, Any]) -> list[Event]:
        """`body` (a `response_body`) as the events the API streams instead of it."""
        ...

    def reported(self, usage: Usage) -> Usage:
        """`usage` in the six kinds as this wire format reports it to a client."""
        ...

    def error_body(
        self,
        status: int,
        message: str | None,
        error_type: str | None,
        request_id: str,
        param: str | None = None,
    ) -> dict[str, Any]: ...


WIRES: dict[str, WireApi] = {"anthropic": AnthropicWire(), "openai": OpenAIWire()}
