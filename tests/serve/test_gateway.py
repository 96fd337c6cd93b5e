"""The metering gateway between the official SDKs and serve-sim (or a stub upstream).

What must hold: a client gets through the gateway what it gets directly; every call is a row
of its own trial with the tokens the upstream reported, to the token; keys are per trial and
revocable; the real key reaches the upstream and nothing else; failures reach the client as
the upstream made them and the ledger as armbench classifies them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC
from armbench.core import MASK, TOKEN_KINDS, Usage
from armbench.prompts import AGENT_SYSTEM, PromptSet
from armbench.serve import Gateway, GatewayCall, SimServer, Upstream, parse_fault
from armbench.tasks.packs import load_pack

Api = Literal["anthropic", "openai"]
KEY_ENV = "ARMBENCH_GATEWAY_TEST_KEY"
REAL_KEY = "sk-real-" + "c0ffee42" * 6
PACK = load_pack("demo")
FEATURE = PACK.task("feature").spec
SYSTEM = PromptSet().render(AGENT_SYSTEM) + "\n" + "Keep each change small.\n" * 60
TOOLS = (EDITOR_SPEC, BASH_SPEC)
ANTHROPIC_REQUEST: dict[str, Any] = {
    "model": "claude-sim",
    "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
    "tools": [s.model_dump() for s in TOOLS],
    "messages": [{"role": "user", "content": FEATURE.prompt}],
    "cache_control": {"type": "ephemeral", "ttl": "1h"},
    "max_tokens": 4096,
}
OPENAI_REQUEST: dict[str, Any] = {
    "model": "gpt-sim",
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": FEATURE.prompt},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": s.name,
                "description": s.description,
                "parameters": s.input_schema,
            },
        }
        for s in TOOLS
    ],
}


@pytest.fixture(autouse=True)
def real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, REAL_KEY)


class _Tee(httpx2.SyncByteStream):
    def __init__(self, inner: Any, seen: bytearray) -> None:
        self.inner, self.seen = inner, seen

    def __iter__(self) -> Iterator[bytes]:
        for part in self.inner:
            self.seen.extend(part)
            yield part

    def close(self) -> None:
        self.inner.close()


class Recording(httpx2.BaseTransport):
    """The client's transport, keeping every status line, header and body byte it receives."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.seen = bytearray()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        self.seen.extend(f"{response.status_code}\n".encode())
        for name, value in response.headers.raw:
            self.seen.extend(name + b": " + value + b"\n")
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, self.seen),
            extensions=response.extensions,
        )


def settings(url: str, key: str, transport: Recording | None = None) -> dict[str, Any]:
    extra = {} if transport is None else {"http_client": httpx2.Client(transport=transport)}
    return {
        "api_key": key,
        "base_url": url,
        "max_retries": 0,
        "_strict_response_validation": True,
        **extra,
    }


@contextmanager
def sim_and_gateway(api: Api) -> Iterator[tuple[SimServer, Gateway, Upstream]]:
    """A fresh serve-sim (known seed, empty cache, counters at zero) behind a fresh gateway."""
    with SimServer(api, pack=PACK, seed=7, reasoning_tokens=5) as sim, Gateway() as gateway:
        yield sim, gateway, Upstream(api, sim.sdk_base_url, KEY_ENV)


def anthropic_answer(message: Message) -> dict[str, Any]:
    answer = message.model_dump(mode="json", exclude_none=True, exclude={"id"})
    for block in answer["content"]:
        block.pop("id", None)
    return answer


def openai_answer(completion: ChatCompletion) -> dict[str, Any]:
    choice = completion.choices[0]
    calls = [
        (c.function.name, c.function.arguments)
        for c in choice.message.tool_calls or []
        if c.type == "function"
    ]
    usage = completion.usage.model_dump(exclude_none=True) if completion.usage else None
    return {"content": choice.message.content, "calls": calls, "usage": usage}


