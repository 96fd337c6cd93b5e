"""Caps on an agent's work in a trial, resolved field by field from the arm, the config, the
task and the defaults (`Limits.over`); caps on each command it runs (`CommandLimits`); and how
fast the run may call one model endpoint (`EndpointLimits`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class Limits(BaseModel):
    """Caps on one agent's work in a trial; unset fields fall back to the task's, then defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    max_iterations: int | None = Field(None, ge=1)
    """Model calls before the trial stops as `limit`."""
    wall_s: float | None = Field(None, gt=0)
    """Wall-clock seconds before the trial stops as `limit` (simulated latency included)."""
    bash_timeout_s: float | None = Field(None, gt=0)
    """Seconds one bash command may run before its process tree is killed."""
    max_cost_usd: float | None = Field(None, ge=0)
    """Dollars the whole trial may spend: every agent and role, failed attempts included, at
    the run's rate card. Each call's worst case is reserved before it is sent (see
    armbench.models.worst_case), so the cap is never exceeded; the trial stops as `limit`
    (`max_cost`) at the first call that would not fit. None: no cap."""
    max_calls: int | None = Field(None, ge=1)
    """Model call attempts of the whole trial — every agent and role, failed and retried
    attempts included — before it stops as `limit` (`max_calls`). Unlike `max_iterations`
    (answered calls of one agent's loop), it bounds what the trial sends to providers.
    None: no cap."""
    max_tokens: int | None = Field(None, ge=1)
    """Tokens of the whole trial — input, output, cache writes and cache reads (reasoning is
    part of output, not counted twice) — before it stops as `limit` (`max_tokens`). Checked
    before each call with the call's worst case (its prompt bound plus its `max_tokens`), so
    the cap is never exceeded. None: no cap."""

    def over(self, fallback: Limits) -> Limits:
        """These limits, with unset fields taken from `fallback`."""
        return Limits(**{k: v if v is not None else getattr(fallback, k) for k, v in self})

    @model_serializer(mode="wrap")
    def _without_unset_caps(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave out the caps added after the first release while they are unset, so configs
        written before them keep their canonical hash (and resume their runs)."""
        data = handler(self)
        if isinstance(data, dict):
            for name in ("max_cost_usd", "max_calls", "max_tokens"):
                if data.get(name, 0) is None:
                    del data[name]
        return data


DEFAULT_LIMITS = Limits(max_iterations=40, wall_s=1800, bash_timeout_s=120)


class CommandLimits(BaseModel):
    """Caps on one command and everything it starts, set by the Environment that runs it
    (armbench.env.limits). All are per process except `processes`."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    processes: int = Field(512, ge=1)
    """Processes and threads at once, all of the command's together. Enforced with a pids
    cgroup where armbench may create one (root); not limited elsewhere."""
    memory_mb: int = Field(8192, ge=64)
    """Address space of each process, in MiB (RLIMIT_AS)."""
    file_size_mb: int = Field(2048, ge=1)
    """Largest file a process may write, in MiB (RLIMIT_FSIZE)."""
    open_files: int = Field(4096, ge=16)
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    cpu_s: int = Field(3600, ge=1)
    """CPU seconds per process (RLIMIT_CPU); wall time is bounded by the command's timeout."""


DEFAULT_COMMAND_LIMITS = CommandLimits()


class EndpointLimits(BaseModel):
    """How fast the run may call one model endpoint (a provider at one base URL), from all its
    trials together. Each endpoint has a limiter of its own (armbench.models.limiter)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    max_connections: int | None = Field(None, ge=1)
    """Calls in flight at once. The limiter adapts below it: a 429 or 529 halves the calls
    allowed (never below 1), `grow_after` successes allow one more again. None: the run's
    `concurrency` (a trial has at most one call in flight)."""
    rpm: int | None = Field(None, ge=1)
    """Call attempts started per minute (a sliding 60-second window), retries included.
    None: no limit."""
    grow_after: int = Field(10, ge=1)
    """Successful calls, after a 429/529 shrank the calls allowed, before one more is
    allowed."""
