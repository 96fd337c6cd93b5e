"""A prompt-cache model with Anthropic's rules, for simulated models.

Real providers report cache reads and writes; a simulated model has to earn them the same way,
so that context growth and cache traffic in the ledger are consequences of the transcript and
not of a formula. The rules modelled (Anthropic prompt caching):

- The prompt is a prefix sequence: tool definitions, then the system prompt, then message blocks.
- A request marks up to four breakpoints. For each, the provider looks for a live cache entry
  whose prefix ends at the breakpoint or at one of the `lookback` blocks before it; the longest
  hit is read (`cache_read`), and reading refreshes that entry's time to live.
- Each breakpoint past the hit whose prefix is at least `min_tokens` long is written; the tokens
  between the hit and the last written breakpoint are billed as a cache write at the chosen TTL.
- Everything after that is uncached input. A prefix shorter than `min_tokens` is never cached.

Entries are keyed by a hash chain over the segments, so a change anywhere in a prefix misses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from armbench.core import ModelRequest, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from armbench.models.tokenizer import BLOCK_OVERHEAD, MESSAGE_OVERHEAD, count_tokens

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of a prompt, with the chained digest of the prefix it ends."""

    tokens: int
    digest: bytes
    ref: tuple[str, int, int] = ("", 0, 0)
    """What it is: ("tool", i, 0), ("system", 0, 0) or ("message", message index, block index)."""


@dataclass(frozen=True)
class Billing:
    """How one request was billed: segments up to `read_upto` were cache reads, those up to
    `written_upto` cache writes at `ttl`, the rest uncached input (indices; -1: none)."""

    usage: Usage
    read_upto: int
    written_upto: int
    ttl: str

    def of_segment(self, index: int, tokens: int) -> Usage:
        """The part of `usage` that segment `index` (of `tokens` tokens) accounts for."""
        if index <= self.read_upto:
            return Usage(cache_read=tokens)
        if index <= self.written_upto:
            return (
                Usage(cache_write_1h=tokens) if self.ttl == "1h" else Usage(cache_write_5m=tokens)
            )
        return Usage(input=tokens)


def block_text(block: TextBlock | ToolUseBlock | ToolResultBlock) -> str:
    if isinstance(block, TextBlock):
        return block.text
    if isinstance(block, ToolUseBlock):
        return block.name + json.dumps(block.input, sort_keys=True)
    return block.content


def linearize(request: ModelRequest) -> tuple[list[Segment], list[int]]:
    """The request's segments in prefix order, and the segment index of each breakpoint."""
    texts: list[tuple[str, int, tuple[str, int, int]]] = []  # (canonical text, tokens, ref)
    for position, tool in enumerate(request.tools):
        text = json.dumps(tool.model_dump(), sort_keys=True)
        texts.append((text, count_tokens(text), ("tool", position, 0)))
    tools_end = len(texts) - 1
    system_index = -1
    if request.system:
        texts.append(
            (request.system, count_tokens(request.system) + BLOCK_OVERHEAD, ("system", 0, 0))
        )
        system_index = len(texts) - 1
    message_starts: list[int] = []
    for m_index, message in enumerate(request.messages):
        message_starts.append(len(texts))
        for position, block in enumerate(message.content):
            text = block_text(block)
            overhead = BLOCK_OVERHEAD + (MESSAGE_OVERHEAD if position == 0 else 0)
            ref = ("message", m_index, position)
            texts.append(
                (f"{message.role}:{block.type}:{text}", count_tokens(text) + overhead, ref)
            )

    segments: list[Segment] = []
    digest = b""
    for text, tokens, ref in texts:
        digest = hashlib.sha256(digest + text.encode()).digest()
        segments.append(Segment(tokens, digest, ref))

    breakpoints: list[int] = []
    for bp in request.cache_breakpoints:
        if bp.where == "tools":
            index = tools_end
        elif bp.where == "system":
            index = system_index
        else:
            m = bp.message_index + (len(request.messages) if bp.message_index < 0 else 0)
            if not 0 <= m < len(request.messages):
                raise ValueError(f"cache breakpoint {bp} points past the messages")
            if not 0 <= bp.block_index < len(request.messages[m].content):
                raise ValueError(f"cache breakpoint {bp} points past the message's blocks")
            index = message_starts[m] + bp.block_index
        if index < 0:
            raise ValueError(f"cache breakpoint {bp.where!r} marks an empty part of the prompt")
        breakpoints.append(index)
    return segments, sorted(set(breakpoints))


