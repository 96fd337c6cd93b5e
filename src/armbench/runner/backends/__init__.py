"""Execution backends: where a run's trials run (armbench.runner.backends.base says how)."""

from armbench.runner.backends.base import (
    BACKENDS,
    Backend,
    BackendKind,
    BackendUnavailable,
    Executor,
    Finished,
    Job,
    backend_kind,
    open_backend,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendKind",
    "BackendUnavailable",
    "Executor",
    "Finished",
    "Job",
    "backend_kind",
    "open_backend",
]
