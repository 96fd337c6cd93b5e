"""What the metering gateway reads of an upstream's answers: usage and failures, as armbench's
own providers read them.

The gateway never lets an SDK parse what it relays (the bytes go to the client untouched), so
it reads the JSON itself, then hands the usage to the functions armbench's providers read it with
(`armbench.models.usage`) through a thin attribute view: one
mapping of the six token kinds, wherever a call was made from, so a call an external agent made
through the gateway costs what the same call made by armbench's agent would. Failures are
classified by `armbench.models.http_errors.classify_status`, the classes armbench's retries and
reports already speak.

A stream is read as it passes (`StreamMeter`): Anthropic's `message_start` usage updated by the
final counts of `message_delta`; OpenAI's usage chunk (the gateway asks for one on every
stream). Whatever was seen before a stream broke is what its error row carries.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from armbench.core import ModelError, Usage
from armbench.models.http_errors import classify_status
from armbench.models.usage import anthropic_usage, openai_usage
from armbench.serve.anthropic_api import ERROR_TYPES

WireName = Literal["anthropic", "openai"]

_STATUS_OF_TYPE = {kind: status for status, kind in ERROR_TYPES.items()}
"""Anthropic error types back to their HTTP status: a stream's `error` event comes after a 200,
and the status its type stands for is what `classify_status` needs."""
_FRAME_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
"""A server-sent event ends with a blank line, in any of the three line endings SSE allows."""


class _View:
    """A JSON object read by attribute, a missing field reading as None, as the SDKs' types
    read: what `armbench.models.usage` expects of a usage object."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        value = self._data.get(name)
        return _View(value) if isinstance(value, dict) else value


def requested_ttl(request: Any) -> str:
    """`1h` if any `cache_control` in an Anthropic request asks for an hour, else `5m`: the TTL
    the provider attributes a cache write to when the response has no breakdown of it."""
    if isinstance(request, dict):
        control = request.get("cache_control")
        if isinstance(control, dict) and control.get("ttl") == "1h":
            return "1h"
        values: Any = request.values()
    elif isinstance(request, list):
        values = request
    else:
        return "5m"
    return "1h" if any(requested_ttl(v) == "1h" for v in values) else "5m"


def usage_of(wire: WireName, usage: Any, ttl: str) -> Usage:
    """A JSON usage object in the six kinds; a ModelError (`malformed_response`) when there is
    none or it lacks a count, exactly as the provider would raise it."""
    view = _View(usage) if isinstance(usage, dict) else None
    if wire == "anthropic":
        return anthropic_usage(view, ttl)
    return openai_usage(view)


def body_usage(wire: WireName, body: bytes, ttl: str) -> tuple[Usage, str]:
    """The usage and the answering model's id of a plain (not streamed) answer."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ModelError(f"malformed response: {exc}", "malformed_response") from exc
    if not isinstance(payload, dict):
        raise ModelError("malformed response: not a JSON object", "malformed_response")
    model = payload.get("model")
    return usage_of(wire, payload.get("usage"), ttl), model if isinstance(model, str) else ""


def _error_facts(payload: Any) -> tuple[str | None, str | None, str]:
    """An error body's type, code and message, in either wire's shape."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None, None, ""
    kind, code, message = error.get("type"), error.get("code"), error.get("message")
    return (
        kind if isinstance(kind, str) else None,
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else "",
    )


