"""The OpenAI Chat Completions sim server, driven by the official `openai` SDK over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion

from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC
from armbench.core import TextBlock, ToolResultBlock, ToolUseBlock
from armbench.prompts import AGENT_SYSTEM, PromptSet
from armbench.serve import SimServer
from armbench.serve.openai_api import parse_request
from armbench.tasks.packs import load_pack

SYSTEM_PROMPT = PromptSet().render(AGENT_SYSTEM)

PACK = load_pack("demo")
FEATURE = PACK.task("feature").spec
SYSTEM = SYSTEM_PROMPT + "\n" + "\n".join(f"Rule {i}: keep each change small." for i in range(60))
TOOLS = [
    {
        "type": "function",
        "function": {"name": s.name, "description": s.description, "parameters": s.input_schema},
    }
    for s in (EDITOR_SPEC, BASH_SPEC)
]


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer("openai", pack=PACK, reasoning_tokens=11) as running:
        yield running


@pytest.fixture
def client(server: SimServer) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="test-key",
        base_url=server.sdk_base_url,
        max_retries=0,
        _strict_response_validation=True,
    )


def opening() -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": FEATURE.prompt}]


def as_param(completion: ChatCompletion) -> dict[str, Any]:
    message = completion.choices[0].message
    return message.model_dump(include={"role", "content", "tool_calls"}, exclude_none=True)


def test_first_answer_is_a_tool_call_with_json_arguments(
    server: SimServer, client: openai.OpenAI
) -> None:
    assert server.sdk_base_url == server.base_url + "/v1"
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-sim-a", messages=opening(), tools=TOOLS, max_completion_tokens=4096
    )
    completion = raw.parse()
    assert completion._request_id == raw.headers["x-request-id"]
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-sim-a" and completion.system_fingerprint == "armbench-sim"
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content and choice.message.refusal is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "bash"
    assert json.loads(call.function.arguments) == {"command": " && ".join(FEATURE.check_commands)}
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens >= 1024
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None and usage.completion_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0  # a cold cache
    assert usage.completion_tokens_details.reasoning_tokens == 11
    assert usage.completion_tokens > 11


def test_the_second_call_reads_the_first_calls_prompt_from_cache(client: openai.OpenAI) -> None:
    messages = opening()
    first = client.chat.completions.create(model="gpt-sim-b", messages=messages, tools=TOOLS)
    calls = first.choices[0].message.tool_calls
    assert calls is not None and first.usage is not None
    messages += [
        as_param(first),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "1 failed\n[exit code: 1]"},
    ]
    second = client.chat.completions.create(model="gpt-sim-b", messages=messages, tools=TOOLS)
    assert second.usage is not None and second.usage.prompt_tokens_details is not None
    assert second.usage.prompt_tokens_details.cached_tokens == first.usage.prompt_tokens
    assert second.usage.prompt_tokens > first.usage.prompt_tokens
    view = second.choices[0].message.tool_calls
    assert view is not None
    assert json.loads(view[0].function.arguments) == {
        "command": "view",
        "path": "tallyho/reconcile.py",
    }


def test_a_final_answer_has_no_tool_calls(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-sim-c",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "2+2?"},
        ],
        max_tokens=500,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None and choice.message.content


def test_an_answer_stops_at_max_tokens_as_the_api_does(client: openai.OpenAI) -> None:
    """The sim writes no more than `max_tokens` (its 11 reasoning tokens included), and says
    it was cut (`length`)."""
    messages: list[Any] = [{"role": "user", "content": "2+2?"}]
    whole = client.chat.completions.create(model="gpt-sim-d", messages=messages, max_tokens=500)
    assert whole.usage is not None and whole.usage.completion_tokens > 30
    cut = client.chat.completions.create(model="gpt-sim-d", messages=messages, max_tokens=30)
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens <= 30
    text = cut.choices[0].message.content
    assert text and (whole.choices[0].message.content or "").startswith(text)


def test_tool_messages_become_one_user_message_of_results() -> None:
    call = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s1"},
            {"role": "developer", "content": [{"type": "text", "text": "s2"}]},
            {"role": "user", "content": "task"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "bash", "arguments": "{}"},
                    },
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "editor", "arguments": '{"path": "a.py"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok\n[exit code: 0]"},
            {"role": "tool", "tool_call_id": "c2", "content": "error: a.py does not exist"},
        ],
    }
    request = parse_request(call).request
    assert request.system == "s1\n\ns2"
    assert [m.role for m in request.messages] == ["user", "assistant", "user"]
    assert request.messages[1].content == (
        ToolUseBlock(id="c1", name="bash", input={}),
        ToolUseBlock(id="c2", name="editor", input={"path": "a.py"}),
    )
    assert request.messages[2].content == (
        ToolResultBlock(tool_use_id="c1", content="ok\n[exit code: 0]"),
        # Chat Completions has no error flag; armbench's `error:` prefix stands in for it.
        ToolResultBlock(tool_use_id="c2", content="error: a.py does not exist", is_error=True),
    )
    (end,) = request.cache_breakpoints
    assert (end.where, end.message_index, end.block_index) == ("message", 2, 1)
    assert request.messages[0].content == (TextBlock(text="task"),)


def test_an_unknown_endpoint_is_a_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.models.list()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{oops", None),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "m"}', "messages"),
        (b'{"model": "m", "messages": [{"role": "function", "content": "x"}]}', "messages.0.role"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}', "n"),
    ],
)
def test_malformed_requests_get_a_400_in_the_openai_error_shape(
    server: SimServer, body: bytes, param: str | None
) -> None:
    request = urllib.request.Request(
        server.base_url + "/v1/chat/completions",
        data=body,
        headers={"Authorization": "Bearer test-key"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert caught.value.headers["x-request-id"].startswith("req_")
    error = json.loads(caught.value.read())["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert "test-key" not in json.dumps(error)