def rebuilt(chunks: list[ChatCompletionChunk]) -> dict[str, Any]:
    content: str | None = None
    calls: dict[int, list[str]] = {}
    usage = None
    for chunk in chunks:
        if chunk.usage is not None:
            usage = chunk.usage.model_dump(exclude_none=True)
        for choice in chunk.choices:
            if choice.delta.content is not None:
                content = (content or "") + choice.delta.content
            for call in choice.delta.tool_calls or []:
                assert call.function is not None
                entry = calls.setdefault(call.index, ["", ""])
                entry[0] += call.function.name or ""
                entry[1] += call.function.arguments or ""
    ordered = [(calls[i][0], calls[i][1]) for i in sorted(calls)]
    return {"content": content, "calls": ordered, "usage": usage}


ANTHROPIC_OPENING = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "cache_control"}
"""Without the one-hour marker at the end: the system prompt is written for five minutes; the
same conversation then marked to the end reads it and writes the rest for an hour."""


def ask_anthropic(client: anthropic.Anthropic, stream: bool, turn: int) -> dict[str, Any]:
    request = ANTHROPIC_OPENING if turn == 0 else ANTHROPIC_REQUEST
    if not stream:
        return anthropic_answer(client.messages.create(**request))
    with client.messages.stream(**request) as events:
        return anthropic_answer(events.get_final_message())


def ask_openai(client: openai.OpenAI, stream: bool) -> dict[str, Any]:
    if not stream:
        return openai_answer(client.chat.completions.create(**OPENAI_REQUEST))
    chunks = list(client.chat.completions.create(stream=True, **OPENAI_REQUEST))
    # The gateway asked for usage on the client's behalf; the client, which did not, gets no
    # usage chunk (one without choices).
    assert all(c.choices and c.usage is None for c in chunks)
    return rebuilt(chunks)


def ask(
    api: Api, url: str, key: str, stream: bool, transport: Recording | None = None, turn: int = 0
) -> Any:
    """One call with an official SDK; `turn` 1 continues the cached conversation."""
    if api == "anthropic":
        return ask_anthropic(anthropic.Anthropic(**settings(url, key, transport)), stream, turn)
    return ask_openai(openai.OpenAI(**settings(url, key, transport)), stream)


def total(calls: list[GatewayCall]) -> dict[str, int]:
    return sum((c.record.usage for c in calls), Usage()).as_dict()


CASES = [
    ("anthropic", False),
    ("anthropic", True),
    ("openai", False),
    ("openai", True),
]


