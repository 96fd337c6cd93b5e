"""Streaming (server-sent events) on both wire formats, read by the official SDKs.

A streamed answer must be the plain answer: the same request on a fresh server with the same
seed gives the same content, stop reason and usage (only the generated ids differ), and moves
the server's counters the same way. Faults strike before the stream (a status) or inside it.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from armbench.agent.tools import BASH_SPEC, EDITOR_SPEC
from armbench.prompts import AGENT_SYSTEM, PromptSet
from armbench.serve import SimServer, parse_fault
from armbench.tasks.packs import load_pack

PACK = load_pack("demo")
FEATURE = PACK.task("feature").spec
# Long enough that the prefix up to the system prompt passes the 1024-token cache minimum.
SYSTEM = PromptSet().render(AGENT_SYSTEM) + "\n" + "Keep each change small.\n" * 60
EPHEMERAL = {"type": "ephemeral"}
ANTHROPIC_TOOLS = [s.model_dump() for s in (EDITOR_SPEC, BASH_SPEC)]
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {"name": s.name, "description": s.description, "parameters": s.input_schema},
    }
    for s in (EDITOR_SPEC, BASH_SPEC)
]

ANTHROPIC_REQUESTS: dict[str, dict[str, Any]] = {
    "text": {
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "What is two plus two?"}],
        "max_tokens": 200,
    },
    "tool_use": {  # the feature task's opening, marked as armbench marks it: cache writes
        "system": [{"type": "text", "text": SYSTEM, "cache_control": EPHEMERAL}],
        "tools": ANTHROPIC_TOOLS,
        "messages": [{"role": "user", "content": FEATURE.prompt}],
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
        "max_tokens": 4096,
    },
    "max_tokens": {
        "tools": ANTHROPIC_TOOLS,
        "messages": [{"role": "user", "content": FEATURE.prompt}],
        "max_tokens": 30,
    },
}
OPENAI_REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"messages": [{"role": "user", "content": "What is two plus two?"}]},
    "tool_use": {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": FEATURE.prompt},
        ],
        "tools": OPENAI_TOOLS,
    },
    "max_tokens": {
        "messages": [{"role": "user", "content": FEATURE.prompt}],
        "tools": OPENAI_TOOLS,
        "max_completion_tokens": 30,
    },
}


@contextmanager
def fresh(api: str) -> Iterator[SimServer]:
    """A server in a known state: the same seed, an empty prompt cache, counters at zero."""
    with SimServer(api, pack=PACK, seed=7, reasoning_tokens=5) as server:
        yield server


def anthropic_client(server: SimServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(**strict(server))


def openai_client(server: SimServer) -> openai.OpenAI:
    return openai.OpenAI(**strict(server))


def strict(server: SimServer) -> dict[str, Any]:
    """An SDK client's settings: no retries, and every response validated against its types."""
    url = server.sdk_base_url
    return {"api_key": "k", "base_url": url, "max_retries": 0, "_strict_response_validation": True}


def anthropic_answer(message: Message) -> dict[str, Any]:
    """Everything of a message but its generated ids (checked for their prefix)."""
    assert message.id.startswith("msg_")
    answer = message.model_dump(mode="json", exclude_none=True, exclude={"id"})
    for block in answer["content"]:
        if block["type"] == "tool_use":
            assert block.pop("id").startswith("toolu_")
    return answer


