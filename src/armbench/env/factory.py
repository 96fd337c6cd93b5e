"""The one place an Environment backend is constructed: by name, from a registry.

Callers that run commands on a trial's behalf are handed an `EnvironmentFactory` and call it
with a workspace; they never name a backend class. Adding a backend is one module implementing
the Environment protocol, registered in `BACKENDS` under the name a config will use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from armbench.env.base import Environment
from armbench.env.local import LocalEnvironment

BACKENDS: Mapping[str, Callable[..., Environment]] = {"local": LocalEnvironment}
"""Environment backends by name."""


class UnknownBackend(ValueError):
    """A backend name no module registered."""


@dataclass(frozen=True)
class EnvironmentFactory:
    """Builds every Environment of a run with one backend (`local` unless told otherwise)."""

    backend: str = "local"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            known = ", ".join(sorted(BACKENDS))
            raise UnknownBackend(f"no environment backend {self.backend!r} (known: {known})")

    def __call__(
        self,
        workdir: Path,
        *,
        home: Path | None = None,
        path_prefix: Sequence[Path] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> Environment:
        """An Environment on `workdir`: commands start there with HOME at `home` (a scratch
        folder when None), `path_prefix` before PATH (armbench's own interpreter's folder when
        None) and the scrubbed variables plus `extra_env`."""
        build = BACKENDS[self.backend]
        return build(workdir, home=home, path_prefix=path_prefix, extra_env=extra_env)


LOCAL = EnvironmentFactory()
"""The plain-process backend: isolation by convention (see armbench.env.local)."""
