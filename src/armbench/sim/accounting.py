"""The sim's accounting: usage and latency of each answer, earned through a prompt cache.

Real providers report cache reads and writes; a simulated model has to earn them the same way,
so the ledger's context growth and cache traffic follow from the transcript, not a formula.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from armbench.config import SimModelConfig
from armbench.core import Block, ModelRequest, TextBlock, Usage
from armbench.models.prompt_cache import (
    PromptCache,
    block_text,
    block_usage,
    linearize,
    uncached_billing,
)
from armbench.models.tokenizer import BLOCK_OVERHEAD, count_tokens


def answer_tokens(content: Sequence[Block], settings: SimModelConfig) -> int:
    """The output tokens an answer is billed: its blocks, and the reasoning every call has."""
    return settings.reasoning_tokens_per_call + sum(
        BLOCK_OVERHEAD
        + count_tokens(block.text if isinstance(block, TextBlock) else block_text(block))
        for block in content
    )


def cut_to_max_tokens(
    content: tuple[Block, ...], max_tokens: int, settings: SimModelConfig
) -> tuple[tuple[Block, ...], bool]:
    """The answer cut where a provider stops writing, at the request's `max_tokens` (and
    whether it was cut): text kept up to the limit, a tool call that does not fit whole
    dropped (a cut call cannot run). So a sim's output, like an API's, never passes what the
    caller reserved for it (armbench.models.worst_case)."""
    if answer_tokens(content, settings) <= max_tokens:
        return content, False
    kept: list[Block] = []
    for block in content:
        if answer_tokens((*kept, block), settings) <= max_tokens:
            kept.append(block)
            continue
        if isinstance(block, TextBlock):
            text = block.text
            low, high = 0, len(text)  # the longest prefix that fits
            while low < high:
                middle = (low + high + 1) // 2
                fits = answer_tokens((*kept, TextBlock(text=text[:middle])), settings)
                low, high = (middle, high) if fits <= max_tokens else (low, middle - 1)
            if low:
                kept.append(TextBlock(text=text[:low]))
        break
    return tuple(kept), True


class SimAccounting:
    """Usage and latency of sim responses, through one prompt cache (a trial's, or a server's).

    Thread-safe, so one instance can serve concurrent conversations as a provider's cache does.
    """

    def __init__(self, settings: SimModelConfig) -> None:
        self.settings = settings
        self._cache = (
            PromptCache(ttl=settings.cache_ttl, min_tokens=settings.min_cacheable_tokens)
            if settings.cache
            else None
        )
        self._lock = threading.Lock()

    def account(
        self,
        request: ModelRequest,
        content: tuple[Block, ...],
        now: float,
        *,
        ttl: str | None = None,
    ) -> tuple[Usage, float]:
        """Usage of answering `request` with `content` at time `now` (s), and its latency;
        `ttl` overrides the cache's default TTL for this request's writes."""
        usage, latency, _ = self.bill(request, content, now, ttl=ttl)
        return usage, latency

    def bill(
        self,
        request: ModelRequest,
        content: tuple[Block, ...],
        now: float,
        *,
        ttl: str | None = None,
    ) -> tuple[Usage, float, dict[tuple[int, int], Usage]]:
        """`account`, plus how each message block of the request was billed."""
        s = self.settings
        output = answer_tokens(content, s)
        segments, breakpoints = linearize(request)
        with self._lock:
            billing = (
                self._cache.bill(segments, breakpoints, now, ttl=ttl)
                if self._cache is not None
                else uncached_billing(segments)
            )
        usage = billing.usage.model_copy(
            update={"output": output, "reasoning": s.reasoning_tokens_per_call}
        )
        latency = (
            s.first_token_s
            + (usage.input + usage.cache_write_5m + usage.cache_write_1h) / s.input_tokens_per_s
            + usage.cache_read / (10 * s.input_tokens_per_s)
            + output / s.output_tokens_per_s
        )
        return usage, latency, block_usage(segments, billing)
