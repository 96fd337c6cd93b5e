"""Workspace file access from the host, for backends whose workspace is a host folder.

The local backend runs commands in the workspace folder itself and a bubblewrap sandbox binds
that folder into its own view, so both read and write the agent's files on the host side. What
makes it safe is `resolve`: every path is resolved with symlinks followed and refused unless it
stays inside the workspace, so a link the agent planted cannot carry an edit outside.
"""

from __future__ import annotations

from pathlib import Path

from armbench.env.base import FileKind, OutsideWorkspace


class HostFiles:
    """The Environment's file methods over a workspace folder on the host."""

    _workdir: Path

    def resolve(self, path: str) -> str:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self._workdir / candidate
        real = candidate.resolve()
        if not real.is_relative_to(self._workdir):
            raise OutsideWorkspace(f"{path}: outside the workspace")
        return real.relative_to(self._workdir).as_posix() or "."

    def _path(self, resolved: str) -> Path:
        return self._workdir / resolved

    def kind(self, path: str) -> FileKind | None:
        target = self._path(path)
        if target.is_file():
            return "file"
        if target.is_dir():
            return "dir"
        return "other" if target.exists() else None

    def read_bytes(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def write_bytes(self, path: str, data: bytes) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def listing(self, path: str, *, depth: int, hidden: frozenset[str]) -> list[tuple[str, bool]]:
        folder = self._path(path)
        entries: list[tuple[str, bool]] = []
        for child in sorted(folder.rglob("*")):
            rel = child.relative_to(folder)
            if len(rel.parts) > depth or hidden.intersection(rel.parts):
                continue
            entries.append((child.relative_to(self._workdir).as_posix(), child.is_dir()))
        return entries