def plain_anthropic(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The non-streamed answer to request `name` on a fresh server, and its stats."""
    with fresh("anthropic") as server:
        message = anthropic_client(server).messages.create(
            model="claude-sim", **ANTHROPIC_REQUESTS[name]
        )
        return anthropic_answer(message), server.stats()


@pytest.mark.parametrize("name", list(ANTHROPIC_REQUESTS))
def test_anthropic_stream_helper_rebuilds_the_plain_answer(name: str) -> None:
    plain, plain_stats = plain_anthropic(name)
    with fresh("anthropic") as server:
        client = anthropic_client(server)
        with client.messages.stream(model="claude-sim", **ANTHROPIC_REQUESTS[name]) as stream:
            final = stream.get_final_message()
        assert anthropic_answer(final) == plain
        assert server.stats() == plain_stats  # counted as the plain call was
    expected = {"text": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens"}[name]
    assert plain["stop_reason"] == expected
    if name == "tool_use":
        assert plain["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] >= 1024


def test_anthropic_raw_events_are_the_apis() -> None:
    plain, _ = plain_anthropic("tool_use")
    with fresh("anthropic") as server:
        client = anthropic_client(server)
        request = ANTHROPIC_REQUESTS["tool_use"]
        events = list(client.messages.create(model="claude-sim", stream=True, **request))
    start, *blocks, delta, stop = events
    assert start.type == "message_start" and stop.type == "message_stop"
    assert start.message.content == [] and start.message.stop_reason is None
    usage = plain["usage"]
    assert start.message.usage.model_dump(exclude_none=True) == {
        **{k: v for k, v in usage.items() if k != "output_tokens_details"},
        "output_tokens": 1,
    }
    assert delta.type == "message_delta" and delta.delta.stop_reason == "tool_use"
    assert delta.usage.output_tokens == usage["output_tokens"] > 1
    assert delta.usage.output_tokens_details is not None
    assert delta.usage.output_tokens_details.thinking_tokens == 5
    text, call = plain["content"]
    kinds = [(e.type, e.index) for e in blocks]
    assert kinds[0] == ("content_block_start", 0) and kinds[-1] == ("content_block_stop", 1)
    text_deltas = [e.delta for e in blocks if e.type == "content_block_delta" and e.index == 0]
    json_deltas = [e.delta for e in blocks if e.type == "content_block_delta" and e.index == 1]
    assert len(text_deltas) > 1 and "".join(d.text for d in text_deltas) == text["text"]
    assert len(json_deltas) > 2 and all(d.type == "input_json_delta" for d in json_deltas)
    assert json.loads("".join(d.partial_json for d in json_deltas)) == call["input"]


def raw_post(server: SimServer, path: str, body: dict[str, Any]) -> tuple[str, str]:
    """The response's content type and text, read over plain HTTP (with a beta header that
    the server must ignore)."""
    beta = {"anthropic-beta": "fine-grained-tool-streaming-2025-05-14"}
    data = json.dumps(body).encode()
    request = urllib.request.Request(server.base_url + path, data=data, headers=beta)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["content-type"], response.read().decode()


def test_anthropic_frames_name_their_events_and_ping() -> None:
    with fresh("anthropic") as server:
        body = {"model": "m", "stream": True, **ANTHROPIC_REQUESTS["text"]}
        content_type, text = raw_post(server, "/v1/messages", body)
    assert content_type.startswith("text/event-stream")
    frames = text.split("\n\n")
    assert frames.pop() == ""  # every frame ends with a blank line
    for frame in frames:
        match = re.fullmatch(r"event: (\w+)\ndata: (.+)", frame)
        assert match is not None, frame
        assert json.loads(match[2])["type"] == match[1]
    names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
    assert names[:3] == ["message_start", "ping", "content_block_start"]


def test_count_tokens_is_the_prompt_a_call_is_billed_and_touches_nothing() -> None:
    request = ANTHROPIC_REQUESTS["tool_use"]
    plain, _ = plain_anthropic("tool_use")
    with fresh("anthropic") as server:
        client = anthropic_client(server)
        before = server.stats()
        counted = client.messages.count_tokens(
            model="claude-sim", **{k: v for k, v in request.items() if k != "max_tokens"}
        )
        beta = client.beta.messages.count_tokens(
            model="claude-sim",
            messages=request["messages"],
            system=request["system"],
            tools=request["tools"],
            betas=["token-counting-2024-11-01"],
        )
        assert server.stats() == before  # not a model request
        with client.beta.messages.stream(
            model="claude-sim", betas=["interleaved-thinking-2025-05-14"], **request
        ) as stream:
            final = stream.get_final_message()
    usage = plain["usage"]
    billed = usage["input_tokens"] + usage["cache_creation_input_tokens"]
    assert counted.input_tokens == beta.input_tokens == billed
    assert usage["cache_read_input_tokens"] == 0
    # Counting first did not warm the cache: the call still writes what the plain one wrote.
    assert final.usage.cache_creation_input_tokens == usage["cache_creation_input_tokens"]
    unmarked = ANTHROPIC_REQUESTS["text"]
    with fresh("anthropic") as server:
        client = anthropic_client(server)
        counted = client.messages.count_tokens(
            model="m", system=unmarked["system"], messages=unmarked["messages"]
        )
        message = client.messages.create(model="m", **unmarked)
    assert counted.input_tokens == message.usage.input_tokens


def openai_answer(completion: ChatCompletion) -> dict[str, Any]:
    """What a client reads of a completion, without its generated ids."""
    assert completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    assert all(call.id.startswith("call_") for call in calls)
    return {
        "model": completion.model,
        "role": choice.message.role,
        "content": choice.message.content,
        "refusal": choice.message.refusal,
        "tool_calls": [(c.type, c.function.name, c.function.arguments) for c in calls],
        "finish_reason": choice.finish_reason,
        "usage": completion.usage.model_dump(exclude_none=True) if completion.usage else None,
        "system_fingerprint": completion.system_fingerprint,
    }


def rebuilt(chunks: list[ChatCompletionChunk]) -> dict[str, Any]:
    """A streamed completion put back together from its chunks, as `openai_answer` reads it."""
    content: str | None = None
    calls: dict[int, list[str]] = {}
    answer: dict[str, Any] = {"refusal": None, "usage": None}
    for chunk in chunks:
        answer.update(model=chunk.model, system_fingerprint=chunk.system_fingerprint)
        if chunk.usage is not None:
            answer["usage"] = chunk.usage.model_dump(exclude_none=True)
        for choice in chunk.choices:
            if choice.delta.role is not None:
                answer["role"] = choice.delta.role
            if choice.delta.content is not None:
                content = (content or "") + choice.delta.content
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, ["", "", ""])
                assert call.function is not None
                if call.id is not None:
                    assert call.id.startswith("call_") and call.type == "function"
                    entry[0:2] = [call.type, call.function.name or ""]
                entry[2] += call.function.arguments or ""
            if choice.finish_reason is not None:
                answer["finish_reason"] = choice.finish_reason
    return {**answer, "content": content, "tool_calls": [tuple(calls[i]) for i in sorted(calls)]}


@pytest.mark.parametrize("name", list(OPENAI_REQUESTS))
def test_openai_stream_rebuilds_the_plain_answer(name: str) -> None:
    with fresh("openai") as server:
        completion = openai_client(server).chat.completions.create(
            model="gpt-sim", **OPENAI_REQUESTS[name]
        )
        plain, plain_stats = openai_answer(completion), server.stats()
    assert plain["finish_reason"] == {"text": "stop", "tool_use": "tool_calls"}.get(name, "length")
    with fresh("openai") as server:
        chunks = list(
            openai_client(server).chat.completions.create(
                model="gpt-sim",
                stream=True,
                stream_options={"include_usage": True},
                **OPENAI_REQUESTS[name],
            )
        )
        assert rebuilt(chunks) == plain
        assert server.stats() == plain_stats
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    if name == "tool_use":  # the arguments come in several pieces
        assert sum(bool(c.choices and c.choices[0].delta.tool_calls) for c in chunks) > 2
    with (
        fresh("openai") as server,
        openai_client(server).chat.completions.stream(
            model="gpt-sim", stream_options={"include_usage": True}, **OPENAI_REQUESTS[name]
        ) as stream,
    ):
        if name != "max_tokens":
            assert openai_answer(stream.get_final_completion()) == plain
            return
        # The SDK's helper refuses a cut answer, with the answer it rebuilt.
        with pytest.raises(openai.LengthFinishReasonError) as caught:
            stream.get_final_completion()
        assert openai_answer(caught.value.completion) == plain


def test_openai_stream_without_include_usage_has_no_usage_chunk() -> None:
    with fresh("openai") as server:
        body = {"model": "m", "stream": True, **OPENAI_REQUESTS["tool_use"]}
        content_type, text = raw_post(server, "/v1/chat/completions", body)
        assert server.stats()["models"]["m"]["answered"] == 1
    assert content_type.startswith("text/event-stream")
    frames = text.split("\n\n")
    assert frames.pop() == "" and frames.pop() == "data: [DONE]"
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames]
    assert all(f.startswith("data: ") for f in frames)
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("api", "body", "param"),
    [
        ("anthropic", {"stream": "yes", "max_tokens": 5}, "stream"),
        ("openai", {"stream": 1}, "stream"),
        ("openai", {"stream_options": {"include_usage": True}}, "stream_options"),
        ("openai", {"stream": True, "stream_options": {"include_usage": "yes"}}, "include_usage"),
    ],
)
def test_bad_stream_settings_are_a_400(api: str, body: dict[str, Any], param: str) -> None:
    with fresh(api) as server:
        path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
        full = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
        with pytest.raises(urllib.error.HTTPError) as caught:
            raw_post(server, path, full)
        assert caught.value.code == 400
        assert param in caught.value.read().decode()
        assert server.stats()["invalid"] == 1


def stream_anthropic(server: SimServer, seen: list[str]) -> None:
    with anthropic_client(server).messages.stream(
        model="claude-sim", **ANTHROPIC_REQUESTS["tool_use"]
    ) as stream:
        seen.extend(event.type for event in stream)


def stream_openai(server: SimServer, seen: list[str]) -> None:
    for chunk in openai_client(server).chat.completions.create(
        model="gpt-sim", stream=True, **OPENAI_REQUESTS["tool_use"]
    ):
        seen.append(chunk.object)


STREAMS = {"anthropic": stream_anthropic, "openai": stream_openai}


@pytest.mark.parametrize(
    ("api", "error"), [("anthropic", anthropic.RateLimitError), ("openai", openai.RateLimitError)]
)
def test_a_status_fault_is_the_sdks_error_before_any_event(
    api: str, error: type[Exception]
) -> None:
    with fresh(api) as server:
        server.set_faults([parse_fault("status=429,retry_after=1.5")])
        seen: list[str] = []
        with pytest.raises(error) as caught:
            STREAMS[api](server, seen)
        assert seen == []
        assert caught.value.response.headers["retry-after-ms"] == "1500"
        assert server.stats()["errors"] == 1
        STREAMS[api](server, seen)  # times=1: the next one streams
        assert seen


@pytest.mark.parametrize(
    ("api", "fault", "error"),
    [  # The Anthropic SDK lets a broken stream's transport error through; OpenAI's wraps it.
        ("anthropic", "cut_off", httpx2.RemoteProtocolError),
        ("openai", "cut_off", openai.APIConnectionError),
        ("anthropic", "malformed", json.JSONDecodeError),  # an event's JSON is cut
        ("openai", "malformed", json.JSONDecodeError),
    ],
)
def test_a_fault_in_the_stream_breaks_it_after_its_first_events(
    api: str, fault: str, error: type[Exception]
) -> None:
    with fresh(api) as server:
        server.set_faults([parse_fault(fault)])
        seen: list[str] = []
        with pytest.raises(error):
            STREAMS[api](server, seen)
        assert seen  # the stream had started
        stats = server.stats()
        assert stats["faults_applied"] == {fault: 1} and stats["answered"] == 1
        assert stats["models"][next(iter(stats["models"]))]["output"] == 0  # never reported
        done: list[str] = []
        STREAMS[api](server, done)  # the stream broke, the server did not
        assert len(done) > len(seen)