@pytest.mark.parametrize(("api", "stream"), CASES)
def test_the_client_gets_the_upstreams_answer_and_the_gateway_its_tokens(
    api: Api, stream: bool
) -> None:
    """The same conversation twice (a cache write, then a cache read), directly and through
    the gateway: the same answers, and rows summing to serve-sim's own counts."""
    with SimServer(api, pack=PACK, seed=7, reasoning_tokens=5) as sim:
        direct = [ask(api, sim.sdk_base_url, "k", stream, turn=turn) for turn in (0, 1)]
    with sim_and_gateway(api) as (sim, gateway, upstream):
        key = gateway.issue("t1", "solo", upstream)
        url = gateway.sdk_base_url(upstream.wire)
        through = [ask(api, url, key, stream, turn=turn) for turn in (0, 1)]
        stats = sim.stats()
    assert through == direct
    calls = gateway.calls("t1")
    model = ANTHROPIC_REQUEST["model"] if api == "anthropic" else OPENAI_REQUEST["model"]
    reported = stats["models"][model]
    assert total(calls) == {kind: reported[kind] for kind in TOKEN_KINDS}
    # Every kind the wire reports was met: Chat Completions reports no cache writes.
    kinds = TOKEN_KINDS if api == "anthropic" else ("input", "output", "cache_read", "reasoning")
    assert all(total(calls)[kind] > 0 for kind in kinds), total(calls)
    for seq, call in enumerate(calls, 1):
        record = call.record
        assert (record.seq, record.status, record.role, record.provider) == (seq, "ok", "solo", api)
        assert record.model == record.model_id == model and record.request_id
        assert call.streamed is stream and call.http_status == 200 and call.forwarded
        assert record.latency_s > 0 and record.started_at > 0 and record.error_class is None
    assert gateway.records("t1") == [c.record for c in calls]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_unknown_and_revoked_keys_are_refused_and_nothing_is_forwarded(api: Api) -> None:
    with sim_and_gateway(api) as (sim, gateway, upstream):
        url = gateway.sdk_base_url(upstream.wire)
        error = anthropic.AuthenticationError if api == "anthropic" else openai.AuthenticationError
        key = gateway.issue("t1", "executor", upstream)  # a live key exists, but is not these
        with pytest.raises(error) as unknown:
            ask(api, url, "armbench-gw-" + "0" * 48, stream=False)
        with pytest.raises(error):
            ask(api, url, REAL_KEY, stream=True)  # not even the real key gets through
        assert sim.stats()["requests"] == 0 and gateway.calls("t1") == []
        ask(api, url, key, stream=False)
        gateway.revoke(key)
        with pytest.raises(error):
            ask(api, url, key, stream=True)
        assert sim.stats()["requests"] == 1
        assert len(gateway.calls("t1")) == 1
    body = getattr(unknown.value, "body", None)
    assert isinstance(body, dict)
    if api == "anthropic":  # the wire's own error shape
        assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    else:
        assert body["type"] == "invalid_request_error" and "revoked" in body["message"]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_the_real_key_never_reaches_the_client_or_the_ledger(api: Api) -> None:
    transport = Recording()
    with sim_and_gateway(api) as (sim, gateway, upstream):
        key = gateway.issue("t1", "solo", upstream)
        url = gateway.sdk_base_url(upstream.wire)
        ask(api, url, key, stream=False, transport=transport)
        ask(api, url, key, stream=True, transport=transport)
        sim.set_faults([parse_fault("status=429,retry_after=1,times=1")])
        with pytest.raises(
            anthropic.RateLimitError if api == "anthropic" else openai.RateLimitError
        ):
            ask(api, url, key, stream=True, transport=transport)
        calls = gateway.calls("t1")
    assert len(calls) == 3 and transport.seen.count(b"200\n") == 2
    assert REAL_KEY.encode() not in transport.seen
    assert REAL_KEY not in repr(calls) and key not in repr(calls)


class Stub:
    """An upstream that records what it is sent and answers as told: `answer(handler, body)`."""

    def __init__(self, answer: Any) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                stub.received.append((self.path, dict(self.headers), body))
                answer(self, body)

        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def __enter__(self) -> Stub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def echo_key(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """A careless upstream: refuses the key and quotes it whole."""
    message = f"invalid x-api-key: {handler.headers['x-api-key']}"
    data = json.dumps(
        {"type": "error", "error": {"type": "authentication_error", "message": message}}
    )
    handler.send_response(401)
    handler.send_header("content-type", "application/json")
    handler.send_header("request-id", "req_stub")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data.encode())


def test_the_upstream_gets_the_real_key_and_an_echo_of_it_is_masked() -> None:
    transport = Recording()
    with Stub(echo_key) as stub, Gateway() as gateway:
        key = gateway.issue("t1", "solo", Upstream("anthropic", stub.url, KEY_ENV, route="cloud"))
        client = anthropic.Anthropic(**settings(gateway.sdk_base_url("anthropic"), key, transport))
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(
                model="m",
                max_tokens=5,
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"anthropic-beta": "b1", "x-custom": "no"},
            )
        ((path, headers, body),) = stub.received
        (call,) = gateway.calls("t1")
    assert path == "/v1/messages" and json.loads(body)["model"] == "m"
    assert headers["x-api-key"] == REAL_KEY and "authorization" not in {h.lower() for h in headers}
    assert headers["anthropic-beta"] == "b1" and "anthropic-version" in headers
    assert key not in json.dumps(headers) and "x-custom" not in headers
    assert REAL_KEY.encode() not in transport.seen and MASK in str(caught.value)
    record = call.record
    assert (record.status, record.error_class, record.route, record.request_id) == (
        "error",
        "auth",
        "cloud",
        "req_stub",
    )
    assert call.http_status == 401 and REAL_KEY not in repr(call) and MASK in (record.error or "")


