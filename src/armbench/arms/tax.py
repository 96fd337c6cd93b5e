"""Delegation tax: what an orchestrator pays to re-read what its executors sent back.

Every orchestrator call after a delegation carries the executor's returned text in its prompt,
read as a cache read, a cache write or plain input. The tax is the tokens of those blocks, by
kind, over all later calls — priced at the orchestrator's rates when the run is read. For the
sim it is exact (the sim reports how each block was billed); for real providers it is
estimated from each block's share of the request's tokens and labelled an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from armbench.core import TOKEN_KINDS, ModelRequest, ModelResponse, ToolResultBlock, Usage
from armbench.models.prompt_cache import linearize

PROMPT_KINDS = ("input", "cache_write_5m", "cache_write_1h", "cache_read")


@dataclass
class DelegationTax:
    price_key: str
    """The orchestrator's `provider/model`: the rates the tax is paid at."""
    tokens: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TOKEN_KINDS, 0.0))
    estimated: bool = False

    def add(self, request: ModelRequest, response: ModelResponse, returned: set[str]) -> None:
        """Count the executor-returned blocks (results of the tool calls in `returned`) that
        `request` carried. An error result is the harness refusing a delegation, not executor
        content: it pays no tax."""
        positions = [
            (m, b)
            for m, message in enumerate(request.messages)
            for b, block in enumerate(message.content)
            if isinstance(block, ToolResultBlock)
            and block.tool_use_id in returned
            and not block.is_error
        ]
        if not positions:
            return
        if response.block_usage is not None:
            for position in positions:
                self._add(response.block_usage[position], 1.0)
            return
        self.estimated = True
        segments, _ = linearize(request)
        total = sum(s.tokens for s in segments) or 1
        wanted = {("message", m, b) for m, b in positions}
        share = sum(s.tokens for s in segments if s.ref in wanted) / total
        self._add(response.usage, share)

    def _add(self, usage: Usage, share: float) -> None:
        for kind in PROMPT_KINDS:
            self.tokens[kind] += getattr(usage, kind) * share

    def record(self) -> dict[str, Any]:
        return {
            "model": self.price_key,
            "tokens": {k: round(v) for k, v in self.tokens.items()},
            "estimated": self.estimated,
        }
