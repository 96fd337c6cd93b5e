"""The OpenAI Chat Completions wire format (`POST /v1/chat/completions`).

Chat messages become armbench's block-structured conversation: system and developer messages
form the system prompt, an assistant's `tool_calls` become tool_use blocks (arguments parsed
from their JSON string), and each run of consecutive `tool` messages becomes one user message
of tool_result blocks — the shape the sim and the prompt-cache model expect.

OpenAI caches prompt prefixes automatically and bills writes as ordinary input, so every
request gets one breakpoint at the end of its prompt (the cache's lookback finds the previous
request's end) and usage is reported OpenAI's way: `prompt_tokens` counts everything read,
`cached_tokens` the part read from cache.

Chat Completions has no error flag on tool results. armbench's toolbox starts a failed call's
text with `error:`, so such a result is read back as an error — the sim relies on it to tell
that a file it viewed does not exist yet.

A streamed answer is the same completion cut into chunks (`armbench.serve.streaming`).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from armbench.core import (
    Block,
    Message,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from armbench.serve.brain import Answer, BrainCall, InvalidRequest, end_of_prompt
from armbench.serve.streaming import Event, openai_chunks

ERROR_PREFIX = "error:"
FINISH = {"tool_use": "tool_calls", "end_turn": "stop", "max_tokens": "length"}
DEFAULT_MAX_TOKENS = 32_000
"""An answer's cap when the request sets none (aider and mini-swe-agent set none): the API then
lets a model write up to its own output limit, tens of thousands of tokens for current models."""
"""Chat Completions' `finish_reason` for each way an answer ends."""
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

# status -> (type, code, message)
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (simulated)."),
    500: ("server_error", None, "The server had an error processing your request (simulated)."),
    503: ("server_error", None, "The engine is currently overloaded (simulated)."),
}
_QUOTA = "You exceeded your current quota (simulated)."


def _fail(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(f"{param}: {message}" if param else message, param)


def _text(raw: Any, where: str, *, optional: bool = False) -> str:
    """A message's text: a string, or a list of text parts (joined)."""
    if raw is None and optional:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in raw):
        texts = [p.get("text") for p in raw]
        if all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    raise _fail("must be a string or a list of text parts", where)


def _arguments(raw: Any, where: str) -> dict[str, Any]:
    """A tool call's arguments; a string that is not a JSON object is kept whole, as the real
    API does not validate what a model generated either."""
    if not isinstance(raw, str):
        raise _fail("must be a JSON string", where)
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {"_raw_arguments": raw}
    return parsed if isinstance(parsed, dict) else {"_raw_arguments": raw}


def _assistant(item: dict[str, Any], where: str) -> Message:
    blocks: list[Block] = []
    text = _text(item.get("content"), f"{where}.content", optional=True)
    if text:
        blocks.append(TextBlock(text=text))
    calls = item.get("tool_calls") or []
    if not isinstance(calls, list):
        raise _fail("must be a list", f"{where}.tool_calls")
    for c, call in enumerate(calls):
        at = f"{where}.tool_calls.{c}"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or call.get("type", "function") != "function":
            raise _fail("must be a function call", at)
        blocks.append(
            ToolUseBlock(
                id=_text(call.get("id"), f"{at}.id"),
                name=_text(function.get("name"), f"{at}.function.name"),
                input=_arguments(function.get("arguments"), f"{at}.function.arguments"),
            )
        )
    return Message(role="assistant", content=tuple(blocks))


def _tool_result(item: dict[str, Any], where: str) -> ToolResultBlock:
    text = _text(item.get("content"), f"{where}.content")
    return ToolResultBlock(
        tool_use_id=_text(item.get("tool_call_id"), f"{where}.tool_call_id"),
        content=text,
        is_error=text.startswith(ERROR_PREFIX),
    )


def _conversation(raw: Any) -> tuple[str, tuple[Message, ...]]:
    if not isinstance(raw, list) or not raw:
        raise _fail("Field required (a non-empty list)", "messages")
    system: list[str] = []
    messages: list[Message] = []
    results: list[ToolResultBlock] = []
    for m, item in enumerate(raw):
        where = f"messages.{m}"
        role = item.get("role") if isinstance(item, dict) else None
        if role != "tool" and results:
            messages.append(Message(role="user", content=tuple(results)))
            results = []
        if role in ("system", "developer"):
            system.append(_text(item.get("content"), f"{where}.content"))
        elif role == "user":
            messages.append(Message.user_text(_text(item.get("content"), f"{where}.content")))
        elif role == "assistant":
            messages.append(_assistant(item, where))
        elif role == "tool":
            results.append(_tool_result(item, where))
        else:
            raise _fail("must be system, developer, user, assistant or tool", f"{where}.role")
    if results:
        messages.append(Message(role="user", content=tuple(results)))
    return "\n\n".join(system), tuple(messages)


