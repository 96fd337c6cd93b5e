"""How a run's trials are executed: the protocol every backend implements, and its registry.

`runner.run.execute` is the driver: it owns the run directory, the database and the decisions
(stop on a fatal provider error, stop once the budget is exhausted), and writes each trial as
it ends. A backend only runs trials, wherever it runs them: `local` on a thread pool in this
process, `ray` as Ray tasks on the machines of a Ray cluster. The protocol is what the driver
needs of either and nothing more:

- `BackendKind` is the registry's entry: it refuses what it cannot run (`check`, before
  anything is written), says how the manifest records it, and opens a `Backend`;
- `Backend` is open for one execution (a context manager): it shares the run's `Capacity`
  with its workers (`share`: the local pool's threads use it as it is; Ray's workers on other
  machines reach one copy of it through an actor);
- `Executor` (from `Backend.executor`) runs trial plans: `submit` one, `finished` yields each
  submitted plan once as it ends, with its result (None: it never started, or the budget
  refused its first call), and `stop` starts no new one (those under way finish and are
  yielded).

Backends are found by name in `BACKENDS` (name → module with a `KIND`), imported only when
asked for: `ray` needs the optional extra `armbench[ray]`, and armbench without it works until
someone asks for `--backend ray` (BackendUnavailable, exit 2, saying how to install it).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from armbench.config import RunConfig
from armbench.runner.capacity import Capacity
from armbench.runner.events import OnActivity
from armbench.runner.plan import TrialPlan
from armbench.runner.trial import TrialContext, TrialResult

if TYPE_CHECKING:  # run.py imports this module: Preflight only names a type here
    from armbench.runner.run import Preflight

BACKENDS: Mapping[str, str] = {
    "local": "armbench.runner.backends.local",
    "ray": "armbench.runner.backends.ray",
}
"""Execution backends by name: the module that holds each one's `KIND`."""
INSTALL = {"ray": "pip install 'armbench[ray]'"}
"""How to install what a backend needs beyond armbench."""


class BackendUnavailable(ValueError):
    """The backend asked for cannot run this run here (not installed, or a setting it cannot
    honour); nothing was started. The CLI exits 2 with the message."""


@dataclass(frozen=True)
class Job:
    """What a backend's executor needs to run one execution's trials."""

    pre: Preflight
    """The run's checked settings: what a worker elsewhere is told (config, prices, prompts,
    sandbox, packs)."""
    context: TrialContext
    """How a trial runs in this process (the local pool's), with the run's redactor."""
    on_activity: OnActivity
    run_id: str


@dataclass(frozen=True)
class Finished:
    """A submitted plan, ended."""

    plan: TrialPlan
    result: TrialResult | None
    """None: it never started (the run was stopped, or the budget refused its first call)."""


class Executor(Protocol):
    def submit(self, plan: TrialPlan) -> None:
        """Run this trial when there is room (in submission order)."""
        ...

    def finished(self) -> Iterator[Finished]:
        """Every submitted plan once, as it ends (in any order), until none is left."""
        ...

    def stop(self) -> None:
        """Start no new trial; those under way finish and are still yielded."""
        ...


class Backend(Protocol):
    name: str

    def share(self, config: RunConfig, capacity: Capacity) -> Capacity:
        """The capacity the trials share, made from this process's `capacity` (its budget as
        it stands: a resumed run's spend is in it): the driver reads the same budget and
        limiters through it (a progress display, the stop)."""
        ...

    def executor(self, job: Job) -> AbstractContextManager[Executor]:
        """Runs one execution's trials; on the way out none is left running."""
        ...


class BackendKind(Protocol):
    name: str

    def check(self, config: RunConfig, address: str | None) -> None:
        """BackendUnavailable when this backend cannot run `config` (before anything is
        written)."""
        ...

    def record(self, address: str | None) -> dict[str, Any]:
        """How the manifest records it: `{name, ...}`, never a credential."""
        ...

    def open(self, address: str | None, run_id: str) -> AbstractContextManager[Backend]:
        """The backend, ready for trials (Ray started or joined), until the context ends."""
        ...


def backend_kind(name: str) -> BackendKind:
    """The backend registered as `name`; BackendUnavailable if unknown or not installed."""
    module_name = BACKENDS.get(name)
    if module_name is None:
        known = ", ".join(sorted(BACKENDS))
        raise BackendUnavailable(f"--backend {name}: no such backend (choose {known})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        install = INSTALL.get(name, "install it")
        raise BackendUnavailable(
            f"--backend {name} needs a package that is not installed ({exc}): {install}"
        ) from exc
    kind: BackendKind = module.KIND
    return kind


def open_backend(name: str, address: str | None, run_id: str) -> AbstractContextManager[Backend]:
    """`backend_kind(name).open(address, run_id)`."""
    return backend_kind(name).open(address, run_id)
