"""A finished answer as the server-sent events each API streams instead of it.

The sim has its whole answer before the first byte goes out, so a stream here is the plain
response body cut into the events the real API sends: a client that puts the stream back
together gets the plain body, field for field, and what an answer *is* stays decided in one
place (each wire's `response_body`). Text and tool-call JSON are split over several deltas, as
a real model's tokens are, so a client's reassembly is exercised on every answer.

The event shapes follow what the official SDKs read: Anthropic's named events (`message_start`,
`content_block_*`, `message_delta`, `message_stop`, with a `ping`), OpenAI's data-only
`chat.completion.chunk` frames ending in `[DONE]`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

Event = tuple[str | None, str]
"""One server-sent event: its `event:` name (None: a data-only frame, as OpenAI sends them)
and its `data:` text (one line: JSON escapes every newline)."""

Damage = Literal["malformed", "cut_off"]
"""How a fault spoils an answer on its way out: a body that does not parse, or a connection
that ends partway through."""

PIECE = 24
"""Characters per text or JSON delta: a few tokens' worth, as the real APIs send them."""

_DELTA_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "output_tokens_details",
)
"""The usage a `message_delta` carries: Anthropic's cumulative counts at the stream's end (the
cache-creation split and service tier are only in `message_start`)."""


def frame(event: Event) -> bytes:
    name, data = event
    head = "" if name is None else f"event: {name}\n"
    return f"{head}data: {data}\n\n".encode()


def pieces(text: str) -> list[str]:
    """`text` in deltas of `PIECE` characters (none for an empty text)."""
    return [text[start : start + PIECE] for start in range(0, len(text), PIECE)]


def damaged(events: list[Event], damage: Damage | None) -> tuple[list[bytes], bool]:
    """The frames to send, and whether the stream ends properly.

    `malformed` sends the first half of the events, then one whose data is cut in half (the
    frame itself ends properly, so the client fails parsing it, as it fails on a cut plain
    body); `cut_off` sends the first half and ends the connection without ending the body.
    Neither picks the first event nor, in a stream of three or more (every stream here), the
    last (OpenAI's `[DONE]`, which is not JSON): a client sees the stream start, then break.
    """
    frames = [frame(event) for event in events]
    if damage is None:
        return frames, True
    middle = max(1, len(events) // 2)
    if damage == "cut_off":
        return frames[:middle], False
    name, data = events[middle]
    return [*frames[:middle], frame((name, data[: len(data) // 2]))], True


def _named(payload: dict[str, Any]) -> Event:
    """An Anthropic event: named after its own `type`, as the API names them."""
    return payload["type"], json.dumps(payload)


def _block_events(index: int, block: dict[str, Any]) -> list[Event]:
    if block["type"] == "text":
        empty: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in pieces(block["text"])]
    else:  # tool_use: the input arrives as JSON text; the API's first fragment is empty
        empty = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in ["", *pieces(json.dumps(block["input"]))]
        ]
    return [
        _named({"type": "content_block_start", "index": index, "content_block": empty}),
        *(_named({"type": "content_block_delta", "index": index, "delta": d}) for d in deltas),
        _named({"type": "content_block_stop", "index": index}),
    ]


def anthropic_events(body: dict[str, Any]) -> list[Event]:
    """The Messages API stream of a Message body.

    `message_start` has the message without content or stop reason, and the input usage in
    full (the cache-creation split included) with the output counted so far (one token);
    `message_delta` brings the stop reason and the final output usage. A body without usage
    (the `no_usage` fault) streams without it.
    """
    usage: dict[str, Any] | None = body.get("usage")
    start = {**body, "content": [], "stop_reason": None, "stop_sequence": None}
    delta: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": body["stop_reason"], "stop_sequence": body["stop_sequence"]},
    }
    if usage is not None:
        start["usage"] = {
            **{k: v for k, v in usage.items() if k != "output_tokens_details"},
            "output_tokens": min(1, usage["output_tokens"]),
        }
        delta["usage"] = {k: usage[k] for k in _DELTA_USAGE if k in usage}
    events = [_named({"type": "message_start", "message": start}), _named({"type": "ping"})]
    for index, block in enumerate(body["content"]):
        events += _block_events(index, block)
    return [*events, _named(delta), _named({"type": "message_stop"})]


def openai_chunks(body: dict[str, Any], *, include_usage: bool) -> list[Event]:
    """The Chat Completions stream of a ChatCompletion body.

    The role comes first (with an empty content when text follows, none when only tool calls
    do, so the reassembled content is the body's), then the text, then each tool call: its id
    and name, then its arguments in pieces; the finish reason comes alone, and with
    `include_usage` a last chunk with no choices carries the usage (every chunk before it says
    `"usage": null`, as the API does). Without it, no chunk has usage, as on the real API.
    """
    choice = body["choices"][0]
    message = choice["message"]
    head: dict[str, Any] = {
        "id": body["id"],
        "object": "chat.completion.chunk",
        "created": body["created"],
        "model": body["model"],
        "service_tier": body["service_tier"],
        "system_fingerprint": body["system_fingerprint"],
    }
    if include_usage:
        head["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> Event:
        only = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return None, json.dumps({**head, "choices": [only]})

    text: str | None = message["content"]
    events = [chunk({"role": "assistant", "content": "" if text else None, "refusal": None})]
    events += [chunk({"content": piece}) for piece in pieces(text or "")]
    for index, call in enumerate(message.get("tool_calls", [])):
        name, arguments = call["function"]["name"], call["function"]["arguments"]
        opening = {"index": index, "id": call["id"], "type": "function"}
        events.append(
            chunk({"tool_calls": [{**opening, "function": {"name": name, "arguments": ""}}]})
        )
        events += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in pieces(arguments)
        ]
    events.append(chunk({}, choice["finish_reason"]))
    if include_usage and "usage" in body:
        events.append((None, json.dumps({**head, "choices": [], "usage": body["usage"]})))
    return [*events, (None, "[DONE]")]
