"""`--backend` and `--address` of `run`, `resume` and `demo`: which execution backend runs the
trials (armbench.runner.backends), checked before anything is written, and opened before the
run directory is made so that a cluster that cannot be joined leaves nothing behind; and the
execution on it with the live view (its budget read through the backend, so on Ray the one
every worker shares)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from armbench.cli.app import err, fail

if TYPE_CHECKING:
    from armbench.config import RunConfig
    from armbench.runner import Preflight, RunOutcome
    from armbench.runner.backends import Backend, BackendKind
    from armbench.store import Manifest, RunDirectory

BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help=(
            "Where trials run: `local` (a thread pool in this process) or `ray` (Ray tasks on "
            "a Ray cluster, needs `pip install 'armbench[ray]'`; README, \"More than one "
            'machine: Ray"). Default: local (resume: the backend the run used).'
        ),
        show_default=False,
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help=(
            "With --backend ray: the cluster to join (`auto`, HOST:PORT or ray://HOST:10001); "
            "without it armbench starts a local Ray for the run."
        ),
        show_default=False,
    ),
]


@dataclass(frozen=True)
class BackendChoice:
    """`--backend` and `--address`, checked."""

    name: str
    address: str | None
    kind: BackendKind

    def record(self) -> dict[str, Any]:
        return self.kind.record(self.address)


def choose_backend(name: str | None, address: str | None, config: RunConfig) -> BackendChoice:
    """The backend asked for, able to run `config` (exit 2 naming why not, nothing written)."""
    from armbench.runner.backends import BackendUnavailable, backend_kind

    chosen = name or "local"
    try:
        kind = backend_kind(chosen)
        kind.check(config, address)
    except BackendUnavailable as exc:
        fail(str(exc), code=2)
    return BackendChoice(chosen, address, kind)


@contextlib.contextmanager
def opened(choice: BackendChoice, label: str) -> Iterator[Backend]:
    """The backend, open (Ray joined or started) before the run directory is made: a cluster
    that cannot be joined exits 2 with nothing written."""
    with contextlib.ExitStack() as stack:
        try:
            backend = stack.enter_context(choice.kind.open(choice.address, label))
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f" at {choice.address}" if choice.address else ""
            fail(f"--backend {choice.name}{where}: cannot start or join it ({exc})", code=2)
        yield backend


def recorded_backend(manifest: Manifest) -> dict[str, Any]:
    """The backend a run last ran on: its latest resume's, else its own (`local` for a run
    made before backends were recorded)."""
    for change in reversed(manifest.resumed_with):
        if "backend" in change:
            return dict(change["backend"])
    return dict(manifest.backend) or {"name": "local"}


def resume_backend(
    manifest: Manifest, name: str | None, address: str | None, config: RunConfig
) -> tuple[BackendChoice, dict[str, Any] | None]:
    """The backend a resume runs on: the one the run last used unless `--backend` says
    otherwise (`--address` alone joins that backend elsewhere); and, when that is not the
    one the run last used, the `resumed_with` entry that says so."""
    from armbench.store import utc_now

    used = recorded_backend(manifest)
    if name is None:
        name = used.get("name", "local")
        address = address if address is not None else used.get("address")
    choice = choose_backend(name, address, config)
    record = choice.record()
    return choice, None if record == used else {"at": utc_now(), "backend": record}


def execute_on(pre: Preflight, run_dir: RunDirectory, todo: int, backend: Backend) -> RunOutcome:
    """Execute on `backend` with the live view (armbench.cli.progress): done of `todo`, by
    status, spend against the budget (the one every worker shares), an ETA and what the run
    is doing."""
    from armbench.cli.progress import RunProgress
    from armbench.core import TrialRecord
    from armbench.pricing import UnknownPriceError, trial_cost
    from armbench.runner import execute, run_capacity

    with run_dir.database() as db:
        capacity = backend.share(pre.config, run_capacity(pre, db))

    def cost_of(record: TrialRecord) -> float | None:
        try:
            return trial_cost(record, pre.rate_card)
        except UnknownPriceError:  # checked before the run; shown as unpriced, never as $0
            return None

    budget = capacity.budget.state if capacity.budget.limit_usd is not None else None
    with RunProgress(err, pre.config.name, todo, budget=budget, cost_of=cost_of) as progress:
        return execute(
            pre,
            run_dir,
            on_trial=progress.on_trial,
            on_activity=progress.on_activity,
            capacity=capacity,
            backend=backend,
        )
