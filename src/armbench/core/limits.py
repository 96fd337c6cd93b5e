"""Caps on an agent's work in a trial, resolved field by field from the arm, the config, the
task and the defaults (`Limits.over`); and caps on each command it runs (`CommandLimits`)."""

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
