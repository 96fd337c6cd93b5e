"""Fault injection: rule syntax, scheduling, and what each official SDK raises for each fault."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest

from armbench.serve import FaultPlan, FaultRule, SimServer, parse_fault
from armbench.serve.faults import rules_from_json

# --- syntax -----------------------------------------------------------------------------------


def test_parse_fault_reads_every_documented_form() -> None:
    assert parse_fault("status=429,retry_after=2,times=3") == FaultRule(
        kind="status", status=429, retry_after=2.0, times=3
    )
    assert parse_fault("status=529,retry_after=0.2,times=2").retry_after == 0.2
    assert parse_fault("drop,after=1") == FaultRule(kind="drop", after=1)
    assert parse_fault("slow=3") == FaultRule(kind="slow", delay_s=3.0)
    assert parse_fault("malformed,every=5,times=0") == FaultRule(kind="malformed", every=5, times=0)
    assert parse_fault("no_usage").kind == "no_usage"
    assert parse_fault("cut_off,after=2") == FaultRule(kind="cut_off", after=2)
    quota = parse_fault("status=429,error_type=insufficient_quota")
    assert quota.error_type == "insufficient_quota"
    assert parse_fault(quota.describe()) == quota


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("status=429,retries=2", "'retries'"),
        ("explode", "'explode'"),
        ("status=abc", "status"),
        ("status=429,times=-1", "times"),
        ("status=200", "status"),
        ("status", "status"),
        ("slow", "delay"),
        ("drop=3", "'drop'"),
        ("status=429,after", "'after'"),
        ("", "empty"),
    ],
)
def test_parse_fault_names_the_bad_key(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        parse_fault(spec)


def test_rules_from_json_takes_objects_and_strings() -> None:
    rules = rules_from_json([{"kind": "status", "status": 500}, "drop,after=2"])
    assert rules == [FaultRule(kind="status", status=500), FaultRule(kind="drop", after=2)]
    with pytest.raises(ValueError, match="rule 0"):
        rules_from_json([{"kind": "status", "status": 500, "colour": "red"}])
    with pytest.raises(ValueError, match="list"):
        rules_from_json({"kind": "drop"})


# --- scheduling (no HTTP) ---------------------------------------------------------------------


def fired(plan: FaultPlan, requests: int) -> list[int | None]:
    """Which rule (by position in the plan) fired on each of `requests` requests."""
    rules = [parse_fault(s["rule"]) for s in plan.stats()]
    return [rules.index(r) if (r := plan.next_fault()) else None for _ in range(requests)]


def plan_of(*specs: str) -> FaultPlan:
    return FaultPlan([parse_fault(spec) for spec in specs])


def test_times_applies_to_the_next_n_requests_then_stops() -> None:
    assert fired(plan_of("drop,times=2"), 4) == [0, 0, None, None]


def test_after_skips_the_first_k_requests() -> None:
    assert fired(plan_of("drop,after=2"), 4) == [None, None, 0, None]


def test_every_fires_on_every_nth_request_and_times_0_never_stops() -> None:
    got = fired(plan_of("malformed,every=3,times=0,after=1"), 8)
    assert got == [None, 0, None, None, 0, None, None, 0]


def test_the_first_due_rule_wins_and_a_masked_rule_stays_due() -> None:
    plan = plan_of("status=500,times=2", "drop,times=1")
    assert fired(plan, 4) == [0, 0, 1, None]
    assert [(s["seen"], s["applied"]) for s in plan.stats()] == [(4, 2), (4, 1)]


def test_after_counts_every_request_whatever_earlier_rules_did() -> None:
    assert fired(plan_of("status=429,times=2", "status=500,after=2"), 4) == [0, 0, 1, None]


def test_set_rules_resets_the_counters() -> None:
    plan = plan_of("drop,after=1")
    assert fired(plan, 1) == [None]
    plan.set_rules([parse_fault("drop,after=1")])
    assert fired(plan, 2) == [None, 0]


# --- over HTTP, with the official SDKs --------------------------------------------------------

Call = Callable[..., Any]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, SimServer]]:
    running = {api: SimServer(api).start() for api in ("anthropic", "openai")}
    yield running
    for server in running.values():
        server.stop()


def anthropic_call(server: SimServer, **options: Any) -> Any:
    client = anthropic.Anthropic(api_key="test-key", base_url=server.sdk_base_url, max_retries=0)
    return client.with_options(**options).messages.create(
        model="sim", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
    )


def openai_call(server: SimServer, **options: Any) -> Any:
    client = openai.OpenAI(api_key="test-key", base_url=server.sdk_base_url, max_retries=0)
    return client.with_options(**options).chat.completions.create(
        model="sim", messages=[{"role": "user", "content": "hello"}]
    )


CALLS = {"anthropic": anthropic_call, "openai": openai_call}


def with_fault(servers: dict[str, SimServer], api: str, spec: str) -> SimServer:
    server = servers[api]
    server.set_faults([parse_fault(spec)])
    return server


@pytest.mark.parametrize(
    ("api", "spec", "error"),
    [
        ("anthropic", "status=429,retry_after=1.5", anthropic.RateLimitError),
        ("anthropic", "status=529", anthropic.OverloadedError),
        ("anthropic", "status=500", anthropic.InternalServerError),
        ("anthropic", "status=401", anthropic.AuthenticationError),
        ("anthropic", "status=402,error_type=billing_error", anthropic.PaymentRequiredError),
        ("anthropic", "status=413", anthropic.ContentTooLargeError),
        ("openai", "status=429,retry_after=1.5", openai.RateLimitError),
        ("openai", "status=503", openai.InternalServerError),
        ("openai", "status=500", openai.InternalServerError),
        ("openai", "status=401", openai.AuthenticationError),
    ],
)
def test_status_faults_raise_the_sdks_error_class(
    servers: dict[str, SimServer], api: str, spec: str, error: type[Exception]
) -> None:
    server = with_fault(servers, api, spec)
    with pytest.raises(error) as caught:
        CALLS[api](server)
    exc: Any = caught.value
    header = "request-id" if api == "anthropic" else "x-request-id"
    assert exc.request_id == exc.response.headers[header]
    assert exc.request_id.startswith("req_")
    if "retry_after" in spec:
        assert exc.response.headers["retry-after"] == "2"  # rounded up to whole seconds
        assert exc.response.headers["retry-after-ms"] == "1500"
    assert "test-key" not in exc.response.text
    CALLS[api](server)  # times=1: the next request is answered


def test_anthropic_error_body_names_the_error_type(servers: dict[str, SimServer]) -> None:
    server = with_fault(servers, "anthropic", "status=529")
    with pytest.raises(anthropic.OverloadedError) as caught:
        anthropic_call(server)
    assert caught.value.type == "overloaded_error"
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded (simulated)."},
        "request_id": caught.value.request_id,
    }


def test_openai_quota_is_a_rate_limit_error_with_its_own_code(
    servers: dict[str, SimServer],
) -> None:
    server = with_fault(servers, "openai", "status=429,error_type=insufficient_quota")
    with pytest.raises(openai.RateLimitError) as caught:
        openai_call(server)
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"
    server = with_fault(servers, "openai", "status=429")
    with pytest.raises(openai.RateLimitError) as caught:
        openai_call(server)
    assert caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("api", "error"),
    [("anthropic", anthropic.APIConnectionError), ("openai", openai.APIConnectionError)],
)
def test_drop_is_a_connection_error(
    servers: dict[str, SimServer], api: str, error: type[Exception]
) -> None:
    server = with_fault(servers, api, "drop")
    with pytest.raises(error) as caught:
        CALLS[api](server)
    assert not isinstance(caught.value, anthropic.APITimeoutError | openai.APITimeoutError)
    CALLS[api](server)


@pytest.mark.parametrize(
    ("api", "error"),
    [("anthropic", anthropic.APIConnectionError), ("openai", openai.APIConnectionError)],
)
def test_cut_off_plain_answer_is_a_connection_error(
    servers: dict[str, SimServer], api: str, error: type[Exception]
) -> None:
    """Half the promised body, then the connection closed: a broken response, not a short one
    (on a stream it breaks mid-stream: test_serve_streaming)."""
    server = with_fault(servers, api, "cut_off")
    with pytest.raises(error):
        CALLS[api](server)
    CALLS[api](server)


@pytest.mark.parametrize(
    ("api", "error"),
    [("anthropic", anthropic.APITimeoutError), ("openai", openai.APITimeoutError)],
)
def test_slow_past_the_client_timeout_is_a_timeout(
    servers: dict[str, SimServer], api: str, error: type[Exception]
) -> None:
    server = with_fault(servers, api, "slow=5")
    with pytest.raises(error):
        CALLS[api](server, timeout=0.5)


def test_slow_within_the_timeout_answers_normally(servers: dict[str, SimServer]) -> None:
    server = with_fault(servers, "openai", "slow=0.2")
    assert openai_call(server, timeout=5).usage.prompt_tokens > 0


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_malformed_body_escapes_both_sdks_as_a_json_decode_error(
    servers: dict[str, SimServer], api: str
) -> None:
    """Neither SDK wraps a truncated 200 body: the raw json.JSONDecodeError reaches the caller
    (a provider must catch ValueError and call it a malformed response)."""
    server = with_fault(servers, api, "malformed")
    with pytest.raises(json.JSONDecodeError):
        CALLS[api](server)


def test_no_usage_anthropic_none_when_lenient_validation_error_when_strict(
    servers: dict[str, SimServer],
) -> None:
    server = with_fault(servers, "anthropic", "no_usage")
    message = anthropic_call(server)
    assert isinstance(message, anthropic.types.Message)
    assert message.usage is None
    server.set_faults([parse_fault("no_usage")])
    strict = anthropic.Anthropic(
        api_key="test-key",
        base_url=server.sdk_base_url,
        max_retries=0,
        _strict_response_validation=True,
    )
    with pytest.raises(anthropic.APIResponseValidationError):
        strict.messages.create(
            model="sim", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        )


def test_no_usage_openai_usage_is_none_even_when_strict(servers: dict[str, SimServer]) -> None:
    server = with_fault(servers, "openai", "no_usage")
    strict = openai.OpenAI(
        api_key="test-key",
        base_url=server.sdk_base_url,
        max_retries=0,
        _strict_response_validation=True,
    )
    completion = strict.chat.completions.create(
        model="sim", messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.usage is None
    assert completion.choices[0].message.content


# --- control endpoints ------------------------------------------------------------------------


def http(method: str, url: str, payload: object = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_faults_can_be_replaced_and_inspected_over_http() -> None:
    with SimServer("anthropic", faults=[parse_fault("drop,times=0")]) as server:
        status, body = http("POST", server.base_url + "/_armbench/faults", ["status=500,times=2"])
        assert status == 200
        assert body["faults"] == [{"rule": "status=500,times=2", "seen": 0, "applied": 0}]
        with pytest.raises(anthropic.InternalServerError):
            anthropic_call(server)
        status, stats = http("GET", server.base_url + "/_armbench/stats")
        assert status == 200
        assert stats["api"] == "anthropic"
        assert stats["requests"] == 1 and stats["errors"] == 1
        assert stats["faults_applied"] == {"status": 1}
        assert stats["faults"] == [{"rule": "status=500,times=2", "seen": 1, "applied": 1}]
        assert stats == server.stats()

        status, body = http("POST", server.base_url + "/_armbench/faults", ["explode"])
        assert status == 400 and "explode" in body["error"]
        status, body = http("POST", server.base_url + "/_armbench/faults", [])
        assert status == 200 and body["faults"] == []
        anthropic_call(server)
        assert server.stats()["answered"] == 1


def test_stopping_ends_kept_alive_connections_too() -> None:
    server = SimServer("anthropic").start()
    assert server.base_url.startswith("http://127.0.0.1:")
    client = anthropic.Anthropic(api_key="test-key", base_url=server.sdk_base_url, max_retries=0)

    def ask() -> object:
        return client.messages.create(
            model="sim", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )

    ask()  # leaves a pooled keep-alive connection behind
    server.stop()
    with pytest.raises(anthropic.APIConnectionError):
        ask()
