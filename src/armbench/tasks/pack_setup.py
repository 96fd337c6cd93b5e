"""What a task takes from its pack at run time: its fixture (perhaps fetched), the interpreter
its checkers run with, their arguments, the variables its tests need and the files they write.

Every agentic task holds one (`Task.setup`); a task loaded on its own, or from a pack without a
`pack.yaml` that says otherwise, gets `PackSetup.default()`: armbench's own checkers and
defaults. Fetching and building happen on first use and are cached on disk; preflight asks for
both so that a failure is an error before any trial, never in the middle of a run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from armbench.checks import JUDGED_ENV, CheckArgs
from armbench.tasks.pack_spec import PackSpec
from armbench.tasks.sources import materialize
from armbench.tasks.toolchains import PROJECT_ROOT_VARIABLE, Toolchain, toolchain_for


@dataclass(frozen=True)
class PackSetup:
    folder: Path
    """The pack's folder; the spec's relative paths resolve against it."""
    spec: PackSpec = field(default_factory=PackSpec)
    _fixture: list[Path] = field(default_factory=list, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def default(cls) -> PackSetup:
        return cls(folder=Path("."))

    @property
    def has_source(self) -> bool:
        return self.spec.source is not None

    def fixture(self) -> Path:
        """The source's tree, fetched into the cache the first time (SourceError if it cannot
        be had)."""
        assert self.spec.source is not None, "a pack without a source has no source fixture"
        with self._lock:
            if not self._fixture:
                self._fixture.append(materialize(self.spec.source, self.folder, self.spec.ignored))
            return self._fixture[0]

    def toolchain(self) -> Toolchain | None:
        """The pack's own toolchain, built and checked (ToolchainError otherwise); None when
        the pack uses armbench's pinned checkers."""
        if self.spec.toolchain is None:
            return None
        return toolchain_for(self.spec.toolchain, self.folder)

    def python(self, default: str) -> str:
        """The interpreter the checkers (and the agent's `python`) run with."""
        toolchain = self.toolchain()
        return default if toolchain is None else toolchain.python

    @property
    def check_args(self) -> CheckArgs:
        return self.spec.checks.args()

    @property
    def environ(self) -> dict[str, str]:
        """What every command on this pack's tasks gets on top of the scrubbed environment: the
        judge's settings and the project's variables (`${WORKDIR}`/`${HOME}` still unexpanded:
        each Environment expands them for its own folder)."""
        editable = self.spec.toolchain is not None and self.spec.toolchain.editable_project
        project = {PROJECT_ROOT_VARIABLE: "${WORKDIR}"} if editable else {}
        return {**JUDGED_ENV, **project, **self.spec.env}

    def ignored(self, rel: str) -> bool:
        """Whether `rel` is an output the project's tests write (never a change)."""
        return bool(self.spec.ignored) and _matcher(self.spec.ignored).match_file(rel)

    def record(self) -> dict[str, Any]:
        """What a run's manifest says about it (the toolchain only once it is built)."""
        out: dict[str, Any] = {"checks": self.spec.checks.model_dump(), "env": self.spec.env}
        if self.spec.source is not None:
            out["source"] = self.spec.source.model_dump()
            out["fixture"] = str(self.fixture())
        toolchain = self.toolchain()
        if toolchain is not None:
            out["toolchain"] = toolchain.record()
        return out


def _matcher(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)
