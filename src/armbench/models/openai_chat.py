"""`openai`: a model behind any OpenAI-compatible Chat Completions API, through the official SDK.

OpenAI's `prompt_tokens` include cached tokens, so uncached input is `prompt_tokens` minus
`prompt_tokens_details.cached_tokens`; caching is automatic and writes are billed as input;
`completion_tokens_details.reasoning_tokens` is the reasoning part of the output. Local servers
(Ollama, vLLM, LM Studio) need no key. Tool-call arguments that are not valid JSON are the
model's mistake, not an infra error: the agent gets them back as a tool error.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlparse

import openai

from armbench.config import OpenAIModelConfig
from armbench.core import (
    SIMULATED_HEADER,
    UNPARSED_ARGUMENTS,
    Block,
    ModelError,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from armbench.models.base import ModelIdentity
from armbench.models.http_errors import classify_status, retry_after_seconds
from armbench.models.usage import openai_usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "armbench-no-key"
"""Sent to servers that need no key: the SDK insists on some value."""
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def needs_key(settings: OpenAIModelConfig) -> bool:
    """Whether a missing key is an error: not for local models or loopback servers."""
    if settings.local or settings.api_key_env is None:
        return False
    host = urlparse(settings.base_url).hostname if settings.base_url else None
    return host not in _LOOPBACK


def make_client(settings: OpenAIModelConfig, api_key: str | None) -> openai.OpenAI:
    """An SDK client that never retries on its own (armbench's policy does, recording each
    attempt) and talks to the configured endpoint, not one from OPENAI_BASE_URL."""
    return openai.OpenAI(
        api_key=api_key or NO_KEY,
        base_url=settings.base_url or DEFAULT_BASE_URL,
        max_retries=0,
        timeout=settings.timeout_s,
    )


def build_request(request: ModelRequest, settings: OpenAIModelConfig) -> dict[str, Any]:
    """The `chat.completions.create` arguments for `request`."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        texts = [b.text for b in message.content if isinstance(b, TextBlock)]
        if message.role == "assistant":
            calls = [
                {
                    "id": b.id,
                    "type": "function",
                    "function": {"name": b.name, "arguments": json.dumps(b.input)},
                }
                for b in message.content
                if isinstance(b, ToolUseBlock)
            ]
            wire: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) or None}
            if calls:
                wire["tool_calls"] = calls
            messages.append(wire)
            continue
        # Tool results must directly follow the assistant turn that called the tools.
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                messages.append(
                    {"role": "tool", "tool_call_id": block.tool_use_id, "content": block.content}
                )
        if texts:
            messages.append({"role": "user", "content": "\n".join(texts)})
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        settings.max_tokens_param: min(settings.max_tokens, request.max_tokens),
    }
    if request.tools:
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in request.tools
        ]
    if settings.temperature is not None:
        kwargs["temperature"] = settings.temperature
    return kwargs


def _arguments(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {UNPARSED_ARGUMENTS: raw}
    return value if isinstance(value, dict) else {UNPARSED_ARGUMENTS: raw}


def parse_response(completion: Any, latency_s: float, *, simulated: bool = False) -> ModelResponse:
    choices = getattr(completion, "choices", None)
    if not choices:
        raise ModelError("the response carries no choices", "malformed_response")
    choice = choices[0]
    message = choice.message
    content: list[Block] = []
    if message.content:
        content.append(TextBlock(text=message.content))
    for call in message.tool_calls or ():
        content.append(
            ToolUseBlock(
                id=call.id, name=call.function.name, input=_arguments(call.function.arguments)
            )
        )
    finish = choice.finish_reason
    return ModelResponse(
        content=tuple(content),
        stop_reason="tool_use"
        if message.tool_calls
        else "max_tokens"
        if finish == "length"
        else "end_turn",
        usage=openai_usage(getattr(completion, "usage", None)),
        latency_s=latency_s,
        latency_simulated=False,
        model_id=str(completion.model),
        request_id=getattr(completion, "_request_id", None),
        simulated=simulated,
    )


def _error_body(exc: openai.APIStatusError) -> tuple[str | None, str | None, str]:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    error = error if isinstance(error, dict) else {}
    code, kind = error.get("code"), error.get("type")
    return (
        kind if isinstance(kind, str) else None,
        code if isinstance(code, str) else None,
        str(error.get("message") or exc.message),
    )


def translate_error(exc: openai.OpenAIError) -> ModelError:
    """The ModelError for anything the SDK raised."""
    if isinstance(exc, openai.APITimeoutError):
        return ModelError(f"timed out: {exc}", "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(f"connection failed: {exc}", "connection")
    if isinstance(exc, openai.APIResponseValidationError):
        return ModelError(f"malformed response: {exc}", "malformed_response")
    if isinstance(exc, openai.APIStatusError):
        kind, code, message = _error_body(exc)
        return ModelError(
            f"HTTP {exc.status_code} {code or kind or ''}: {message}".strip(),
            classify_status(exc.status_code, kind, code, message),
            retry_after_s=retry_after_seconds(exc.response.headers),
            request_id=exc.request_id,
        )
    return ModelError(f"{type(exc).__name__}: {exc}", "malformed_response")


class OpenAIChatModel:
    def __init__(self, settings: OpenAIModelConfig, client: openai.OpenAI) -> None:
        self._settings = settings
        self._client = client
        self._identity = ModelIdentity(provider="openai", model=settings.model, simulated=False)

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        kwargs = build_request(request, self._settings)
        started = time.perf_counter()
        try:
            raw = self._client.chat.completions.with_raw_response.create(**kwargs)
            simulated = SIMULATED_HEADER in raw.headers
            return parse_response(raw.parse(), time.perf_counter() - started, simulated=simulated)
        except openai.OpenAIError as exc:
            raise translate_error(exc) from exc
        except (ValueError, TypeError, AttributeError) as exc:  # undecodable or ill-shaped body
            raise ModelError(f"malformed response: {exc}", "malformed_response") from exc


class _Provider:
    def key_variable(self, settings: OpenAIModelConfig) -> tuple[str | None, bool]:
        return settings.api_key_env, needs_key(settings)

    def client(self, settings: OpenAIModelConfig, api_key: str | None) -> openai.OpenAI:
        return make_client(settings, api_key)

    def model(
        self, name: str, settings: OpenAIModelConfig, client: openai.OpenAI
    ) -> OpenAIChatModel:
        return OpenAIChatModel(settings, client)


PROVIDER = _Provider()