@pytest.mark.parametrize(
    ("api", "fault", "stream", "error", "infra"),
    [
        ("anthropic", "status=529,times=1", True, anthropic.OverloadedError, "overloaded"),
        ("openai", "status=529,times=1", False, openai.InternalServerError, "overloaded"),
        ("openai", "status=503,times=1", True, openai.InternalServerError, "overloaded"),
        ("anthropic", "cut_off,times=1", True, httpx2.RemoteProtocolError, "connection"),
        ("openai", "cut_off,times=1", True, openai.APIConnectionError, "connection"),
        ("anthropic", "cut_off,times=1", False, anthropic.APIConnectionError, "connection"),
        ("openai", "malformed,times=1", True, json.JSONDecodeError, "malformed_response"),
        (
            "anthropic",
            "no_usage,times=1",
            False,
            anthropic.APIResponseValidationError,
            "malformed_response",
        ),
        ("openai", "drop,times=1", False, openai.APIConnectionError, "connection"),
    ],
)
def test_a_fault_at_the_upstream_reaches_the_client_and_is_an_error_row(
    api: Api, fault: str, stream: bool, error: type[Exception], infra: str
) -> None:
    with sim_and_gateway(api) as (sim, gateway, upstream):
        key = gateway.issue("t1", "solo", upstream)
        url = gateway.sdk_base_url(upstream.wire)
        sim.set_faults([parse_fault(fault)])
        with pytest.raises(error):
            ask(api, url, key, stream)
        ask(api, url, key, stream)  # times=1: the next call is whole, on the same gateway
        # The client gave up on the broken call before the gateway finished with it.
        assert gateway.settle("t1", timeout_s=30)
        failed, whole = gateway.calls("t1")
    assert failed.record.status == "error" and failed.record.error_class == infra
    assert whole.record.status == "ok" and whole.record.usage.output > 0
    if fault.startswith("status"):
        assert failed.http_status == int(fault[7:10]) and failed.record.usage == Usage()
    if api == "anthropic" and stream and fault.startswith("cut_off"):
        # message_start came before the cut: its input counts are on the row, not dropped
        assert failed.record.usage.input == whole.record.usage.input > 0
        assert failed.streamed


def test_two_trials_at_once_are_each_their_own() -> None:
    with sim_and_gateway("anthropic") as (sim, gateway, upstream):
        keys = {trial: gateway.issue(trial, "solo", upstream) for trial in ("a", "b")}
        url = gateway.sdk_base_url("anthropic")
        jobs = [("a", True), ("b", False)] * 4 + [("a", False)] * 2

        def one(job: tuple[str, bool]) -> str:
            trial, stream = job
            client = anthropic.Anthropic(**settings(url, keys[trial]))
            request = {**ANTHROPIC_REQUEST, "model": f"model-{trial}"}
            if stream:
                with client.messages.stream(**request) as events:
                    return str(events.get_final_message().model)
            return str(client.messages.create(**request).model)

        with ThreadPoolExecutor(max_workers=6) as pool:
            answered = list(pool.map(one, jobs))
        stats = sim.stats()["models"]
    assert answered == [f"model-{trial}" for trial, _ in jobs]
    for trial, count in (("a", 6), ("b", 4)):
        calls = gateway.calls(trial)
        assert [c.record.seq for c in calls] == list(range(1, count + 1))
        assert {c.record.model for c in calls} == {f"model-{trial}"}
        assert total(calls) == {k: stats[f"model-{trial}"][k] for k in TOKEN_KINDS}


def test_count_tokens_is_relayed_and_is_not_a_model_call() -> None:
    request = {k: v for k, v in ANTHROPIC_REQUEST.items() if k != "max_tokens"}
    with sim_and_gateway("anthropic") as (sim, gateway, upstream):
        direct = anthropic.Anthropic(**settings(sim.sdk_base_url, "k")).messages.count_tokens(
            **request
        )
        key = gateway.issue("t1", "router", upstream)
        client = anthropic.Anthropic(**settings(gateway.sdk_base_url("anthropic"), key))
        counted = client.messages.count_tokens(**request)
        (call,) = gateway.calls("t1")
    assert counted.input_tokens == direct.input_tokens > 0
    assert call.endpoint == "count_tokens" and not call.billable and call.record.status == "ok"
    assert gateway.records("t1") == []


