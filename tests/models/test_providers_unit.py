"""The real providers piece by piece: HTTP error classes, request building, usage in the six
kinds, unparsable tool arguments, SDK exceptions (from serve-sim over real HTTP), and keys."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import CacheCreation, OutputTokensDetails
from anthropic.types import Message as AnthropicMessage
from anthropic.types import Usage as AnthropicUsage
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion
from openai.types.completion_usage import CompletionTokensDetails, PromptTokensDetails

from armbench.agent.loop import default_breakpoints
from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC, Toolbox
from armbench.config import AnthropicModelConfig, OpenAIModelConfig, SimModelConfig
from armbench.core import (
    MASK,
    UNPARSED_ARGUMENTS,
    CacheBreakpoint,
    InfraClass,
    Message,
    ModelError,
    ModelRequest,
    Redactor,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from armbench.env import LOCAL
from armbench.models import anthropic_messages, openai_chat
from armbench.models.factory import MissingKeyError, ModelFactory
from armbench.models.http_errors import classify_status, retry_after_seconds
from armbench.models.usage import anthropic_usage, openai_usage
from armbench.serve import SimServer, parse_fault

SYSTEM = "You are a careful engineer."
API_KEY = "sk-unit-test-key-0123456789"
EPHEMERAL = {"type": "ephemeral"}


def conversation() -> list[Message]:
    """A realistic agent transcript: task, a tool call, its result, two calls, their results."""
    return [
        Message.user_text("Fix the failing test in greet.py."),
        Message(
            role="assistant",
            content=(
                TextBlock(text="Let me look."),
                ToolUseBlock(id="toolu_1", name="bash", input={"command": "pytest -q"}),
            ),
        ),
        Message(
            role="user",
            content=(ToolResultBlock(tool_use_id="toolu_1", content="1 failed\n[exit code: 1]"),),
        ),
        Message(
            role="assistant",
            content=(
                ToolUseBlock(
                    id="toolu_2",
                    name="editor",
                    input={"command": "view", "path": "greet.py", "view_range": [1, 5]},
                ),
                ToolUseBlock(id="toolu_3", name="bash", input={"command": "ls"}),
            ),
        ),
        Message(
            role="user",
            content=(
                TextBlock(text="Note: keep the public API."),
                ToolResultBlock(
                    tool_use_id="toolu_2", content="error: no such file", is_error=True
                ),
                ToolResultBlock(tool_use_id="toolu_3", content="greet.py\n[exit code: 0]"),
            ),
        ),
    ]


def request_of(messages: list[Message], **kwargs: Any) -> ModelRequest:
    fields: dict[str, Any] = {
        "system": SYSTEM,
        "messages": tuple(messages),
        "tools": (EDITOR_SPEC, BASH_SPEC),
        "cache_breakpoints": default_breakpoints(messages),
    }
    fields.update(kwargs)
    return ModelRequest(**fields)


def anthropic_settings(**kwargs: Any) -> AnthropicModelConfig:
    return AnthropicModelConfig(provider="anthropic", model="claude-test", **kwargs)


def openai_settings(**kwargs: Any) -> OpenAIModelConfig:
    return OpenAIModelConfig(provider="openai", model="gpt-test", **kwargs)


def cache_marks(kwargs: dict[str, Any]) -> list[str]:
    """Where build_request put cache_control, as readable paths."""
    found = [f"tools[{i}]" for i, t in enumerate(kwargs.get("tools", [])) if "cache_control" in t]
    found += [
        f"system[{i}]" for i, b in enumerate(kwargs.get("system", [])) if "cache_control" in b
    ]
    for m, message in enumerate(kwargs["messages"]):
        found += [
            f"messages[{m}][{b}]"
            for b, block in enumerate(message["content"])
            if "cache_control" in block
        ]
    return found


# --- classify_status --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "code", "message", "expected"),
    [
        (401, "authentication_error", None, "invalid x-api-key", "auth"),
        (403, "permission_error", None, "Your API key does not have permission", "auth"),
        (402, "billing_error", None, "Payment required", "quota"),
        (402, None, None, "", "quota"),
        (429, "rate_limit_error", None, "This request would exceed the rate limit", "rate_limit"),
        (429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-5", "rate_limit"),
        # A per-minute limit worded with "quota" is still a rate limit: retried, not fatal.
        (429, None, "rate_limit_exceeded", "Per-minute quota exceeded, slow down", "rate_limit"),
        (429, "insufficient_quota", "insufficient_quota", "You exceeded your quota", "quota"),
        (429, None, "insufficient_quota", "Please check your plan", "quota"),
        (
            400,
            "invalid_request_error",
            None,
            "Your credit balance is too low to access the Anthropic API.",
            "quota",
        ),
        (408, None, None, "Request timeout", "timeout"),
        (409, None, None, "Conflict", "server_error"),
        (500, "api_error", None, "Internal server error", "server_error"),
        (502, None, None, "Bad gateway", "server_error"),
        (503, "server_error", None, "Service unavailable", "overloaded"),
        (529, "overloaded_error", None, "Overloaded", "overloaded"),
        (400, "invalid_request_error", None, "messages: field required", "harness"),
        (404, "not_found_error", "model_not_found", "The model does not exist", "harness"),
        (413, "request_too_large", None, "Request exceeds the maximum size", "harness"),
        (422, None, None, "Unprocessable entity", "harness"),
    ],
)
def test_classify_status(
    status: int, error_type: str | None, code: str | None, message: str, expected: InfraClass
) -> None:
    assert classify_status(status, error_type, code, message) == expected


# --- retry_after_seconds ----------------------------------------------------------------------

NOW = 1_700_000_000.0


def http_date(timestamp: float) -> str:
    return email.utils.format_datetime(datetime.fromtimestamp(timestamp, tz=UTC), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.75"}, 0.75),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": http_date(NOW + 120)}, 120.0),
        ({"retry-after": http_date(NOW - 30)}, 0.0),  # a date in the past: go now
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after-ms": "abc", "retry-after": "7"}, 7.0),  # bad ms falls back
        ({"retry-after-ms": "abc"}, None),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after-ms": "-100", "retry-after": "9"}, 0.0),
        ({}, None),
        ({"x-ratelimit-reset": "30"}, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == expected


def test_retry_after_reads_the_sdks_case_insensitive_headers() -> None:
    headers = httpx2.Headers({"Retry-After": "3", "Content-Type": "application/json"})
    assert retry_after_seconds(headers) == 3.0
    headers = httpx2.Headers({"Retry-After-Ms": "40", "Retry-After": "3"})
    assert retry_after_seconds(headers) == 0.04


@pytest.mark.parametrize("value", ["nan", "NaN"])
def test_retry_after_nan_is_garbage(value: str) -> None:
    assert retry_after_seconds({"retry-after": value}) is None


# --- Anthropic build_request ------------------------------------------------------------------


def test_anthropic_default_breakpoints_mark_last_tool_system_and_latest_user_block() -> None:
    messages = conversation()
    kwargs = anthropic_messages.build_request(request_of(messages), anthropic_settings())

    assert cache_marks(kwargs) == ["tools[1]", "system[0]", "messages[4][2]"]
    assert kwargs["tools"][1]["cache_control"] == EPHEMERAL
    assert kwargs["tools"][1]["name"] == "bash"
    assert kwargs["tools"][0] == EDITOR_SPEC.model_dump()
    assert kwargs["system"] == [{"type": "text", "text": SYSTEM, "cache_control": EPHEMERAL}]
    assert kwargs["model"] == "claude-test"
    assert kwargs["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Fix the failing test in greet.py."}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "bash",
                    "input": {"command": "pytest -q"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "1 failed\n[exit code: 1]",
                    "is_error": False,
                }
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "editor",
                    "input": {"command": "view", "path": "greet.py", "view_range": [1, 5]},
                },
                {"type": "tool_use", "id": "toolu_3", "name": "bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Note: keep the public API."},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "error: no such file",
                    "is_error": True,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_3",
                    "content": "greet.py\n[exit code: 0]",
                    "is_error": False,
                    "cache_control": EPHEMERAL,
                },
            ],
        },
    ]
    assert "extra_body" not in kwargs  # no temperature configured
    assert kwargs["max_tokens"] == 8192


def test_anthropic_breakpoint_moves_with_the_latest_user_message() -> None:
    messages = conversation()[:3]
    kwargs = anthropic_messages.build_request(request_of(messages), anthropic_settings())
    assert cache_marks(kwargs) == ["tools[1]", "system[0]", "messages[2][0]"]


def test_anthropic_negative_message_index_counts_from_the_end() -> None:
    messages = conversation()
    points = (CacheBreakpoint(where="message", message_index=-3, block_index=0),)
    kwargs = anthropic_messages.build_request(
        request_of(messages, cache_breakpoints=points), anthropic_settings()
    )
    assert cache_marks(kwargs) == ["messages[2][0]"]


def test_anthropic_system_only_breakpoints() -> None:
    kwargs = anthropic_messages.build_request(
        request_of(conversation()), anthropic_settings(cache_breakpoints=("system",))
    )
    assert cache_marks(kwargs) == ["system[0]"]


def test_anthropic_cache_off_marks_nothing() -> None:
    kwargs = anthropic_messages.build_request(
        request_of(conversation()), anthropic_settings(cache=False)
    )
    assert cache_marks(kwargs) == []
    assert "cache_control" not in json.dumps(kwargs)


def test_anthropic_one_hour_ttl_on_every_marker() -> None:
    kwargs = anthropic_messages.build_request(
        request_of(conversation()), anthropic_settings(cache_ttl="1h")
    )
    controls = [kwargs["tools"][1], kwargs["system"][0], kwargs["messages"][4]["content"][2]]
    assert [c["cache_control"] for c in controls] == [{"type": "ephemeral", "ttl": "1h"}] * 3


def test_anthropic_no_system_and_no_tools_are_left_out() -> None:
    messages = [Message.user_text("hi")]
    kwargs = anthropic_messages.build_request(
        request_of(messages, system="", tools=()), anthropic_settings()
    )
    assert "system" not in kwargs and "tools" not in kwargs
    assert cache_marks(kwargs) == ["messages[0][0]"]


def test_anthropic_markers_never_exceed_four_with_the_default_placement() -> None:
    messages: list[Message] = []
    for turn in range(12):
        messages.append(Message.user_text(f"turn {turn}"))
        kwargs = anthropic_messages.build_request(request_of(messages), anthropic_settings())
        assert json.dumps(kwargs).count("cache_control") <= 4
        messages.append(Message(role="assistant", content=(TextBlock(text="ok"),)))


def test_anthropic_never_sends_more_than_four_markers() -> None:
    messages = conversation()
    points = (
        CacheBreakpoint(where="tools"),
        CacheBreakpoint(where="system"),
        *(CacheBreakpoint(where="message", message_index=i) for i in range(5)),
    )
    kwargs = anthropic_messages.build_request(
        request_of(messages, cache_breakpoints=points), anthropic_settings()
    )
    assert json.dumps(kwargs).count("cache_control") <= 4


def test_anthropic_temperature_goes_in_extra_body_and_max_tokens_is_the_minimum() -> None:
    messages = conversation()
    kwargs = anthropic_messages.build_request(
        request_of(messages, max_tokens=2000), anthropic_settings(temperature=0.3, max_tokens=4096)
    )
    assert kwargs["extra_body"] == {"temperature": 0.3}
    assert "temperature" not in kwargs
    assert kwargs["max_tokens"] == 2000
    kwargs = anthropic_messages.build_request(
        request_of(messages, max_tokens=9000), anthropic_settings(max_tokens=1024)
    )
    assert kwargs["max_tokens"] == 1024
    kwargs = anthropic_messages.build_request(
        request_of(messages), anthropic_settings(temperature=0.0)
    )
    assert kwargs["extra_body"] == {"temperature": 0.0}  # zero is a temperature, not "unset"


# --- Anthropic usage and responses ------------------------------------------------------------


def test_anthropic_usage_uses_the_ttl_breakdown() -> None:
    usage = AnthropicUsage(
        input_tokens=100,
        output_tokens=300,
        cache_creation_input_tokens=1500,
        cache_read_input_tokens=2000,
        cache_creation=CacheCreation(ephemeral_5m_input_tokens=500, ephemeral_1h_input_tokens=1000),
        output_tokens_details=OutputTokensDetails(thinking_tokens=120),
    )
    expected = Usage(
        input=100,
        output=300,
        cache_write_5m=500,
        cache_write_1h=1000,
        cache_read=2000,
        reasoning=120,
    )
    # The breakdown wins over what was asked for.
    assert anthropic_usage(usage, "5m") == expected
    assert anthropic_usage(usage, "1h") == expected


@pytest.mark.parametrize(("ttl", "write_5m", "write_1h"), [("5m", 1500, 0), ("1h", 0, 1500)])
def test_anthropic_usage_without_breakdown_goes_to_the_requested_ttl(
    ttl: str, write_5m: int, write_1h: int
) -> None:
    usage = AnthropicUsage(
        input_tokens=40,
        output_tokens=7,
        cache_creation_input_tokens=1500,
        cache_read_input_tokens=0,
    )
    assert anthropic_usage(usage, ttl) == Usage(
        input=40, output=7, cache_write_5m=write_5m, cache_write_1h=write_1h
    )


def test_anthropic_usage_with_only_the_required_fields() -> None:
    usage = AnthropicUsage(input_tokens=12, output_tokens=34)
    assert anthropic_usage(usage, "5m") == Usage(input=12, output=34)


def test_anthropic_missing_usage_is_malformed_never_zero() -> None:
    with pytest.raises(ModelError) as caught:
        anthropic_usage(None, "5m")
    assert caught.value.infra_class == "malformed_response" and caught.value.retryable
    lenient = AnthropicUsage.construct(output_tokens=5)  # as the SDK builds an unvalidated body
    with pytest.raises(ModelError) as caught:
        anthropic_usage(lenient, "5m")
    assert caught.value.infra_class == "malformed_response"


def _anthropic_body(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-20990101",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def test_anthropic_partial_usage_through_complete_is_malformed() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = _anthropic_body({"input_tokens": 5})
        return httpx2.Response(200, json=body, headers={"request-id": "req_partial"})

    client = anthropic.Anthropic(
        api_key="k",
        base_url="http://anthropic.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    model = anthropic_messages.AnthropicMessagesModel(anthropic_settings(), client)
    with pytest.raises(ModelError) as caught:
        model.complete(request_of([Message.user_text("hi")]))
    assert caught.value.infra_class == "malformed_response"


def test_anthropic_parse_response_maps_blocks_and_stop_reasons() -> None:
    body = _anthropic_body({"input_tokens": 3, "output_tokens": 9})
    body["content"] = [
        {"type": "text", "text": "running"},
        {"type": "tool_use", "id": "toolu_9", "name": "bash", "input": {"command": "ls"}},
    ]
    body["stop_reason"] = "tool_use"
    response = anthropic_messages.parse_response(AnthropicMessage.model_validate(body), 0.25, "5m")
    assert response.content == (
        TextBlock(text="running"),
        ToolUseBlock(id="toolu_9", name="bash", input={"command": "ls"}),
    )
    assert response.stop_reason == "tool_use"
    assert response.model_id == "claude-test-20990101"
    assert response.usage == Usage(input=3, output=9)
    assert response.latency_s == 0.25 and not response.latency_simulated
    assert not response.simulated
    for wire, ours in [("max_tokens", "max_tokens"), ("end_turn", "end_turn")]:
        body["stop_reason"] = wire
        parsed = anthropic_messages.parse_response(AnthropicMessage.model_validate(body), 0, "5m")
        assert parsed.stop_reason == ours


# --- OpenAI build_request ---------------------------------------------------------------------


def test_openai_request_puts_tool_results_right_after_the_calling_turn() -> None:
    kwargs = openai_chat.build_request(request_of(conversation()), openai_settings())
    messages = kwargs["messages"]
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "tool",
        "user",
    ]
    assert messages[0] == {"role": "system", "content": SYSTEM}
    assert messages[1] == {"role": "user", "content": "Fix the failing test in greet.py."}
    assert messages[2]["content"] == "Let me look."
    assert messages[2]["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "bash", "arguments": json.dumps({"command": "pytest -q"})},
        }
    ]
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "toolu_1",
        "content": "1 failed\n[exit code: 1]",
    }
    assert messages[4]["content"] is None  # tool calls only
    calls = messages[4]["tool_calls"]
    assert [c["id"] for c in calls] == ["toolu_2", "toolu_3"]
    assert all(isinstance(c["function"]["arguments"], str) for c in calls)
    assert json.loads(calls[0]["function"]["arguments"]) == {
        "command": "view",
        "path": "greet.py",
        "view_range": [1, 5],
    }
    # The user's text came first in its turn, but the tool results must precede it.
    assert messages[5] == {
        "role": "tool",
        "tool_call_id": "toolu_2",
        "content": "error: no such file",
    }
    assert messages[6]["tool_call_id"] == "toolu_3"
    assert messages[7] == {"role": "user", "content": "Note: keep the public API."}


def test_openai_request_tools_are_functions_and_limits_apply() -> None:
    kwargs = openai_chat.build_request(
        request_of(conversation(), max_tokens=3000),
        openai_settings(max_tokens=5000, temperature=0.2),
    )
    assert kwargs["model"] == "gpt-test"
    assert kwargs["max_tokens"] == 3000
    assert "max_completion_tokens" not in kwargs
    assert kwargs["temperature"] == 0.2
    assert kwargs["tools"] == [
        {
            "type": "function",
            "function": {
                "name": spec.name,
                "description": spec.description,
                "parameters": spec.input_schema,
            },
        }
        for spec in (EDITOR_SPEC, BASH_SPEC)
    ]
    assert "cache_control" not in json.dumps(kwargs)


def test_openai_request_respects_max_tokens_param() -> None:
    kwargs = openai_chat.build_request(
        request_of([Message.user_text("hi")], tools=(), system=""),
        openai_settings(max_tokens_param="max_completion_tokens", max_tokens=777),
    )
    assert kwargs["max_completion_tokens"] == 777
    assert "max_tokens" not in kwargs and "tools" not in kwargs and "temperature" not in kwargs
    assert kwargs["messages"] == [{"role": "user", "content": "hi"}]  # no empty system


# --- OpenAI usage and responses ---------------------------------------------------------------


def test_openai_usage_splits_cached_from_uncached_input() -> None:
    usage = CompletionUsage(
        prompt_tokens=1000,
        completion_tokens=200,
        total_tokens=1200,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=800),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=50),
    )
    assert openai_usage(usage) == Usage(input=200, output=200, cache_read=800, reasoning=50)


def test_openai_usage_without_details_is_all_uncached() -> None:
    usage = CompletionUsage(prompt_tokens=90, completion_tokens=10, total_tokens=100)
    assert openai_usage(usage) == Usage(input=90, output=10)
    usage = CompletionUsage(
        prompt_tokens=90,
        completion_tokens=10,
        total_tokens=100,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=None),
        completion_tokens_details=CompletionTokensDetails(reasoning_tokens=None),
    )
    assert openai_usage(usage) == Usage(input=90, output=10)


def test_openai_usage_without_completion_tokens_is_malformed_not_zero() -> None:
    usage = CompletionUsage.model_construct(prompt_tokens=90, total_tokens=90)
    with pytest.raises(ModelError) as info:
        openai_usage(usage)
    assert info.value.infra_class == "malformed_response"
    assert "completion_tokens" in str(info.value)


def test_openai_usage_all_cached_is_fine() -> None:
    usage = CompletionUsage(
        prompt_tokens=64,
        completion_tokens=1,
        total_tokens=65,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=64),
    )
    assert openai_usage(usage) == Usage(input=0, output=1, cache_read=64)


def test_openai_usage_more_cached_than_prompt_is_malformed() -> None:
    usage = CompletionUsage(
        prompt_tokens=100,
        completion_tokens=5,
        total_tokens=105,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=101),
    )
    with pytest.raises(ModelError) as caught:
        openai_usage(usage)
    assert caught.value.infra_class == "malformed_response"
    assert "101" in str(caught.value) and "100" in str(caught.value)


def test_openai_missing_usage_is_malformed() -> None:
    with pytest.raises(ModelError) as caught:
        openai_usage(None)
    assert caught.value.infra_class == "malformed_response"


def completion(tool_arguments: list[str], finish_reason: str = "tool_calls") -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-test-2099",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish_reason,
                    "message": {
                        "role": "assistant",
                        "content": "calling" if tool_arguments else "all done",
                        "tool_calls": [
                            {
                                "id": f"call_{i}",
                                "type": "function",
                                "function": {"name": "bash", "arguments": raw},
                            }
                            for i, raw in enumerate(tool_arguments)
                        ]
                        or None,
                    },
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
        }
    )


def test_openai_unparsable_arguments_become_a_tool_error(tmp_path: Path) -> None:
    raws = ['{"command": "echo hi"}', '{"command": "ls"', "[1, 2]", '"ls"', "null"]
    response = openai_chat.parse_response(completion(raws), 0.1)
    assert response.stop_reason == "tool_use"
    assert response.content[0] == TextBlock(text="calling")
    inputs = [call.input for call in response.tool_uses]
    assert inputs == [
        {"command": "echo hi"},
        {UNPARSED_ARGUMENTS: '{"command": "ls"'},
        {UNPARSED_ARGUMENTS: "[1, 2]"},
        {UNPARSED_ARGUMENTS: '"ls"'},
        {UNPARSED_ARGUMENTS: "null"},
    ]
    assert response.usage == Usage(input=50, output=5)
    assert response.model_id == "gpt-test-2099"

    toolbox = Toolbox(LOCAL(tmp_path, home=tmp_path), bash_timeout_s=10)
    ok = toolbox.execute(response.tool_uses[0], time_left_s=10)
    assert not ok.is_error and ok.content == "hi\n[exit code: 0]"
    bad = toolbox.execute(response.tool_uses[1], time_left_s=10)
    assert bad == ToolResultBlock(
        tool_use_id="call_1",
        content='error: the arguments are not a JSON object: \'{"command": "ls"\'',
        is_error=True,
    )
    for call in response.tool_uses[2:]:
        result = toolbox.execute(call, time_left_s=10)
        assert result.is_error and "not a JSON object" in result.content
        assert result.tool_use_id == call.id


def test_openai_parse_response_stop_reasons_and_no_choices() -> None:
    assert openai_chat.parse_response(completion([], "stop"), 0).stop_reason == "end_turn"
    assert openai_chat.parse_response(completion([], "length"), 0).stop_reason == "max_tokens"
    empty = completion([]).model_copy(update={"choices": []})
    with pytest.raises(ModelError) as caught:
        openai_chat.parse_response(empty, 0)
    assert caught.value.infra_class == "malformed_response"


# --- translate_error and complete() over real HTTP --------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, SimServer]]:
    running = {api: SimServer(api).start() for api in ("anthropic", "openai")}
    yield running
    for server in running.values():
        server.stop()


def provider_model(
    server: SimServer, timeout_s: float = 10
) -> anthropic_messages.AnthropicMessagesModel | openai_chat.OpenAIChatModel:
    if server.wire.name == "anthropic":
        a_settings = anthropic_settings(base_url=server.sdk_base_url, timeout_s=timeout_s)
        return anthropic_messages.AnthropicMessagesModel(
            a_settings, anthropic_messages.make_client(a_settings, API_KEY)
        )
    o_settings = openai_settings(base_url=server.sdk_base_url, timeout_s=timeout_s)
    return openai_chat.OpenAIChatModel(o_settings, openai_chat.make_client(o_settings, API_KEY))


def fail_with(
    servers: dict[str, SimServer], api: str, spec: str, timeout_s: float = 10
) -> ModelError:
    server = servers[api]
    server.set_faults([parse_fault(spec)])
    model = provider_model(server, timeout_s)
    with pytest.raises(ModelError) as caught:
        model.complete(request_of([Message.user_text("hello")]))
    return caught.value


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_rate_limit_carries_retry_after_ms_and_request_id(
    servers: dict[str, SimServer], api: str
) -> None:
    error = fail_with(servers, api, "status=429,retry_after=1.5,times=1")
    assert error.infra_class == "rate_limit" and error.retryable and not error.fatal
    assert error.retry_after_s == 1.5  # from retry-after-ms, not the rounded retry-after: 2
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert "429" in str(error)
    assert isinstance(error.__cause__, anthropic.RateLimitError | openai.RateLimitError)


@pytest.mark.parametrize(
    ("api", "spec", "expected"),
    [
        ("anthropic", "status=529", "overloaded"),
        ("anthropic", "status=500", "server_error"),
        ("anthropic", "status=401", "auth"),
        ("anthropic", "status=402", "quota"),
        ("anthropic", "status=402,error_type=billing_error", "quota"),
        ("anthropic", "status=413", "harness"),
        ("openai", "status=503", "overloaded"),
        ("openai", "status=500", "server_error"),
        ("openai", "status=401", "auth"),
        ("openai", "status=429,error_type=insufficient_quota", "quota"),
        ("openai", "status=404", "harness"),
    ],
)
def test_status_faults_become_their_infra_class(
    servers: dict[str, SimServer], api: str, spec: str, expected: InfraClass
) -> None:
    error = fail_with(servers, api, spec)
    assert error.infra_class == expected
    assert error.retry_after_s is None
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert API_KEY not in str(error)
    assert error.usage == Usage()


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_dropped_connection_is_connection(servers: dict[str, SimServer], api: str) -> None:
    error = fail_with(servers, api, "drop")
    assert error.infra_class == "connection" and error.retryable
    assert error.request_id is None


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_slow_past_timeout_is_timeout(servers: dict[str, SimServer], api: str) -> None:
    error = fail_with(servers, api, "slow=2", timeout_s=0.3)
    assert error.infra_class == "timeout" and error.retryable


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_truncated_body_is_malformed_response(servers: dict[str, SimServer], api: str) -> None:
    error = fail_with(servers, api, "malformed")
    assert error.infra_class == "malformed_response" and error.retryable


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_answer_without_usage_is_malformed_response(
    servers: dict[str, SimServer], api: str
) -> None:
    error = fail_with(servers, api, "no_usage")
    assert error.infra_class == "malformed_response"
    assert "usage" in str(error)


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_successful_call_through_serve_sim_is_labelled_simulated(
    servers: dict[str, SimServer], api: str
) -> None:
    server = servers[api]
    server.set_faults([])
    model = provider_model(server)
    response = model.complete(request_of(conversation()[:1]))
    assert response.simulated is True
    assert response.latency_simulated is False
    assert response.latency_s > 0
    assert response.request_id is not None and response.request_id.startswith("req_")
    assert response.model_id == ("claude-test" if api == "anthropic" else "gpt-test")
    assert response.usage.input > 0 and response.usage.output > 0
    assert model.identity.simulated is False  # the provider is real; the answer was not
    assert model.identity.provider == api


def test_translate_error_of_an_unexpected_sdk_error_is_malformed() -> None:
    error = anthropic_messages.translate_error(anthropic.AnthropicError("odd"))
    assert error.infra_class == "malformed_response"
    error = openai_chat.translate_error(openai.OpenAIError("odd"))
    assert error.infra_class == "malformed_response"


# --- keys -------------------------------------------------------------------------------------

ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"
OPENAI_KEY = "sk-proj-test-fedcba9876543210"


def test_a_missing_anthropic_key_names_the_variable() -> None:
    with pytest.raises(MissingKeyError, match=r"models\.claude: .*ANTHROPIC_API_KEY"):
        ModelFactory({"claude": anthropic_settings()}, environ={})
    with pytest.raises(MissingKeyError, match="MY_CLAUDE_KEY"):
        ModelFactory({"claude": anthropic_settings(api_key_env="MY_CLAUDE_KEY")}, environ={})
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        ModelFactory({"claude": anthropic_settings()}, environ={"ANTHROPIC_API_KEY": ""})


def test_a_missing_openai_key_for_a_remote_endpoint_is_an_error() -> None:
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        ModelFactory({"gpt": openai_settings()}, environ={})
    with pytest.raises(MissingKeyError, match="OPENROUTER_KEY"):
        ModelFactory(
            {
                "gpt": openai_settings(
                    base_url="https://openrouter.ai/api/v1", api_key_env="OPENROUTER_KEY"
                )
            },
            environ={},
        )


@pytest.mark.parametrize(
    "settings",
    [
        {"base_url": "http://127.0.0.1:11434/v1"},
        {"base_url": "http://localhost:8000/v1"},
        {"base_url": "http://[::1]:1234/v1"},
        {"local": True, "base_url": "http://gpu-box.lan:8000/v1"},
        {"local": True},
        {"api_key_env": None, "base_url": "https://example.com/v1"},
    ],
)
def test_local_openai_models_need_no_key(settings: dict[str, Any]) -> None:
    config = openai_settings(**settings)
    assert not openai_chat.needs_key(config)
    factory = ModelFactory({"local": config}, environ={})
    assert factory.secrets == []
    model = factory.build("local")
    assert isinstance(model, openai_chat.OpenAIChatModel)
    assert openai_chat.make_client(config, None).api_key == openai_chat.NO_KEY
    factory.close()


def test_secrets_list_every_key_in_use_and_the_redactor_masks_them() -> None:
    environ = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY, "OTHER": "x" * 20}
    factory = ModelFactory(
        {
            "claude": anthropic_settings(),
            "gpt": openai_settings(),
            "sim": SimModelConfig(provider="sim"),
        },
        environ=environ,
    )
    assert sorted(factory.secrets) == sorted([ANTHROPIC_KEY, OPENAI_KEY])
    redact = Redactor(factory.secrets)
    text = f"auth failed for {ANTHROPIC_KEY}; retried with {OPENAI_KEY} and {ANTHROPIC_KEY}."
    assert redact(text) == f"auth failed for {MASK}; retried with {MASK} and {MASK}."
    assert redact("nothing secret here") == "nothing secret here"


def test_a_local_model_with_a_key_set_still_lists_it() -> None:
    factory = ModelFactory(
        {"local": openai_settings(local=True)}, environ={"OPENAI_API_KEY": OPENAI_KEY}
    )
    assert factory.secrets == [OPENAI_KEY]


def test_redactor_ignores_short_values_and_masks_longer_overlaps_whole() -> None:
    redact = Redactor(["abc1234", "abcd1234", "sk-abcdefgh", "sk-abcdefgh-more"])
    assert redact("code abc1234 here") == "code abc1234 here"  # 7 chars: not a secret
    assert redact("pin abcd1234") == f"pin {MASK}"  # 8 chars: masked
    assert redact("k=sk-abcdefgh-more;j=sk-abcdefgh") == f"k={MASK};j={MASK}"
    assert Redactor([])("anything") == "anything"


def test_models_built_from_many_threads_at_once_share_one_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run's trials build their models on many threads at once: each model's client (its
    connection pool) is made once and closed once, never one per thread left unclosed."""
    made: list[Any] = []
    closed: list[Any] = []

    class Client:
        def close(self) -> None:
            closed.append(self)

    def make_client(settings: AnthropicModelConfig, api_key: str) -> Client:
        time.sleep(0.05)  # as slow as a real client's TLS set-up, so that builds overlap
        client = Client()
        made.append(client)
        return client

    monkeypatch.setattr(anthropic_messages, "make_client", make_client)
    factory = ModelFactory({"claude": anthropic_settings()}, environ={"ANTHROPIC_API_KEY": "k"})
    start = threading.Barrier(8)

    def build() -> None:
        start.wait()
        factory.build("claude")

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    factory.close()
    assert len(made) == 1
    assert closed == made