def http_error(status: int, body: bytes) -> ModelError:
    """The upstream's error response as the provider would have raised it."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    kind, code, message = _error_facts(payload)
    return ModelError(
        f"HTTP {status} {code or kind or ''}: {message}".strip().rstrip(":"),
        classify_status(status, kind, code, message),
    )


def _stream_error(payload: Any) -> ModelError:
    """An error sent inside a stream, after its 200: classified by the status its type means."""
    kind, code, message = _error_facts(payload)
    status = _STATUS_OF_TYPE.get(kind or "", 500)
    return ModelError(
        f"error in the stream: {code or kind or ''}: {message}",
        classify_status(status, kind, code, message),
    )


class StreamMeter:
    """Reads a server-sent event stream on its way to the client.

    `feed` takes bytes as they arrive from the upstream and returns what to send on at once:
    the same bytes, unless `strip_usage_chunk` (an OpenAI stream whose client did not ask for
    usage, which the gateway asked for on its behalf): then whole frames, without the one
    usage chunk the client did not ask for.
    """

    def __init__(self, wire: WireName, ttl: str, *, strip_usage_chunk: bool = False) -> None:
        self.wire: WireName = wire
        self.ttl = ttl
        self.strip = strip_usage_chunk
        self.model_id = ""
        self._usage: dict[str, Any] | None = None
        self._pending = b""
        self._ended = False
        """Whether the stream's own end came: Anthropic's `message_stop`, OpenAI's `[DONE]`."""
        self._error: ModelError | None = None

    def feed(self, data: bytes) -> bytes:
        self._pending += data
        sent: list[bytes] = []
        while (end := _FRAME_END.search(self._pending)) is not None:
            frame, self._pending = self._pending[: end.end()], self._pending[end.end() :]
            if self._read(frame) or not self.strip:
                sent.append(frame)
        return data if not self.strip else b"".join(sent)

    def finish(self) -> bytes:
        """The stream ended: read an unterminated last frame, and return it when holding it."""
        tail, self._pending = self._pending, b""
        if tail.strip():
            self._read(tail)
        return tail if self.strip else b""

    def result(self, broken: ModelError | None = None) -> tuple[Usage, ModelError | None]:
        """The usage seen and what went wrong, if anything: the transport's `broken`, an error
        event, a frame that did not parse, no end, or no usage (never counted as zero)."""
        try:
            usage, problem = usage_of(self.wire, self._usage, self.ttl), None
        except ModelError as exc:
            usage, problem = Usage(), exc
        if broken is not None or self._error is not None:
            return usage, broken or self._error
        if not self._ended:
            return usage, ModelError("the stream ended before its end event", "malformed_response")
        return usage, problem

    def _read(self, frame: bytes) -> bool:
        """Take note of one frame; whether the client is to get it."""
        name, data = None, []
        for line in frame.decode("utf-8", "replace").splitlines():
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if not data:
            return True  # a comment or keep-alive
        text = "\n".join(data)
        if self.wire == "openai" and text.strip() == "[DONE]":
            self._ended = True
            return True
        try:
            payload = json.loads(text)
        except ValueError as exc:
            self._error = self._error or ModelError(
                f"malformed event in the stream: {exc}", "malformed_response"
            )
            return True
        if not isinstance(payload, dict):
            return True
        if self.wire == "anthropic":
            self._anthropic(payload.get("type") or name, payload)
            return True
        return self._openai(payload)

    def _anthropic(self, kind: Any, payload: dict[str, Any]) -> None:
        if kind == "message_start":
            message = payload.get("message")
            message = message if isinstance(message, dict) else {}
            self.model_id = str(message.get("model") or "")
            usage = message.get("usage")
            self._usage = dict(usage) if isinstance(usage, dict) else None
        elif kind == "message_delta":
            final = payload.get("usage")
            if isinstance(final, dict):  # cumulative counts: they replace the opening ones
                base = self._usage or {}
                self._usage = {**base, **{k: v for k, v in final.items() if v is not None}}
        elif kind == "message_stop":
            self._ended = True
        elif kind == "error":
            self._error = _stream_error(payload)

    def _openai(self, payload: dict[str, Any]) -> bool:
        if "error" in payload and "choices" not in payload:
            self._error = _stream_error(payload)
            return True
        self.model_id = str(payload.get("model") or self.model_id)
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
            return not (self.strip and payload.get("choices") == [])
        return True