def test_a_key_for_one_wire_format_is_refused_on_the_other() -> None:
    with sim_and_gateway("anthropic") as (sim, gateway, upstream):
        key = gateway.issue("t1", "solo", upstream)
        with pytest.raises(openai.BadRequestError):
            ask("openai", gateway.sdk_base_url("openai"), key, stream=False)
        assert sim.stats()["requests"] == 0
        (call,) = gateway.calls("t1")
    assert not call.forwarded and call.record.error_class == "harness"


def test_a_stream_is_relayed_as_it_arrives() -> None:
    """The upstream sends one event, then waits until the client has read it: a gateway that
    buffered the stream would leave both waiting."""
    read_first = threading.Event()
    in_time: list[bool] = []

    def slow_stream(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()

        def chunk(text: str) -> None:
            data = text.encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()

        usage = {"prompt_tokens": 3, "completion_tokens": 2}
        chunk('data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]}\n\n')
        in_time.append(read_first.wait(5))
        chunk(json.dumps({"model": "m", "choices": [], "usage": usage}).join(["data: ", "\n\n"]))
        chunk("data: [DONE]\n\n")
        handler.wfile.write(b"0\r\n\r\n")

    with Stub(slow_stream) as stub, Gateway() as gateway:
        key = gateway.issue("t1", "solo", Upstream("openai", stub.url + "/v1", None))
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        with httpx2.stream(
            "POST",
            gateway.sdk_base_url("openai") + "/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        ) as response:
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")  # before the upstream sent the rest
            read_first.set()
            rest = [line for line in lines if line]
        ((_, headers, sent),) = stub.received
        (call,) = gateway.calls("t1")
    assert in_time == [True]  # the client had the first event while the upstream waited
    assert rest == ["data: [DONE]"]  # the usage chunk the client did not ask for is not sent
    assert json.loads(sent)["stream_options"] == {"include_usage": True}
    assert "authorization" not in {h.lower() for h in headers}  # a keyless upstream
    assert call.record.usage == Usage(input=3, output=2) and call.record.status == "ok"


@pytest.mark.parametrize(
    ("api", "path", "body"),
    [
        (
            "anthropic",
            "/v1/messages?beta=true",
            b'{"model":  "m", "max_tokens": 5,\n "x": "\\u00e9"}',
        ),
        ("openai", "/v1/chat/completions", b'{ "model": "m", "stream": false }'),
        (
            "openai",
            "/chat/completions",
            b'{"stream": true, "stream_options": {"include_usage": true}}',
        ),
    ],
)
def test_the_body_is_forwarded_byte_for_byte(api: Api, path: str, body: bytes) -> None:
    """Only an OpenAI stream that did not ask for usage is changed (see the stream test)."""
    with Stub(echo_key) as stub, Gateway() as gateway:
        base = stub.url + ("/v1" if api == "openai" else "")
        key = gateway.issue("t1", "solo", Upstream(api, base, KEY_ENV))
        headers = {"x-api-key": key, "content-type": "application/json"}
        httpx2.post(gateway.base_url + path, content=body, headers=headers, timeout=5)
        ((received_path, _, received),) = stub.received
    assert received == body
    assert received_path == path if api == "anthropic" else received_path == "/v1/chat/completions"


def test_an_openai_client_that_asks_for_usage_gets_the_usage_chunk() -> None:
    with sim_and_gateway("openai") as (_sim, gateway, upstream):
        key = gateway.issue("t1", "solo", upstream)
        client = openai.OpenAI(**settings(gateway.sdk_base_url("openai"), key))
        options: Any = {"include_usage": True}
        chunks = list(
            client.chat.completions.create(stream=True, stream_options=options, **OPENAI_REQUEST)
        )
        (call,) = gateway.calls("t1")
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert call.record.usage.output == last.usage.completion_tokens
    assert call.record.usage.input + call.record.usage.cache_read == last.usage.prompt_tokens
