"""The Model protocol every backend implements, and who a model is for pricing."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from armbench.core import ModelRequest, ModelResponse


class ModelIdentity(BaseModel):
    """Who a model is for pricing and provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    simulated: bool

    @property
    def price_key(self) -> str:
        return f"{self.provider}/{self.model}"


class Model(Protocol):
    """One conversation partner. Implementations may keep per-trial state (a prompt cache)."""

    @property
    def identity(self) -> ModelIdentity: ...

    def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer one request, or raise ModelError with its infra class."""
        ...
