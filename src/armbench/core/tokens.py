"""Tokens, in the six kinds every provider's usage is normalised into.

Tokens are the ground truth of cost: every ledger row records them, and dollars are always
derived from them and a rate card (armbench.pricing), so a run can be repriced at any time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

TokenKind = Literal[
    "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "reasoning"
]
TOKEN_KINDS: tuple[TokenKind, ...] = (
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "reasoning",
)


class Usage(BaseModel):
    """Tokens of one call in the six kinds. `input` excludes cached tokens; `reasoning` is the
    part of `output` spent reasoning (reported where a provider reports it, never priced twice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0
    reasoning: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in TOKEN_KINDS})

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read: uncached input, cache writes and cache reads."""
        return self.input + self.cache_write_5m + self.cache_write_1h + self.cache_read

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in TOKEN_KINDS}
