"""The injection manifest: what was broken, how to see it, and how to undo it exactly.

The manifest is JSON (pydantic v2). It is the contract between the injector, the task's
reference solution (`restore_injected`) and the judge: each mutation records the checker
finding verification saw, and its inverse edit. Edits are byte-exact and ordered:

* forward edits are applied in list order; each `offset` is a byte offset into the file as it
  is at that moment (after the earlier forward edits to the same file);
* inverse edits are applied in reverse list order, each against the file as it is then — which
  is exactly the state right after its own forward edit — so applying every inverse restores
  the original bytes, which `sha256_before` lets anyone check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from armbench.tasks.inject.catalogue import Kind

FORMAT_VERSION: Literal[1] = 1


class InjectionError(Exception):
    """Injection or restoration could not be done; the message says why and what to do."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RequestedCounts(_Model):
    """How many mutations of each kind were asked for."""

    mypy: int = Field(0, ge=0)
    """Mutations that each add exactly one mypy error."""
    ruff: int = Field(0, ge=0)
    """Mutations that each add exactly one ruff violation."""
    collect: int = Field(0, ge=0)
    """Mutations that each add exactly one pytest collection error."""

    def of(self, kind: Kind) -> int:
        return {"mypy": self.mypy, "ruff": self.ruff, "collect": self.collect}[kind]

    @property
    def total(self) -> int:
        return self.mypy + self.ruff + self.collect


class InjectionRequest(RequestedCounts):
    """What to inject: counts per kind, and the seed that decides where."""

    seed: int
    """Same repository bytes + same seed (+ same checkers) = byte-identical result."""

    @property
    def counts(self) -> RequestedCounts:
        return RequestedCounts(mypy=self.mypy, ruff=self.ruff, collect=self.collect)


class TextEdit(_Model):
    """Replace `old` at byte `offset` with `new` (both UTF-8 text)."""

    offset: int = Field(ge=0)
    old: str
    new: str

    def apply(self, data: bytes, path: str) -> bytes:
        """The edited bytes; InjectionError when `old` is not where it should be."""
        old = self.old.encode("utf-8")
        if data[self.offset : self.offset + len(old)] != old:
            raise InjectionError(
                f"{path}: expected {self.old!r} at byte {self.offset}, found "
                f"{data[self.offset : self.offset + len(old)].decode('utf-8', 'replace')!r}; "
                "the file changed since the injection, so its edits cannot be replayed"
            )
        return data[: self.offset] + self.new.encode("utf-8") + data[self.offset + len(old) :]


class ExpectedFinding(_Model):
    """The checker finding verification attributed to a mutation."""

    tool: Literal["mypy", "ruff", "pytest"]
    code: str
    """mypy error code, ruff rule, or `collection` for a pytest collection error."""
    line: int
    """Line in the injected file (0 for a collection error, which names a module)."""
    message: str


class MutationRecord(_Model):
    """One injected mistake."""

    kind: Kind
    operator: str
    """Catalogue id (see armbench.tasks.inject.catalogue)."""
    path: str
    """Posix path relative to the repository root."""
    line: int
    """1-based line of the edit in the injected file."""
    description: str
    """The realistic mistake this operator models."""
    change: str
    """What this particular edit did."""
    forward: TextEdit
    inverse: TextEdit
    finding: ExpectedFinding | None = None
    """What verification saw (None in an unverified plan's manifest)."""


class FileDigest(_Model):
    """A touched file's sha256 before and after injection."""

    path: str
    sha256_before: str
    sha256_after: str


class InjectionManifest(_Model):
    """Everything needed to audit, replay or undo one injection."""

    format_version: Literal[1] = FORMAT_VERSION
    seed: int
    requested: RequestedCounts
    checkers: dict[str, str] = Field(default_factory=dict)
    """Versions of the checkers that verified the counts (mypy, ruff, pytest)."""
    mutations: tuple[MutationRecord, ...] = ()
    files: tuple[FileDigest, ...] = ()

    @property
    def touched_paths(self) -> list[str]:
        return sorted({m.path for m in self.mutations})

    def to_json(self) -> str:
        """Stable JSON (fixed field order, two-space indent, trailing newline)."""
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> InjectionManifest:
        return cls.model_validate_json(text)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> InjectionManifest:
        return cls.from_json(path.read_bytes())

    def apply_forward(self, contents: Mapping[str, bytes]) -> dict[str, bytes]:
        """The touched files after replaying every forward edit on their original bytes."""
        out = {path: contents[path] for path in self.touched_paths}
        for m in self.mutations:
            out[m.path] = m.forward.apply(out[m.path], m.path)
        return out

    def apply_inverse(self, contents: Mapping[str, bytes]) -> dict[str, bytes]:
        """The touched files after undoing every mutation, checked against `sha256_before`."""
        self._check_digests(contents, after=True)
        out = {path: contents[path] for path in self.touched_paths}
        for m in reversed(self.mutations):
            out[m.path] = m.inverse.apply(out[m.path], m.path)
        self._check_digests(out, after=False)
        return out

    def _check_digests(self, contents: Mapping[str, bytes], *, after: bool) -> None:
        for digest in self.files:
            if digest.path not in contents:
                raise InjectionError(f"{digest.path}: file is missing; cannot restore it")
            actual = sha256(contents[digest.path])
            expected = digest.sha256_after if after else digest.sha256_before
            if actual != expected:
                state = "injected" if after else "original"
                raise InjectionError(
                    f"{digest.path}: sha256 {actual[:12]}… does not match the recorded {state} "
                    f"content ({expected[:12]}…); the file was changed after injection, so the "
                    "inverse edits cannot restore it — restore it from version control instead"
                )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
