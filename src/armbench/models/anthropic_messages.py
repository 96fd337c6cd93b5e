"""`anthropic`: a model behind Anthropic's Messages API, through the official SDK.

Prompt caching follows the request's breakpoints (the tool definitions, the system block, the
last block of the latest user message, as configured). Usage is normalised to the six token
kinds: Anthropic's `input_tokens` already excludes cached tokens; cache writes come with their
5-minute / 1-hour breakdown; thinking tokens are reported inside output. A response without
usage is a `malformed_response` infra error — never zero tokens.
"""

from __future__ import annotations

import time
from typing import Any

import anthropic

from armbench.config import AnthropicModelConfig
from armbench.core import (
    SIMULATED_HEADER,
    Block,
    CacheBreakpoint,
    ModelError,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolUseBlock,
)
from armbench.models.base import ModelIdentity
from armbench.models.http_errors import classify_status, retry_after_seconds
from armbench.models.usage import anthropic_usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
_BREAKPOINT_KINDS = {"tools": "tools", "system": "system", "message": "last_user"}


def make_client(settings: AnthropicModelConfig, api_key: str) -> anthropic.Anthropic:
    """An SDK client that never retries on its own (armbench's policy does, recording each
    attempt) and ignores ANTHROPIC_* variables other than the key it is handed."""
    return anthropic.Anthropic(
        api_key=api_key,
        base_url=settings.base_url or DEFAULT_BASE_URL,
        max_retries=0,
        timeout=settings.timeout_s,
        open_telemetry=False,
    )


def _cache_control(settings: AnthropicModelConfig) -> dict[str, str]:
    control = {"type": "ephemeral"}
    if settings.cache_ttl == "1h":
        control["ttl"] = "1h"
    return control


MAX_MARKERS = 4
"""The Messages API refuses a request with more `cache_control` markers than this."""


def _wanted(
    settings: AnthropicModelConfig, points: tuple[CacheBreakpoint, ...], count: int
) -> set[tuple[str, int, int]]:
    """The breakpoints to mark, as (where, message index ≥ 0, block index): the configured
    kinds, at most MAX_MARKERS — tools and system first, then the latest messages."""
    if not settings.cache:
        return set()
    marks = []
    for p in points:
        if _BREAKPOINT_KINDS[p.where] in settings.cache_breakpoints:
            index = p.message_index % count if p.where == "message" and count else 0
            marks.append((p.where, index, p.block_index if p.where == "message" else 0))
    fixed = [m for m in marks if m[0] != "message"]
    latest = sorted((m for m in marks if m[0] == "message"), key=lambda m: m[1], reverse=True)
    return set((fixed + latest)[:MAX_MARKERS])


def _block(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return {
        "type": "tool_result",
        "tool_use_id": block.tool_use_id,
        "content": block.content,
        "is_error": block.is_error,
    }


def build_request(request: ModelRequest, settings: AnthropicModelConfig) -> dict[str, Any]:
    """The `messages.create` arguments for `request`."""
    count = len(request.messages)
    marks = _wanted(settings, request.cache_breakpoints, count)
    control = _cache_control(settings)
    messages = []
    for m_index, message in enumerate(request.messages):
        blocks = []
        for b_index, block in enumerate(message.content):
            wire = _block(block)
            if ("message", m_index, b_index) in marks:
                wire["cache_control"] = control
            blocks.append(wire)
        messages.append({"role": message.role, "content": blocks})
    tools = [t.model_dump() for t in request.tools]
    if tools and ("tools", 0, 0) in marks:
        tools[-1]["cache_control"] = control
    system: list[dict[str, Any]] = (
        [{"type": "text", "text": request.system}] if request.system else []
    )
    if system and ("system", 0, 0) in marks:
        system[0]["cache_control"] = control
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": min(settings.max_tokens, request.max_tokens),
        "messages": messages,
    }
    if system:
        kwargs["system"] = system
    if tools:
        kwargs["tools"] = tools
    if settings.temperature is not None:
        # The 2.x SDK's `create` has no `temperature` parameter; the API still takes it.
        kwargs["extra_body"] = {"temperature": settings.temperature}
    return kwargs


def parse_response(
    message: Any, latency_s: float, requested_ttl: str, *, simulated: bool = False
) -> ModelResponse:
    content: list[Block] = []
    for block in getattr(message, "content", None) or ():
        if block.type == "text":
            content.append(TextBlock(text=block.text))
        elif block.type == "tool_use":
            content.append(ToolUseBlock(id=block.id, name=block.name, input=dict(block.input)))
    stop = message.stop_reason
    return ModelResponse(
        content=tuple(content),
        stop_reason="tool_use"
        if stop == "tool_use"
        else "max_tokens"
        if stop == "max_tokens"
        else "end_turn",
        usage=anthropic_usage(getattr(message, "usage", None), requested_ttl),
        latency_s=latency_s,
        latency_simulated=False,
        model_id=str(message.model),
        request_id=getattr(message, "_request_id", None),
        simulated=simulated,
    )


def translate_error(exc: anthropic.AnthropicError) -> ModelError:
    """The ModelError for anything the SDK raised."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ModelError(f"timed out: {exc}", "timeout")
    if isinstance(exc, anthropic.APIConnectionError):
        return ModelError(f"connection failed: {exc}", "connection")
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ModelError(f"malformed response: {exc}", "malformed_response")
    if isinstance(exc, anthropic.APIStatusError):
        infra = classify_status(exc.status_code, exc.type, exc.error_code, exc.api_message or "")
        return ModelError(
            f"HTTP {exc.status_code} {exc.type or ''}: {exc.api_message or exc.message}".strip(),
            infra,
            retry_after_s=retry_after_seconds(exc.response.headers),
            request_id=exc.request_id,
        )
    return ModelError(f"{type(exc).__name__}: {exc}", "malformed_response")


class AnthropicMessagesModel:
    def __init__(self, settings: AnthropicModelConfig, client: anthropic.Anthropic) -> None:
        self._settings = settings
        self._client = client
        self._identity = ModelIdentity(provider="anthropic", model=settings.model, simulated=False)

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        kwargs = build_request(request, self._settings)
        started = time.perf_counter()
        try:
            raw = self._client.messages.with_raw_response.create(**kwargs)
            return parse_response(
                raw.parse(),
                time.perf_counter() - started,
                self._settings.cache_ttl,
                simulated=SIMULATED_HEADER in raw.headers,
            )
        except anthropic.AnthropicError as exc:
            raise translate_error(exc) from exc
        except (ValueError, TypeError, AttributeError) as exc:  # undecodable or ill-shaped body
            raise ModelError(f"malformed response: {exc}", "malformed_response") from exc


class _Provider:
    def key_variable(self, settings: AnthropicModelConfig) -> tuple[str | None, bool]:
        return settings.api_key_env, True

    def client(self, settings: AnthropicModelConfig, api_key: str | None) -> anthropic.Anthropic:
        return make_client(settings, api_key or "")

    def model(
        self, name: str, settings: AnthropicModelConfig, client: anthropic.Anthropic
    ) -> AnthropicMessagesModel:
        return AnthropicMessagesModel(settings, client)


PROVIDER = _Provider()
