"""The relay: one upstream answer on its way to the client, read as it passes.

Kept apart from the HTTP server so that what the client is sent — and how each way an answer
can end becomes a row — reads in one place. The client side is anything that can send a
status line, a body whole or in chunks, and hang up (`Client`: the gateway's request handler).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx2 as httpx

from armbench.core import MASK, ModelError
from armbench.serve.gateway_ledger import CallOutcome, Endpoint
from armbench.serve.gateway_usage import StreamMeter, WireName, body_usage, http_error
from armbench.serve.wire import WIRES


class HeaderSource(Protocol):
    """Request headers, looked up case-insensitively (`http.client.HTTPMessage` is one)."""

    def get(self, name: str) -> str | None: ...


class Client(Protocol):
    """The client's side of one call."""

    def send_head(self, status: int, headers: Mapping[str, str], length: int | None) -> None:
        """The status line and headers; `length` None announces a chunked body."""
        ...

    def send_chunk(self, data: bytes) -> None: ...
    def end_chunks(self) -> None: ...
    def send_body(self, status: int, headers: Mapping[str, str], body: bytes) -> None: ...
    def hang_up(self) -> None:
        """End the connection after this response, whatever state its body is in."""
        ...


def presented_key(headers: HeaderSource) -> str | None:
    """The client's key: Anthropic's `x-api-key`, else a bearer token (OpenAI's way, and
    Claude Code's with an auth token)."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def force_include_usage(request: Any, body: bytes) -> tuple[bytes, bool]:
    """An OpenAI request's body as forwarded, and whether the gateway added the usage chunk
    (then the client is spared it). Untouched unless it streams without asking for usage."""
    if not isinstance(request, dict) or request.get("stream") is not True:
        return body, False
    options = request.get("stream_options")
    if options is None:
        options = {}
    if not isinstance(options, dict) or options.get("include_usage") is True:
        return body, False  # already asked, or malformed: the upstream answers that
    forced = {**request, "stream_options": {**options, "include_usage": True}}
    return json.dumps(forced, ensure_ascii=False).encode(), True


class Relay:
    """One upstream answer on its way to the client, read as it passes, and recorded (once,
    by `record`) before the client has its last byte: once a client has its answer, its row
    is there to read (an agent that exits has all its calls in the ledger)."""

    def __init__(
        self,
        client: Client,
        target: tuple[WireName, Endpoint, str],
        real_key: str | None,
        ttl: str,
        strip: bool,
        record: Callable[[CallOutcome], object],
    ) -> None:
        self.client = client
        self.wire: WireName = target[0]
        self.endpoint: Endpoint = target[1]
        self.real_key = real_key
        self.ttl = ttl
        self.strip = strip
        self._record = record
        self.recorded = False

    def record(self, outcome: CallOutcome) -> None:
        if not self.recorded:
            self.recorded = True
            self._record(outcome)

    def answer(self, response: httpx.Response) -> None:
        request_id = response.headers.get(WIRES[self.wire].request_id_header)
        kind = response.headers.get("content-type", "")
        if response.is_success and kind.startswith("text/event-stream"):
            self._stream(response, request_id)
        else:
            self._whole(response, request_id)

    def unanswered(self, error: ModelError) -> None:
        """No answer came: the client's connection is ended as the upstream's was, without
        one."""
        self.record(CallOutcome(error=error))
        self.client.hang_up()

    def _whole(self, response: httpx.Response, request_id: str | None) -> None:
        status, headers = response.status_code, dict(response.headers)
        facts: dict[str, Any] = {"http_status": status, "request_id": request_id}
        parts: list[bytes] = []
        try:
            for part in response.iter_bytes():
                parts.append(part)
        except httpx.HTTPError as exc:  # the body broke: so does the client's
            self.record(
                CallOutcome(error=ModelError(f"the body broke: {exc}", "connection"), **facts)
            )
            self.client.hang_up()
            with contextlib.suppress(ConnectionError, TimeoutError):
                self.client.send_head(status, headers, None)
                self.client.send_chunk(self._masked(b"".join(parts)))
            return
        body = self._masked(b"".join(parts))
        if not response.is_success:
            self.record(CallOutcome(error=http_error(status, body), **facts))
        else:
            try:
                usage, model_id = body_usage(self.wire, body, self.ttl)
                self.record(CallOutcome(usage=usage, model_id=model_id, **facts))
            except ModelError as exc:  # a token count has no usage, and is no model call
                error = None if self.endpoint == "count_tokens" else exc
                self.record(CallOutcome(error=error, **facts))
        self.client.send_body(status, headers, body)

    def _stream(self, response: httpx.Response, request_id: str | None) -> None:
        meter = StreamMeter(self.wire, self.ttl, strip_usage_chunk=self.strip)
        broken: ModelError | None = None
        client = self.client
        try:
            client.send_head(response.status_code, dict(response.headers), None)
            for part in response.iter_bytes():  # as each read delivers it, decoded
                client.send_chunk(meter.feed(part))
            client.send_chunk(meter.finish())
        except httpx.TimeoutException as exc:
            broken = ModelError(f"the stream timed out: {exc}", "timeout")
        except httpx.HTTPError as exc:
            broken = ModelError(f"the stream broke: {exc}", "connection")
        except (ConnectionError, TimeoutError) as exc:
            broken = ModelError(f"the client left mid-stream: {exc}", "connection")
        usage, error = meter.result(broken)
        self.record(
            CallOutcome(
                usage=usage,
                model_id=meter.model_id,
                error=error,
                http_status=response.status_code,
                request_id=request_id,
                streamed=True,
            )
        )
        if broken is not None:
            client.hang_up()  # no end of the chunked body: a broken stream
        else:
            with contextlib.suppress(ConnectionError, TimeoutError):
                client.end_chunks()

    def _masked(self, data: bytes) -> bytes:
        if not self.real_key:
            return data
        return data.replace(self.real_key.encode(), MASK.encode())
