"""The one place an Environment backend is constructed: by name, from a registry.

Callers that run commands on a trial's behalf are handed an `EnvironmentFactory` and call it
with a workspace; they never name a backend class. Adding a backend is one module implementing
the Environment protocol, registered in `BACKENDS` under the name a config will use, whose
constructor takes the keyword arguments `EnvironmentFactory.__call__` passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.core import DEFAULT_COMMAND_LIMITS, CommandLimits
from armbench.env.base import Environment
from armbench.env.bwrap import BwrapEnvironment, SandboxMounts, unavailable
from armbench.env.local import LocalEnvironment

BACKENDS: Mapping[str, Callable[..., Environment]] = {
    "local": LocalEnvironment,
    "bwrap": BwrapEnvironment,
}
"""Environment backends by name."""
CONFINING = frozenset({"bwrap"})
"""Backends that confine what a command can see and reach (the others isolate by convention)."""

SandboxChoice = Literal["auto", "bwrap", "local"]
BY_CONVENTION = (
    "commands run as plain processes (--sandbox local): isolation is by convention — the agent "
    "can read any file the user can, and reach the network"
)


class UnknownBackend(ValueError):
    """A backend name no module registered."""


class SandboxUnavailable(RuntimeError):
    """The backend a run asked for cannot run here; nothing was started."""


@dataclass(frozen=True)
class EnvironmentFactory:
    """Builds every Environment of a run with one backend (`local` unless told otherwise)."""

    backend: str = "local"
    limits: CommandLimits = DEFAULT_COMMAND_LIMITS
    """Caps on every command (armbench.env.limits)."""
    mounts: SandboxMounts = field(default_factory=SandboxMounts)
    """What a confining backend lets commands read besides the system (the toolchain)."""
    owner: str | None = None
    """The lease of the run whose commands these are (armbench.runner.leases): every command
    carries it, so what a killed run left running can be found and killed. Not recorded."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            known = ", ".join(sorted(BACKENDS))
            raise UnknownBackend(f"no environment backend {self.backend!r} (known: {known})")

    @property
    def confined(self) -> bool:
        """Whether commands are confined by force, not by convention."""
        return self.backend in CONFINING

    def __call__(
        self,
        workdir: Path,
        *,
        home: Path | None = None,
        path_prefix: Sequence[Path] | None = None,
        extra_env: Mapping[str, str] | None = None,
        writable: Sequence[Path] = (),
        readable: Sequence[Path] = (),
        read_only_workdir: bool = False,
    ) -> Environment:
        """An Environment on `workdir`: commands start there with HOME at `home` (a scratch
        folder when None), `path_prefix` before PATH (armbench's own interpreter's folder when
        None), the scrubbed variables plus `extra_env`; a confining backend also lets them write
        `writable` (scratch folders the harness reads back) and nothing else but the
        workspace and HOME — not even the workspace when `read_only_workdir` (the judge's
        copy, which the code under test must not rewrite while it is judged) — and read
        `readable` besides the run's mounts (an external agent's installation)."""
        options: dict[str, Any] = {"home": home, "path_prefix": path_prefix, "extra_env": extra_env}
        options["limits"] = self.limits
        options["owner"] = self.owner
        if self.confined:
            options.update(
                mounts=self.mounts,
                writable=tuple(writable),
                readable=tuple(readable),
                read_only_workdir=read_only_workdir,
            )
        return BACKENDS[self.backend](workdir, **options)

    def record(self) -> dict[str, Any]:
        """What the manifest says about how commands ran."""
        return {
            "backend": self.backend,
            "confined": self.confined,
            "limits": self.limits.model_dump(),
            "readable": [str(p) for p in self.mounts.readable] if self.confined else [],
            "hidden": [str(p) for p in self.mounts.hidden] if self.confined else [],
        }


def choose_backend(choice: SandboxChoice) -> tuple[str, str | None]:
    """The backend for a run that asked for `choice`, and a warning to show on every run (for
    `local`). `auto` takes bubblewrap wherever it works; asking for `bwrap` where it does not
    raises SandboxUnavailable: never a silent fallback."""
    if choice == "local":
        return "local", BY_CONVENTION
    why = unavailable()
    if why is None:
        return "bwrap", None
    if choice == "bwrap":
        raise SandboxUnavailable(f"--sandbox bwrap: {why}")
    return "local", f"{why}; so {BY_CONVENTION}"


LOCAL = EnvironmentFactory()
"""The plain-process backend: isolation by convention (see armbench.env.local)."""
