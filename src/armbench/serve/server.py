"""`SimServer`: a loopback HTTP server speaking one provider's wire format, backed by the sim.

It lets armbench's real providers — the official SDKs, their retries, their error classes — be
exercised offline over real HTTP, and lets users point an external agent at a simulated model
(agents such as Claude Code always stream, so answers are streamed on request). The standard
library's threading server is enough: requests are small, the brain is stateless, and nothing
here should need a dependency.

Control endpoints, answered to loopback clients only: `GET /_armbench/stats` and
`POST /_armbench/faults` (a JSON list of rules or `parse_fault` strings; replaces the plan).
Request headers are never read beyond Content-Length (so `anthropic-version`, `anthropic-beta`
and the like are accepted and ignored, as is a query string such as the beta client's
`?beta=true`), and never logged or echoed, so an API key sent by a client cannot leak through
the server.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from armbench.config import SimModelConfig
from armbench.core import SIMULATED_HEADER
from armbench.serve.brain import Brain, BrainCall, InvalidRequest
from armbench.serve.faults import FaultPlan, FaultRule, rules_from_json
from armbench.serve.http import LoopbackServer
from armbench.serve.stats import ServerStats
from armbench.serve.streaming import Damage, Event, damaged
from armbench.serve.wire import WIRES
from armbench.sim import TaskBrief
from armbench.tasks.packs import Pack

log = logging.getLogger("armbench.serve")

MAX_BODY_BYTES = 32 * 1024 * 1024
STATS_PATH = "/_armbench/stats"
FAULTS_PATH = "/_armbench/faults"


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer[SimServer]
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: Any) -> None:  # the request line, never headers
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: Literal["GET", "POST"]) -> None:
        owner = self.server.owner
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        if path in (STATS_PATH, FAULTS_PATH):
            self._control(method, path, body)
        elif method == "POST" and path == owner.wire.path:
            owner.answer(self, body)
        elif method == "POST" and path == owner.wire.count_path:
            owner.count_tokens(self, body)
        else:
            self.send_error_json(404, f"no such endpoint: {method} {path}", None, None)

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _control(self, method: str, path: str, body: bytes | None) -> None:
        owner = self.server.owner
        if not ipaddress.ip_address(self.client_address[0].split("%")[0]).is_loopback:
            self.send_json(403, {"error": "the control endpoints answer loopback clients only"})
        elif method == "GET" and path == STATS_PATH:
            self.send_json(200, owner.stats())
        elif method == "POST" and path == FAULTS_PATH:
            try:
                owner.set_faults(rules_from_json(json.loads(body or b"null")))
            except ValueError as exc:  # includes JSONDecodeError
                self.send_json(400, {"error": str(exc)})
                return
            self.send_json(200, {"faults": owner.stats()["faults"]})
        else:
            self.send_json(405, {"error": f"{method} {path} is not supported"})

    def _head(
        self, status: int, content_type: str, length: int | None, headers: Mapping[str, str]
    ) -> None:
        """The status line and headers; `length` None: a chunked body (a stream)."""
        self.send_response(status)
        self.send_header("content-type", content_type)
        if length is None:
            self.send_header("transfer-encoding", "chunked")
            self.send_header("cache-control", "no-cache")
        else:
            self.send_header("content-length", str(length))
        # Whoever reaches the sim through a real provider learns its answers are simulated.
        self.send_header(SIMULATED_HEADER, "armbench-sim")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        *,
        damage: Damage | None = None,
    ) -> None:
        """Send `payload` as JSON. `damage`: `malformed` sends only its first half (a body
        that does not parse); `cut_off` announces it whole, sends half and hangs up."""
        data = json.dumps(payload).encode()
        length = len(data)
        if damage is not None:
            data = data[: len(data) // 2]
            length = length if damage == "cut_off" else len(data)
        try:
            self._head(status, "application/json", length, headers or {})
            self.wfile.write(data)
        except (ConnectionError, TimeoutError) as exc:  # the client gave up (e.g. timed out)
            log.debug("could not answer %s: %s", self.client_address, exc)
            self.close_connection = True
        if damage == "cut_off":
            self.close_connection = True

    def send_stream(
        self, events: list[Event], headers: Mapping[str, str], damage: Damage | None
    ) -> None:
        """Send server-sent events as the real APIs do: a chunked body, one chunk per event.

        A stream `cut_off` ends with the connection, without the chunked body's end, so the
        client's HTTP layer reports a broken body rather than a stream that merely ended.
        """
        frames, complete = damaged(events, damage)
        try:
            self._head(200, "text/event-stream; charset=utf-8", None, headers)
            for data in frames:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if complete:
                self.wfile.write(b"0\r\n\r\n")
        except (ConnectionError, TimeoutError) as exc:
            log.debug("could not finish streaming to %s: %s", self.client_address, exc)
            complete = False
        if not complete:
            self.close_connection = True

    def send_error_json(
        self,
        status: int,
        message: str | None,
        error_type: str | None,
        param: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """An error in the wire API's own shape, with its request id header."""
        wire = self.server.owner.wire
        request_id = wire.new_request_id()
        body = wire.error_body(status, message, error_type, request_id, param)
        self.send_json(status, body, {wire.request_id_header: request_id, **(headers or {})})