def _tools(raw: Any) -> tuple[ToolSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail("must be a list", "tools")
    tools = []
    for index, tool in enumerate(raw):
        where = f"tools.{index}"
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            raise _fail("the sim server supports function tools", where)
        schema = function.get("parameters", _EMPTY_SCHEMA)
        if not isinstance(schema, dict):
            raise _fail("must be a JSON schema object", f"{where}.function.parameters")
        tools.append(
            ToolSpec(
                name=_text(function.get("name"), f"{where}.function.name"),
                description=_text(function.get("description", ""), f"{where}.function.description"),
                input_schema=schema,
            )
        )
    return tuple(tools)


def _streaming(body: dict[str, Any]) -> tuple[bool, bool]:
    """Whether to stream, and whether the stream ends with the usage; the API refuses
    `stream_options` on a call that does not stream."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _fail("must be a boolean", "stream")
    options = body.get("stream_options")
    if options is None:
        return bool(stream), False
    if not stream:
        raise _fail("only allowed when 'stream' is enabled", "stream_options")
    include = options.get("include_usage", False) if isinstance(options, dict) else None
    if not isinstance(include, bool):
        raise _fail("must be a boolean", "stream_options.include_usage")
    return True, include


def parse_request(body: Any) -> BrainCall:
    """The brain's view of a Chat Completions request body, or InvalidRequest."""
    if not isinstance(body, dict):
        raise _fail("the request body must be a JSON object")
    stream, stream_usage = _streaming(body)
    if body.get("n", 1) != 1:
        raise _fail("the sim server answers with exactly one choice", "n")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _fail("Field required", "model")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _fail("must be a positive integer", "max_completion_tokens")
    system, messages = _conversation(body.get("messages"))
    request = ModelRequest(
        system=system,
        messages=messages,
        tools=_tools(body.get("tools")),
        max_tokens=limit or DEFAULT_MAX_TOKENS,
    )
    request = request.model_copy(update={"cache_breakpoints": end_of_prompt(request)})
    return BrainCall(model=model, request=request, stream=stream, stream_usage=stream_usage)


class OpenAIWire:
    """Chat Completions as one of the server's wire formats."""

    name = "openai"
    path = "/v1/chat/completions"
    sdk_path = "/v1"
    """What the SDK's base_url adds to the server's root (it appends `/chat/completions`)."""
    request_id_header = "x-request-id"
    count_path: str | None = None
    """Chat Completions has no endpoint that counts a prompt's tokens."""

    @staticmethod
    def new_request_id() -> str:
        return f"req_{uuid.uuid4().hex}"

    @staticmethod
    def new_call_id() -> str:
        return f"call_{uuid.uuid4().hex[:24]}"

    @staticmethod
    def parse(body: Any) -> BrainCall:
        return parse_request(body)

    @staticmethod
    def parse_count(body: Any) -> BrainCall:
        """Never asked: with no `count_path`, the server routes no count here."""
        raise InvalidRequest("Chat Completions cannot count tokens")

    @staticmethod
    def count_body(input_tokens: int) -> dict[str, Any]:
        """Never asked, as `parse_count`."""
        raise ValueError("Chat Completions cannot count tokens")

    @staticmethod
    def stream_events(call: BrainCall, body: dict[str, Any]) -> list[Event]:
        return openai_chunks(body, include_usage=call.stream_usage)

    @staticmethod
    def reported(usage: Usage) -> Usage:
        """Chat Completions has no cache writes: they are reported (and billed) as input."""
        return Usage(
            input=usage.prompt_tokens - usage.cache_read,
            output=usage.output,
            cache_read=usage.cache_read,
            reasoning=usage.reasoning,
        )

    @staticmethod
    def response_body(call: BrainCall, answer: Answer, request_id: str) -> dict[str, Any]:
        text = "\n".join(b.text for b in answer.content if isinstance(b, TextBlock))
        calls = [
            {
                "id": b.id,
                "type": "function",
                "function": {"name": b.name, "arguments": json.dumps(b.input)},
            }
            for b in answer.content
            if isinstance(b, ToolUseBlock)
        ]
        message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        usage = answer.usage
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": FINISH[answer.stop_reason],
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.output,
                "total_tokens": usage.prompt_tokens + usage.output,
                "prompt_tokens_details": {"cached_tokens": usage.cache_read, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": usage.reasoning,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "armbench-sim",
        }

    @staticmethod
    def error_body(
        status: int,
        message: str | None,
        error_type: str | None,
        request_id: str,
        param: str | None = None,
    ) -> dict[str, Any]:
        kind, code, default = _ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
        )
        if error_type is not None:
            kind, code = error_type, error_type
            if error_type == "insufficient_quota":
                default = _QUOTA
        error = {"message": message or default, "type": kind, "param": param, "code": code}
        return {"error": error}
