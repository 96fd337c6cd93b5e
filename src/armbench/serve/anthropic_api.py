"""The Anthropic Messages API wire format (`POST /v1/messages`, `/v1/messages/count_tokens`).

Requests become `BrainCall`s: `cache_control` markers on tool definitions, system blocks and
message blocks become `CacheBreakpoint`s (a marker on any tool or any system block marks the
end of that whole section, which is where armbench puts them; the top-level `cache_control`
marks the prompt's last block), and a marker with `"ttl": "1h"` makes the request's cache
writes one-hour writes (all of them: mixed TTLs are not modelled). Responses and errors follow
the shapes the official SDK parses (`anthropic.types.Message`, the `{"type": "error", ...}`
envelope), so armbench's Anthropic provider can be exercised over real HTTP without the real
service. A streamed answer is this same body cut into events (`armbench.serve.streaming`).
"""

from __future__ import annotations

import uuid
from typing import Any

from armbench.core import (
    Block,
    CacheBreakpoint,
    Message,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from armbench.serve.brain import Answer, BrainCall, CacheTtl, InvalidRequest, end_of_prompt
from armbench.serve.streaming import Event, anthropic_events

MAX_BREAKPOINTS = 4

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_MESSAGES = {
    401: "invalid x-api-key",
    402: "Your credit balance is too low to access the Anthropic API.",
    403: "Your API key does not have permission to use the specified resource.",
    404: "The requested resource could not be found.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "This request would exceed the rate limit for your organization (simulated).",
    500: "Internal server error (simulated).",
    529: "Overloaded (simulated).",
}

Markers = list[tuple[CacheBreakpoint, CacheTtl]]


def _fail(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(f"{param}: {message}" if param else message, param)


def _marker(raw: Any, where: str, markers: Markers, breakpoint: CacheBreakpoint) -> None:
    """Record `raw` (a block's `cache_control`, possibly absent) as a breakpoint."""
    if raw is None:
        return
    if not isinstance(raw, dict) or raw.get("type") != "ephemeral":
        raise _fail('cache_control must be {"type": "ephemeral"}', f"{where}.cache_control")
    ttl = raw.get("ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise _fail("ttl must be '5m' or '1h'", f"{where}.cache_control.ttl")
    markers.append((breakpoint, ttl))


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise _fail("must be a string", where)
    return raw


def _system(raw: Any, markers: Markers) -> str:
    if raw is None or isinstance(raw, str):
        return raw or ""
    if not isinstance(raw, list):
        raise _fail("must be a string or a list of text blocks", "system")
    texts = []
    for index, block in enumerate(raw):
        where = f"system.{index}"
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _fail("system blocks must be text blocks", where)
        texts.append(_text(block.get("text"), f"{where}.text"))
        _marker(block.get("cache_control"), where, markers, CacheBreakpoint(where="system"))
    return "\n\n".join(texts)


def _tools(raw: Any, markers: Markers) -> tuple[ToolSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail("must be a list", "tools")
    tools = []
    for index, tool in enumerate(raw):
        where = f"tools.{index}"
        if not isinstance(tool, dict) or not isinstance(tool.get("input_schema"), dict):
            raise _fail("the sim server supports custom tools with an input_schema", where)
        tools.append(
            ToolSpec(
                name=_text(tool.get("name"), f"{where}.name"),
                description=_text(tool.get("description", ""), f"{where}.description"),
                input_schema=tool["input_schema"],
            )
        )
        _marker(tool.get("cache_control"), where, markers, CacheBreakpoint(where="tools"))
    return tuple(tools)


def _tool_result_text(raw: Any, where: str) -> str:
    if raw is None or isinstance(raw, str):
        return raw or ""
    if isinstance(raw, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in raw):
        return "\n".join(_text(b.get("text"), f"{where}.text") for b in raw)
    raise _fail("must be a string or a list of text blocks", where)


def _block(raw: Any, where: str) -> Block:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return TextBlock(text=_text(raw.get("text"), f"{where}.text"))
    if kind == "tool_use":
        if not isinstance(raw.get("input"), dict):
            raise _fail("must be an object", f"{where}.input")
        return ToolUseBlock(
            id=_text(raw.get("id"), f"{where}.id"),
            name=_text(raw.get("name"), f"{where}.name"),
            input=raw["input"],
        )
    if kind == "tool_result":
        return ToolResultBlock(
            tool_use_id=_text(raw.get("tool_use_id"), f"{where}.tool_use_id"),
            content=_tool_result_text(raw.get("content"), f"{where}.content"),
            is_error=bool(raw.get("is_error", False)),
        )
    raise _fail("the sim server supports text, tool_use and tool_result blocks", f"{where}.type")


def _messages(raw: Any, markers: Markers) -> tuple[Message, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail("Field required (a non-empty list)", "messages")
    messages = []
    for m, item in enumerate(raw):
        where = f"messages.{m}"
        role = item.get("role") if isinstance(item, dict) else None
        if role == "system":  # Claude Code sends its reminders so for models it does not know
            role = "user"
        if role not in ("user", "assistant"):
            raise _fail("must be 'user', 'assistant' or 'system'", f"{where}.role")
        content = item.get("content")
        if isinstance(content, str):
            messages.append(Message(role=role, content=(TextBlock(text=content),)))
            continue
        if not isinstance(content, list):
            raise _fail("must be a string or a list of blocks", f"{where}.content")
        blocks = []
        for b, block in enumerate(content):
            blocks.append(_block(block, f"{where}.content.{b}"))
            _marker(
                block.get("cache_control"),
                f"{where}.content.{b}",
                markers,
                CacheBreakpoint(where="message", message_index=m, block_index=b),
            )
        messages.append(Message(role=role, content=tuple(blocks)))
    return tuple(messages)


def parse_request(body: Any, *, counting: bool = False) -> BrainCall:
    """The brain's view of a Messages API request body, or InvalidRequest.

    `counting`: the body asks `count_tokens`, which takes the same prompt without `max_tokens`
    and is never streamed.
    """
    if not isinstance(body, dict):
        raise _fail("the request body must be a JSON object")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _fail("must be a boolean", "stream")
    if counting and stream:
        raise _fail("Extra inputs are not permitted", "stream")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _fail("Field required", "model")
    max_tokens = 1 if counting else body.get("max_tokens")  # a count generates nothing
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _fail("Field required (a positive integer)", "max_tokens")
    markers: Markers = []
    tools = _tools(body.get("tools"), markers)
    system = _system(body.get("system"), markers)
    messages = _messages(body.get("messages"), markers)
    automatic = ModelRequest(system=system, messages=messages, tools=tools)
    for breakpoint in end_of_prompt(automatic):  # top-level cache_control: the prompt's end
        _marker(body.get("cache_control"), "cache_control", markers, breakpoint)
    if len(markers) > MAX_BREAKPOINTS:
        raise _fail(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(markers)}."
        )
    request = automatic.model_copy(
        update={"cache_breakpoints": tuple(bp for bp, _ in markers), "max_tokens": max_tokens}
    )
    ttl: CacheTtl | None = "1h" if any(t == "1h" for _, t in markers) else None
    return BrainCall(model=model, request=request, ttl=ttl, stream=stream)


def _content_json(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    raise ValueError("the sim never answers with a tool result")


class AnthropicWire:
    """The Messages API as one of the server's wire formats."""

    name = "anthropic"
    path = "/v1/messages"
    sdk_path = ""
    """What the SDK's base_url adds to the server's root (it appends `/v1/messages` itself)."""
    request_id_header = "request-id"
    count_path: str | None = "/v1/messages/count_tokens"

    @staticmethod
    def new_request_id() -> str:
        return f"req_{uuid.uuid4().hex[:24]}"

    @staticmethod
    def new_call_id() -> str:
        return f"toolu_{uuid.uuid4().hex[:24]}"

    @staticmethod
    def parse(body: Any) -> BrainCall:
        return parse_request(body)

    @staticmethod
    def parse_count(body: Any) -> BrainCall:
        return parse_request(body, counting=True)

    @staticmethod
    def count_body(input_tokens: int) -> dict[str, Any]:
        return {"input_tokens": input_tokens}

    @staticmethod
    def stream_events(call: BrainCall, body: dict[str, Any]) -> list[Event]:
        return anthropic_events(body)

    @staticmethod
    def reported(usage: Usage) -> Usage:
        """The Messages API reports all six kinds as they are."""
        return usage

    @staticmethod
    def response_body(call: BrainCall, answer: Answer, request_id: str) -> dict[str, Any]:
        usage = answer.usage
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": call.model,
            "content": [_content_json(b) for b in answer.content],
            "stop_reason": answer.stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage.input,
                "output_tokens": usage.output,
                "cache_creation_input_tokens": usage.cache_write_5m + usage.cache_write_1h,
                "cache_read_input_tokens": usage.cache_read,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": usage.cache_write_5m,
                    "ephemeral_1h_input_tokens": usage.cache_write_1h,
                },
                "output_tokens_details": {"thinking_tokens": usage.reasoning},
                "service_tier": "standard",
            },
        }

    @staticmethod
    def error_body(
        status: int,
        message: str | None,
        error_type: str | None,
        request_id: str,
        param: str | None = None,
    ) -> dict[str, Any]:
        fallback = "api_error" if status >= 500 else "invalid_request_error"
        kind = error_type or ERROR_TYPES.get(status, fallback)
        return {
            "type": "error",
            "error": {"type": kind, "message": message or _MESSAGES.get(status, kind)},
            "request_id": request_id,
        }
