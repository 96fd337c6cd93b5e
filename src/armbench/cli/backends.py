"""`--backend` and `--address` of `run`, `resume` and `demo`: which execution backend runs the
trials (armbench.runner.backends), checked before anything is written, and opened before the
run directory is made so that a cluster that cannot be joined leaves nothing behind."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from armbench.cli.app import fail

if TYPE_CHECKING:
    from armbench.config import RunConfig
    from armbench.runner.backends import Backend, BackendKind
    from armbench.store import Manifest

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