class SimServer:
    """A sim-backed Anthropic or OpenAI endpoint on a background thread (or the foreground).

    `port=0` picks a free port; `base_url` is the server's root, `sdk_base_url` what to hand
    the official SDK as its `base_url`.
    """

    def __init__(
        self,
        api: Literal["anthropic", "openai"],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pack: Pack | None = None,
        brief: TaskBrief | None = None,
        models: Mapping[str, SimModelConfig] | None = None,
        default_skill: float = 0.9,
        model_skills: Mapping[str, float] | None = None,
        seed: int = 0,
        faults: list[FaultRule] | None = None,
        reasoning_tokens: int = 0,
    ) -> None:
        if api not in WIRES:
            raise ValueError(f"api must be one of {sorted(WIRES)}, not {api!r}")
        self.wire = WIRES[api]
        self.brain = Brain(
            pack=pack,
            brief=brief,
            models=models,
            default_skill=default_skill,
            model_skills=model_skills,
            seed=seed,
            reasoning_tokens=reasoning_tokens,
        )
        self._plan = FaultPlan(faults)
        self._stats = ServerStats()
        self._stopping = threading.Event()
        self._httpd = LoopbackServer((host, port), _Handler, self, log)

    @property
    def base_url(self) -> str:
        return self._httpd.base_url

    @property
    def sdk_base_url(self) -> str:
        return self.base_url + self.wire.sdk_path

    def start(self) -> SimServer:
        """Serve on a background thread; returns at once."""
        self._httpd.start_thread(f"sim-{self.wire.name}")
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (the CLI's mode)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._stopping.set()
            self._httpd.close_connections()
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop accepting, wake slow faults, end open connections, release the port."""
        self._stopping.set()
        self._httpd.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, rules: list[FaultRule]) -> None:
        """Replace the fault plan; its counters start again from zero."""
        self._plan.set_rules(rules)

    def stats(self) -> dict[str, Any]:
        return {"api": self.wire.name, **self._stats.snapshot(), "faults": self._plan.stats()}

    def answer(self, handler: _Handler, body: bytes | None) -> None:
        """One model request: faults first (as a provider's front door would), then the sim.

        The answer is computed and shaped once (`response_body`); a stream only re-cuts that
        body into events, so a streamed call gets the answer, and moves the counters, exactly
        as the same call without `stream` would.
        """
        self._stats.count("requests")
        fault = self._plan.next_fault()
        if fault is not None:
            self._stats.fault(fault)
            if self._refused(handler, fault):
                return
        call = self._parse(handler, body, self.wire.parse, model_request=True)
        if call is None:
            return
        try:
            answer = self.brain.answer(call, call_id=self.wire.new_call_id())
        except Exception:
            log.exception("the sim failed to answer a %s request", self.wire.name)
            self._stats.count("errors")
            handler.send_error_json(500, None, None, None)
            return
        request_id = self.wire.new_request_id()
        payload = self.wire.response_body(call, answer, request_id)
        kind = fault.kind if fault is not None else None
        if kind == "no_usage":
            payload.pop("usage", None)
        damage: Damage | None = kind if kind == "malformed" or kind == "cut_off" else None
        # Only usage a client can read counts as reported: not a withheld one, not a cut body.
        readable = kind != "no_usage" and damage is None
        self._stats.answered(call, self.wire.reported(answer.usage) if readable else None)
        headers = {self.wire.request_id_header: request_id}
        if call.stream:
            handler.send_stream(self.wire.stream_events(call, payload), headers, damage)
        else:
            handler.send_json(200, payload, headers, damage=damage)

    def count_tokens(self, handler: _Handler, body: bytes | None) -> None:
        """A prompt's tokens, as a call's usage would total them, without answering it.

        Not a model request: no fault applies, no counter moves, and the prompt cache is not
        touched (counting first does not turn the call into a cache hit).
        """
        call = self._parse(handler, body, self.wire.parse_count, model_request=False)
        if call is not None:
            request_id = self.wire.new_request_id()
            tokens = self.brain.input_tokens(call.request)
            handler.send_json(
                200, self.wire.count_body(tokens), {self.wire.request_id_header: request_id}
            )

    def _refused(self, handler: _Handler, fault: FaultRule) -> bool:
        """Apply a fault that strikes before any answer (so before a stream starts, too);
        whether the request ended there."""
        if fault.kind == "drop":
            handler.close_connection = True
            return True
        if fault.kind == "status":
            assert fault.status is not None
            self._stats.count("errors")
            handler.send_error_json(
                fault.status, None, fault.error_type, None, fault.retry_headers()
            )
            return True
        if fault.kind == "slow" and self._stopping.wait(fault.delay_s):
            handler.close_connection = True
            return True
        return False

    def _parse(
        self,
        handler: _Handler,
        body: bytes | None,
        parse: Callable[[Any], BrainCall],
        *,
        model_request: bool,
    ) -> BrainCall | None:
        """`body` as `parse` reads it, or None once the client has had its 413 or 400 (counted
        as invalid, before it is sent, for a model request)."""
        status, message, param = 413, None, None
        try:
            if body is not None:
                return parse(json.loads(body) if body else None)
        except (InvalidRequest, ValueError) as exc:
            status = 400
            param = exc.param if isinstance(exc, InvalidRequest) else None
            message = str(exc) if isinstance(exc, InvalidRequest) else f"invalid JSON: {exc}"
        if model_request:
            self._stats.count("invalid")
        handler.send_error_json(status, message, None, param)
        return None
