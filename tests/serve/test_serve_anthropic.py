"""The Anthropic Messages API sim server, driven by the official `anthropic` SDK over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import Message, TextBlock, ToolUseBlock

from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC
from armbench.prompts import AGENT_SYSTEM, PromptSet
from armbench.serve import SimServer
from armbench.tasks.packs import load_pack

SYSTEM_PROMPT = PromptSet().render(AGENT_SYSTEM)

PACK = load_pack("demo")
FEATURE = PACK.task("feature").spec
# Long enough that the prefix up to the system prompt passes the 1024-token cache minimum.
SYSTEM = SYSTEM_PROMPT + "\n" + "\n".join(f"Rule {i}: keep each change small." for i in range(60))
EPHEMERAL = {"type": "ephemeral"}


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer("anthropic", pack=PACK, reasoning_tokens=7) as running:
        yield running


@pytest.fixture
def client(server: SimServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="test-key",
        base_url=server.sdk_base_url,
        max_retries=0,
        _strict_response_validation=True,
    )


def tools(cache_control: dict[str, str] | None = EPHEMERAL) -> list[dict[str, Any]]:
    specs = [s.model_dump() for s in (EDITOR_SPEC, BASH_SPEC)]
    if cache_control:
        specs[-1]["cache_control"] = cache_control
    return specs


def opening(cache_control: dict[str, str] = EPHEMERAL) -> dict[str, Any]:
    """The request an agent opens the feature task with, marked as armbench marks it."""
    return {
        "system": [{"type": "text", "text": SYSTEM, "cache_control": cache_control}],
        "tools": tools(cache_control),
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": FEATURE.prompt, "cache_control": cache_control}
                ],
            }
        ],
        "max_tokens": 4096,
    }


def as_param(message: Message) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            content.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUseBlock):
            content.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return {"role": "assistant", "content": content}


def test_first_answer_runs_the_task_checks_and_reports_full_usage(
    client: anthropic.Anthropic,
) -> None:
    raw = client.messages.with_raw_response.create(model="claude-sim-a", **opening())
    message = raw.parse()
    assert isinstance(message, Message)
    assert message.model == "claude-sim-a"
    assert message.stop_reason == "tool_use" and message.stop_sequence is None
    assert message.id.startswith("msg_")
    text, call = message.content
    assert isinstance(text, TextBlock) and text.text
    assert isinstance(call, ToolUseBlock) and call.id.startswith("toolu_")
    assert call.name == "bash"
    assert call.input == {"command": " && ".join(FEATURE.check_commands)}
    assert message._request_id == raw.headers["request-id"]
    assert message._request_id is not None and message._request_id.startswith("req_")

    usage = message.usage
    assert usage.cache_creation is not None and usage.output_tokens_details is not None
    assert usage.cache_read_input_tokens == 0
    assert usage.cache_creation_input_tokens == usage.cache_creation.ephemeral_5m_input_tokens
    assert usage.cache_creation_input_tokens >= 1024  # a cold cache: the prefix is written
    assert usage.cache_creation.ephemeral_1h_input_tokens == 0
    assert usage.output_tokens > usage.output_tokens_details.thinking_tokens == 7


def test_continuing_the_conversation_reads_the_cached_prefix(
    client: anthropic.Anthropic,
) -> None:
    request = opening()
    first = client.messages.create(model="claude-sim-b", **request)
    call = first.content[-1]
    assert isinstance(call, ToolUseBlock)
    # Only the latest user message keeps its marker, as armbench's agent places them.
    del request["messages"][0]["content"][0]["cache_control"]
    request["messages"] += [
        as_param(first),
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": [{"type": "text", "text": "1 failed, 90 passed\n[exit code: 1]"}],
                    "is_error": False,
                    "cache_control": EPHEMERAL,
                }
            ],
        },
    ]
    second = client.messages.create(model="claude-sim-b", **request)
    written = first.usage.cache_creation_input_tokens
    assert written is not None and written >= 1024
    assert second.usage.cache_read_input_tokens == written
    assert second.usage.cache_creation_input_tokens  # the new turns are written in turn
    # The sim moves on: after the failing checks it views the file it must change.
    view = second.content[-1]
    assert isinstance(view, ToolUseBlock) and view.name == "editor"
    assert view.input == {"command": "view", "path": "tallyho/reconcile.py"}


def test_a_one_hour_marker_writes_one_hour_cache_entries(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-sim-c", **opening({"type": "ephemeral", "ttl": "1h"})
    )
    creation = message.usage.cache_creation
    assert creation is not None
    assert creation.ephemeral_1h_input_tokens >= 1024
    assert creation.ephemeral_5m_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == creation.ephemeral_1h_input_tokens


def test_top_level_cache_control_marks_the_end_of_the_prompt(
    client: anthropic.Anthropic,
) -> None:
    unmarked = {
        "system": SYSTEM,
        "tools": tools(None),
        "messages": [{"role": "user", "content": FEATURE.prompt}],
        "max_tokens": 4096,
    }
    plain = client.messages.create(model="claude-sim-f", **unmarked)
    assert plain.usage.cache_creation_input_tokens == 0
    marked = client.messages.create(model="claude-sim-f", cache_control=EPHEMERAL, **unmarked)
    assert marked.usage.cache_creation_input_tokens == plain.usage.input_tokens
    assert marked.usage.input_tokens == 0


def test_an_unknown_prompt_gets_a_plain_final_answer(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-sim-d",
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "What is two plus two?"}],
        metadata={"user_id": "someone"},
        extra_body={"temperature": 0.0},
    )
    assert message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"]
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_creation_input_tokens == 0  # no markers, no caching


def test_the_same_conversation_gets_the_same_answer(client: anthropic.Anthropic) -> None:
    first = client.messages.create(model="claude-sim-e", **opening())
    again = client.messages.create(model="claude-sim-e", **opening())
    assert first.content[0] == again.content[0]  # the same prose (tool call ids differ)
    assert first.content[1].to_dict()["input"] == again.content[1].to_dict()["input"]
    assert again.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_more_than_four_cache_markers_are_refused(client: anthropic.Anthropic) -> None:
    blocks = [{"type": "text", "text": f"part {i}", "cache_control": EPHEMERAL} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        client.messages.create(
            model="sim", max_tokens=10, messages=[{"role": "user", "content": blocks}]
        )


def test_an_unknown_endpoint_is_a_not_found_error(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.models.list()
    assert caught.value.type == "not_found_error"


def post(server: SimServer, data: bytes) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(
        server.base_url + "/v1/messages", data=data, headers={"x-api-key": "test-key"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), response.headers["request-id"]
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers["request-id"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "invalid JSON"),
        (b"[]", "JSON object"),
        (b'{"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "m", "max_tokens": 5}', "messages"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (
            b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": '
            b'[{"type": "image", "source": {}}]}]}',
            "messages.0.content.0.type",
        ),
    ],
)
def test_malformed_requests_get_a_400_in_the_anthropic_error_shape(
    server: SimServer, body: bytes, says: str
) -> None:
    status, payload, request_id = post(server, body)
    assert status == 400
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"
    assert says in payload["error"]["message"]
    assert payload["request_id"] == request_id


def test_stats_count_answers_per_model_and_never_hold_the_key(
    server: SimServer, client: anthropic.Anthropic
) -> None:
    client.messages.create(
        model="claude-sim-stats", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
    )
    stats = server.stats()
    assert stats["models"]["claude-sim-stats"]["answered"] == 1
    assert stats["models"]["claude-sim-stats"]["reasoning"] == 7
    assert stats["requests"] >= stats["answered"] >= 1
    assert "test-key" not in json.dumps(stats)