class PromptCache:
    """Cache entries of one model, as seen by one trial (each trial starts cold)."""

    def __init__(self, *, ttl: str = "5m", min_tokens: int = 1024, lookback: int = 20) -> None:
        if ttl not in TTL_SECONDS:
            raise ValueError(f"cache ttl must be one of {sorted(TTL_SECONDS)}, not {ttl!r}")
        self.ttl = ttl
        self.min_tokens = min_tokens
        self.lookback = lookback
        self._expiry: dict[bytes, float] = {}

    def account(
        self,
        segments: Sequence[Segment],
        breakpoints: Sequence[int],
        now: float,
        *,
        ttl: str | None = None,
    ) -> Usage:
        """Usage of one request at `now` (seconds), updating the cache as the provider would.

        `ttl` overrides the cache's default for this request's writes (a request's
        `cache_control` may ask for "1h").
        """
        return self.bill(segments, breakpoints, now, ttl=ttl).usage

    def bill(
        self,
        segments: Sequence[Segment],
        breakpoints: Sequence[int],
        now: float,
        *,
        ttl: str | None = None,
    ) -> Billing:
        """`account`, also saying which segments were read, written and sent uncached."""
        ttl = ttl or self.ttl
        if ttl not in TTL_SECONDS:
            raise ValueError(f"cache ttl must be one of {sorted(TTL_SECONDS)}, not {ttl!r}")
        cumulative: list[int] = []
        running = 0
        for seg in segments:
            running += seg.tokens
            cumulative.append(running)
        total = running

        hit = -1
        for bp in breakpoints:
            for index in range(bp, max(bp - self.lookback - 1, -1), -1):
                if self._expiry.get(segments[index].digest, -1.0) > now:
                    hit = max(hit, index)
                    break
        ttl_s = TTL_SECONDS[ttl]
        if hit >= 0:
            self._expiry[segments[hit].digest] = now + ttl_s
        read = cumulative[hit] if hit >= 0 else 0

        last_write = hit
        for bp in breakpoints:
            if bp > hit and cumulative[bp] >= self.min_tokens:
                self._expiry[segments[bp].digest] = now + ttl_s
                last_write = max(last_write, bp)
        written = cumulative[last_write] - read if last_write > hit else 0

        usage = Usage(input=total - read - written, cache_read=read)
        kind = "cache_write_1h" if ttl == "1h" else "cache_write_5m"
        usage = usage.model_copy(update={kind: written})
        return Billing(usage, read_upto=hit, written_upto=last_write, ttl=ttl)


def uncached_usage(segments: Sequence[Segment]) -> Usage:
    """Usage of a request to a model without prompt caching."""
    return Usage(input=sum(s.tokens for s in segments))


def uncached_billing(segments: Sequence[Segment]) -> Billing:
    return Billing(uncached_usage(segments), read_upto=-1, written_upto=-1, ttl="5m")


def block_usage(segments: Sequence[Segment], billing: Billing) -> dict[tuple[int, int], Usage]:
    """The usage of each message block of a request: what delegation tax is computed from."""
    return {
        (seg.ref[1], seg.ref[2]): billing.of_segment(index, seg.tokens)
        for index, seg in enumerate(segments)
        if seg.ref[0] == "message"
    }
