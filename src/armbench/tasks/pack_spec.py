"""The pack file (`pack.yaml`): what a pack's tasks share — where their fixture comes from, the
checkers that judge them and how those run, and what the project's tests need.

A built-in pack on a repository of armbench's own needs none of it. A pack on a real project
declares its `source` (the upstream release, pinned by hash), its `toolchain` (the project's
own checkers and test dependencies, pinned by hash), its `checks` (the checker arguments the
project uses) and the `env` its tests expect. Every field is data: a pack can be hashed,
validated and shared without running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from armbench.checks import CheckArgs
from armbench.core import looks_secret

PACK_FILE = "pack.yaml"
SOURCE_FIXTURE = "@source"
"""A task's `fixture` value meaning "the pack's `source`" (also what an absent fixture means
in a pack that has one)."""

_SHA256 = r"^[0-9a-f]{64}$"
_RESERVED_ENV = frozenset(
    {"PATH", "HOME", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class PypiSource(_Spec):
    """A release's sdist from the package index, fetched with pip and checked by hash."""

    kind: Literal["pypi"]
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")
    sha256: str = Field(pattern=_SHA256)
    """sha256 of the `.tar.gz` (or `.zip`) pip downloads: a different file is refused."""

    def describe(self) -> str:
        return f"PyPI sdist {self.name}=={self.version}"

    def cache_key(self) -> str:
        return f"pypi-{self.name.lower()}-{self.version}-{self.sha256[:12]}"


class ArchiveSource(_Spec):
    """A `.tar.gz`, `.tar` or `.zip` (a `git archive`, a release tarball), by local path
    (relative to the pack folder) or `file://`/`https://` URL, checked by hash."""

    kind: Literal["archive"]
    archive: str
    sha256: str = Field(pattern=_SHA256)

    def describe(self) -> str:
        return f"archive {self.archive}"

    def cache_key(self) -> str:
        return f"archive-{Path(self.archive.rstrip('/')).name}-{self.sha256[:12]}"


class PathSource(_Spec):
    """A folder on this machine (relative to the pack folder), used as it is."""

    kind: Literal["path"]
    path: str

    def describe(self) -> str:
        return f"folder {self.path}"


SourceSpec = Annotated[PypiSource | ArchiveSource | PathSource, Field(discriminator="kind")]


class ToolchainSpec(_Spec):
    """The interpreter the pack's checkers and tests run with: built from a hashed lock, or an
    existing one whose versions are pinned."""

    lock: str | None = None
    """A pip requirements file (relative to the pack folder) pinning every package with
    `name==version` and `--hash=sha256:`; armbench builds it once into a cached virtualenv."""
    python: str | None = None
    """Instead of a lock: an existing interpreter (absolute path) that has the checkers."""
    expect: dict[str, str] = Field(default_factory=dict)
    """With `python`: distribution → exact version it must have (`mypy: 1.19.1`)."""
    editable_project: bool = False
    """With `lock`: make the project under test importable from every process, as the
    editable install a project's own CI makes (typer's tests start subprocesses that replace
    PYTHONPATH and still `import typer`). armbench adds a `.pth` file to the toolchain that puts
    the folder in `ARMBENCH_PROJECT_ROOT` on `sys.path`, and sets that variable to each
    command's working tree: the agent's workspace, the judge's copy."""

    @model_validator(mode="after")
    def _one_way(self) -> ToolchainSpec:
        if (self.lock is None) == (self.python is None):
            raise ValueError("give either `lock` (a hashed requirements file) or `python`")
        if self.python is not None and not Path(self.python).is_absolute():
            raise ValueError(f"python: {self.python!r} must be an absolute path")
        if self.lock is not None and self.expect:
            raise ValueError("expect: the lock already pins every version")
        if self.python is not None and self.editable_project:
            raise ValueError("editable_project: only for a toolchain armbench builds (`lock`)")
        return self


class ChecksSpec(_Spec):
    """The arguments the project runs its checkers with (absent: armbench's defaults, which
    rely on the project's configuration naming its files)."""

    mypy: tuple[str, ...] | None = None
    """After `python -m mypy`, e.g. `[typer]`."""
    ruff: tuple[str, ...] | None = None
    """After `python -m ruff check`, e.g. `[typer, tests]` (default `.`)."""
    pytest: tuple[str, ...] | None = None
    """After `python -m pytest`, e.g. `[-p, xdist, -n, auto]` (plugins load only when named)."""

    def args(self) -> CheckArgs:
        default = CheckArgs()
        return CheckArgs(
            mypy=default.mypy if self.mypy is None else self.mypy,
            ruff=default.ruff if self.ruff is None else self.ruff,
            pytest=default.pytest if self.pytest is None else self.pytest,
        )


class PackSpec(_Spec):
    """A pack, as written in `pack.yaml`."""

    name: str | None = None
    """Defaults to the folder's name."""
    description: str = ""
    source: SourceSpec | None = None
    """Where the fixture of tasks whose `fixture` is `@source` (or absent) comes from."""
    toolchain: ToolchainSpec | None = None
    """The pack's own checkers; absent: armbench's pinned ones."""
    checks: ChecksSpec = ChecksSpec()
    env: dict[str, str] = Field(default_factory=dict)
    """Variables the project's tests need, for the injector, the agent's shell and the judge
    alike; `${WORKDIR}` and `${HOME}` in a value become the command's folder and HOME. Never
    a secret: names that look like credentials are refused."""
    ignored: tuple[str, ...] = ()
    """Gitignore-style patterns of files the project's tests write into the tree (coverage
    data): never counted as a change, never judged, listed in the source's `.gitignore`."""

    @field_validator("env")
    @classmethod
    def _no_secrets(cls, env: dict[str, str]) -> dict[str, str]:
        for name in env:
            if looks_secret(name):
                raise ValueError(f"{name}: looks like a credential; a pack never passes one")
            if name in _RESERVED_ENV:
                raise ValueError(f"{name}: set by armbench itself; a pack cannot change it")
        return env
