"""`Gateway`: a loopback metering reverse proxy for external coding agents.

An external agent (aider, mini-swe-agent, Claude Code) cannot be made to report its tokens, so
it is pointed at the gateway instead of the real API, with a key the gateway issued for one
trial and role. The gateway swaps that key for the real one (read from the environment at the
moment it forwards, so it never sits in the gateway's own state), forwards the request to the
upstream of the same wire format, relays the answer as it arrives and turns every call into a
ledger row of the trial, tokens parsed as armbench's own providers parse them
(`gateway_usage`). No translation between formats: what the agent sends, the upstream gets.

The body goes on byte for byte, with two exceptions. A routed key's calls ask for the model
their route goes to (`model`). And an OpenAI stream is always asked for its usage
(`stream_options.include_usage`), since without it Chat Completions streams report no tokens
at all and the call could not be metered. A client that did not ask for that chunk
does not get it: it has no `choices`, and clients written against streams without it index
`choices[0]` on every chunk. The other chunks keep the `"usage": null` the API then adds,
which the API's own schema allows, rather than being re-encoded on their way.

What the client receives is the upstream's answer as the upstream sent it — its status, its
headers (not hop-by-hop ones), its body, and its failures: an upstream that hangs up leaves the
client's connection hung up, a stream broken midway leaves the client's stream broken. A body
read whole (not a stream) has the real key masked, in case an upstream echoes it back; rows'
error texts have it masked too.

This module does the HTTP: the standard library's threading server facing the client, httpx
facing the upstream (one pooled client for all threads). `gateway_relay` decides what the
client is sent and what each way an answer can end records; `gateway_usage` reads tokens and
failures; `gateway_ledger` keeps the keys and the rows.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2 as httpx

from armbench.core import CallRecord, LimitReached, ModelError, Role, process_environ
from armbench.serve.gateway_ledger import (
    Admit,
    Binding,
    CallOutcome,
    Endpoint,
    GatewayCall,
    Ledger,
    Router,
    Settle,
    Upstream,
)
from armbench.serve.gateway_relay import Relay, force_include_usage, presented_key
from armbench.serve.gateway_usage import WireName, requested_ttl
from armbench.serve.http import LoopbackServer
from armbench.serve.wire import WIRES

log = logging.getLogger("armbench.serve.gateway")

MAX_BODY_BYTES = 32 * 1024 * 1024
ENDPOINTS: dict[str, tuple[WireName, Endpoint, str]] = {
    "/v1/messages": ("anthropic", "messages", "/v1/messages"),
    "/v1/messages/count_tokens": ("anthropic", "count_tokens", "/v1/messages/count_tokens"),
    "/v1/chat/completions": ("openai", "chat_completions", "/chat/completions"),
    "/chat/completions": ("openai", "chat_completions", "/chat/completions"),
}
"""Path the client posts to → its wire, its endpoint, and the path after the upstream's
`base_url` (the SDKs' convention: Anthropic's root, OpenAI's with `/v1`). OpenAI's is also
taken without `/v1`, for clients whose base URL was given as the bare root."""
FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta", "content-type", "accept")
"""The client's request headers the upstream gets; never its key, never hop-by-hop ones."""
_NOT_RELAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",  # the gateway frames the body itself
        "content-encoding",  # httpx hands over the decoded body
        "date",  # the gateway's own server sends these two
        "server",
    }
)


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer[Gateway]
    protocol_version = "HTTP/1.1"
    timeout = 120

    def log_message(self, format: str, *args: Any) -> None:  # the request line, never headers
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._read_body()
        wire: WireName = "openai" if "chat" in self.path else "anthropic"
        self.send_error_json(wire, 405, f"GET {self.path.split('?', 1)[0]} is not supported")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        target = ENDPOINTS.get(path)
        if target is None:
            wire: WireName = "openai" if "chat" in path else "anthropic"
            self.send_error_json(wire, 404, f"no such endpoint: POST {path}")
            return
        if body is None:
            self.send_error_json(
                target[0], 413, "the request has no readable length or is too large"
            )
            return
        binding = self.server.owner.ledger.binding(presented_key(self.headers))
        if binding is None:  # unknown or revoked: nothing is forwarded, nothing recorded
            self.send_error_json(target[0], 401, "invalid or revoked armbench gateway key")
            return
        self.server.owner.forward(self, binding, target, body)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            self.close_connection = True  # a body the gateway does not read (clients send lengths)
            return None
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def send_head(self, status: int, headers: Mapping[str, str], length: int | None) -> None:
        """Status line and headers; `length` None: a chunked body."""
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in _NOT_RELAYED:
                self.send_header(name, value)
        if length is None:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(length))
        self.end_headers()

    def send_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def hang_up(self) -> None:
        self.close_connection = True

    def send_body(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        try:
            self.send_head(status, headers, len(body))
            self.wfile.write(body)
        except (ConnectionError, TimeoutError) as exc:
            log.debug("could not answer %s: %s", self.client_address, exc)
            self.close_connection = True

    def send_error_json(self, wire: WireName, status: int, message: str) -> None:
        """The gateway's own refusal, in the wire's error shape (so the SDKs raise their own
        error class for the status)."""
        shape = WIRES[wire]
        request_id = shape.new_request_id()
        body = json.dumps(shape.error_body(status, message, None, request_id)).encode()
        headers = {"content-type": "application/json", shape.request_id_header: request_id}
        self.send_body(status, headers, body)


class Gateway:
    """The metering gateway on a background thread: `issue` keys, point clients at
    `sdk_base_url(wire)` with them, read each trial's rows with `calls`.

    `port=0` picks a free port; `socket_path`, if given, is a Unix socket it also listens on
    (for sandboxed agents, through `armbench.serve.relay`). Upstreams are reached with one
    pooled httpx client; `connect_timeout_s` and `read_timeout_s` (between two reads, not the
    whole answer) bound a silent upstream. `on_call` is told of each row as it is recorded.
    `environ` is where real keys are read at forward time: by default the process's
    environment including what `withdraw_secrets` took out of it, so a run that withdrew its
    keys can still forward.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        socket_path: str | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 600.0,
        environ: Callable[[], Mapping[str, str]] = process_environ,
        on_call: Callable[[GatewayCall], None] | None = None,
    ) -> None:
        self.ledger = Ledger(on_call)
        self._environ = environ
        self._client = httpx.Client(
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
        )
        self._httpd = LoopbackServer((host, port), _Handler, self, log)
        self._unix = LoopbackServer(socket_path, _Handler, self, log) if socket_path else None

    @property
    def base_url(self) -> str:
        return self._httpd.base_url

    def sdk_base_url(self, wire: WireName) -> str:
        """What to hand the official SDK (or an agent's base-URL setting) for `wire`."""
        return self.base_url + WIRES[wire].sdk_path

    def issue(
        self,
        trial_id: str,
        role: Role,
        upstream: Upstream,
        admit: Admit | None = None,
        router: Router | None = None,
    ) -> str:
        """A fresh key for one trial's `role` at `upstream`; `admit`, when given, is asked
        before each of its model calls is forwarded, and `router` picks each call's upstream
        in place of `upstream` (see Binding)."""
        return self.ledger.issue(trial_id, role, upstream, admit, router)

    def revoke(self, key: str) -> None:
        """Refuse `key` from now on (calls already under way finish and are recorded)."""
        self.ledger.revoke(key)

    def settle(self, trial_id: str, timeout_s: float = 30) -> bool:
        """Wait until the trial's calls under way are recorded (read its rows after this once
        its agent has exited); False if some are still going after `timeout_s`."""
        return self.ledger.settle(trial_id, timeout_s)

    def calls(self, trial_id: str) -> list[GatewayCall]:
        """The trial's rows so far, in the order their calls arrived."""
        return self.ledger.calls(trial_id)

    def records(self, trial_id: str) -> list[CallRecord]:
        """The trial's ledger rows: its model calls (not its token counts) as CallRecords."""
        return [call.record for call in self.calls(trial_id) if call.billable]

    def start(self) -> Gateway:
        self._httpd.start_thread("gateway")
        if self._unix is not None:
            self._unix.start_thread("gateway-unix")
        return self

    def stop(self) -> None:
        """Stop accepting, end open connections (idle keep-alive ones included), release the
        port and the upstream connections."""
        self._httpd.stop()
        if self._unix is not None:
            self._unix.stop()
        self._client.close()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def forward(
        self,
        handler: _Handler,
        binding: Binding,
        target: tuple[WireName, Endpoint, str],
        body: bytes,
    ) -> None:
        """One call: checked, forwarded, relayed and recorded (whatever becomes of it)."""
        wire, endpoint, suffix = target
        try:
            request = json.loads(body)
        except ValueError:
            request = None  # forwarded as it is: the upstream's 400 is the answer
        try:
            upstream = binding.pick(request) if endpoint != "count_tokens" else binding.upstream
        except LimitReached as refused:  # routing's own call (a classifier's) was refused
            handler.send_error_json(wire, 403, f"armbench stopped this trial's calls: {refused}")
            return
        except ModelError as failed:  # routing's own call failed for good
            handler.send_error_json(wire, 502, f"armbench could not route this call: {failed}")
            return
        if upstream.model is not None and isinstance(request, dict):
            request = {**request, "model": upstream.model}
            body = json.dumps(request).encode()
        real_key = self._environ().get(upstream.key_env) if upstream.key_env else None
        settle: Settle | None = None
        if binding.admit is not None and endpoint != "count_tokens":
            try:
                settle = binding.admit(upstream, body, request)
            except LimitReached as refused:  # not sent, not a call: the trial's cap is reached
                handler.send_error_json(
                    wire, 403, f"armbench stopped this trial's calls: {refused}"
                )
                return
        call = self.ledger.open(binding, endpoint, request, upstream)
        started = time.perf_counter()

        def record(outcome: CallOutcome) -> None:
            call.close(outcome, mask=real_key)
            if settle is not None:
                settle(outcome, time.perf_counter() - started)

        if upstream.wire != wire:
            message = f"this key is for the {upstream.wire} wire format, not {wire}"
            record(
                CallOutcome(error=ModelError(message, "harness"), http_status=400, forwarded=False)
            )
            handler.send_error_json(wire, 400, message)
            return
        if upstream.key_env and not real_key:
            message = f"the gateway has no key: ${upstream.key_env} is not set"
            record(CallOutcome(error=ModelError(message, "auth"), http_status=401, forwarded=False))
            handler.send_error_json(wire, 401, message)
            return
        strip = False
        if wire == "openai":
            body, strip = force_include_usage(request, body)
        query = handler.path.partition("?")[2]
        url = upstream.base_url.rstrip("/") + suffix + (f"?{query}" if query else "")
        headers = {n: v for n in FORWARDED_HEADERS if (v := handler.headers.get(n)) is not None}
        headers["accept-encoding"] = "identity"  # relayed as received, read as it passes
        if real_key:
            if wire == "anthropic":
                headers["x-api-key"] = real_key
            else:
                headers["authorization"] = f"Bearer {real_key}"
        ttl = requested_ttl(request)
        relay = Relay(handler, target, real_key, ttl, strip, record)
        try:
            with self._client.stream("POST", url, content=body, headers=headers) as response:
                relay.answer(response)
        except httpx.TimeoutException as exc:
            relay.unanswered(ModelError(f"timed out: {exc}", "timeout"))
        except httpx.HTTPError as exc:
            relay.unanswered(ModelError(f"connection failed: {exc}", "connection"))
        except BaseException as exc:  # a bug here: the call is still a row
            relay.record(CallOutcome(error=ModelError(f"gateway failure: {exc!r}", "harness")))
            raise
