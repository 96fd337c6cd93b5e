"""Caps on an agent's work in a trial, resolved field by field from the arm, the config, the
task and the defaults (`Limits.over`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Caps on one agent's work in a trial; unset fields fall back to the task's, then defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    max_iterations: int | None = Field(None, ge=1)
    """Model calls before the trial stops as `limit`."""
    wall_s: float | None = Field(None, gt=0)
    """Wall-clock seconds before the trial stops as `limit` (simulated latency included)."""
    bash_timeout_s: float | None = Field(None, gt=0)
    """Seconds one bash command may run before its process tree is killed."""

    def over(self, fallback: Limits) -> Limits:
        """These limits, with unset fields taken from `fallback`."""
        return Limits(**{k: v if v is not None else getattr(fallback, k) for k, v in self})


DEFAULT_LIMITS = Limits(max_iterations=40, wall_s=1800, bash_timeout_s=120)
