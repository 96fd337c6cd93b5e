"""Scope discovery: the repository's sources, and which files each kind of mutation may touch.

A kind may touch only the files its checker really looks at: mypy's configured `files` minus
excludes, `ignore_errors` overrides and skip markers; ruff's files minus `noqa` markers; test
modules. `Scope.static` tells what it can without running a checker, `discover_scope` narrows
that with what ruff and pytest themselves list.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.checks import DEFAULT_CHECK_ARGS, CheckArgs
from armbench.core import IGNORED_DIRS
from armbench.env import LOCAL, EnvironmentFactory
from armbench.tasks.inject.catalogue import KINDS, Kind
from armbench.tasks.inject.checkers import Checkers
from armbench.tasks.inject.sites import RepoContext

_MYPY_IGNORE = re.compile(rb"^[ \t]*#[ \t]*mypy:.*\bignore[-_]errors\b", re.MULTILINE)
_RUFF_NOQA = re.compile(rb"^[ \t]*#[ \t]*(?:ruff|flake8)[ \t]*:[ \t]*noqa", re.MULTILINE | re.I)
_TYPE_IGNORE = re.compile(rb"#[ \t]*type:[ \t]*ignore\b")
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")


# --- sources and scope ----------------------------------------------------------------------


def read_sources(repo: Path) -> dict[str, bytes]:
    """Every regular `.py` file under `repo` (posix relative path → bytes), in sorted order."""
    found: dict[str, bytes] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                found[path.relative_to(repo).as_posix()] = path.read_bytes()
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class Scope:
    """Which files each kind of mutation may touch: the files its checker really looks at."""

    mypy: frozenset[str]
    ruff: frozenset[str]
    collect: frozenset[str]

    def kinds_for(self, path: str) -> frozenset[Kind]:
        return frozenset(k for k in KINDS if path in self.files(k))

    def files(self, kind: Kind) -> frozenset[str]:
        return {"mypy": self.mypy, "ruff": self.ruff, "collect": self.collect}[kind]

    def narrowed(self, *, ruff: Iterable[str], collect: Iterable[str]) -> Scope:
        """This scope intersected with what the checkers themselves listed."""
        return Scope(self.mypy, self.ruff & frozenset(ruff), self.collect & frozenset(collect))

    @classmethod
    def static(
        cls, repo: Path, sources: Mapping[str, bytes], mypy_paths: tuple[str, ...] = ()
    ) -> Scope:
        """What can be told without running a checker: markers in files, the paths mypy is
        given (`mypy_paths`, else its configured `files`)."""
        mypy_files = _mypy_configured(repo, sources, mypy_paths)
        return cls(
            mypy=frozenset(p for p in mypy_files if not _mypy_skips(sources[p])),
            ruff=frozenset(p for p, data in sources.items() if not _RUFF_NOQA.search(data)),
            collect=frozenset(p for p in sources if _TEST_FILE.search(p)),
        )


def _mypy_skips(data: bytes) -> bool:
    """`# mypy: ignore-errors`, or a `# type: ignore` above the first statement."""
    return bool(_MYPY_IGNORE.search(data)) or _ignored_top(data)


def _ignored_top(data: bytes) -> bool:
    """A `# type: ignore` comment before the first statement makes mypy skip the module."""
    for line in data.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            return False
        if _TYPE_IGNORE.search(stripped):
            return True
    return False


def _mypy_configured(
    repo: Path, sources: Mapping[str, bytes], mypy_paths: tuple[str, ...] = ()
) -> list[str]:
    """Sources inside the paths mypy is given (`mypy_paths`, else `[tool.mypy] files`), minus
    `exclude` and `ignore_errors` overrides."""
    config = _pyproject(repo).get("tool", {}).get("mypy", {})
    files = list(mypy_paths) or config.get("files")
    entries = [files] if isinstance(files, str) else list(files or [])
    entries = [e.strip().rstrip("/") for entry in entries for e in str(entry).split(",")]
    excludes = config.get("exclude") or []
    patterns = [excludes] if isinstance(excludes, str) else list(excludes)
    ignored = [
        pattern
        for override in config.get("overrides", [])
        if override.get("ignore_errors")
        for pattern in _as_list(override.get("module"))
    ]
    return [
        path
        for path in sources
        if (not entries or any(_under(path, e) for e in entries if e))
        and not any(re.search(p, path) for p in patterns)
        and not any(_module_matches(_module_name(path), p) for p in ignored)
    ]


def _pyproject(repo: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _under(path: str, entry: str) -> bool:
    entry = entry.removeprefix("./")
    if entry in (".", ""):
        return True
    return path == entry or path.startswith(entry + "/") or fnmatch.fnmatch(path, entry)


def _module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    if parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _module_matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        stem = pattern[:-2]
        return module == stem or module.startswith(stem + ".")
    return module == pattern


def repo_context(sources: Mapping[str, bytes]) -> RepoContext:
    """Top-level names the repository provides: an added `import` must not resolve to them."""
    names = {_module_name(path).split(".")[0] for path in sources}
    return RepoContext(local_modules=frozenset(n for n in names if n))


def discover_scope(
    repo: Path,
    python: str = sys.executable,
    *,
    environments: EnvironmentFactory = LOCAL,
    args: CheckArgs = DEFAULT_CHECK_ARGS,
    extra_env: Mapping[str, str] | None = None,
) -> Scope:
    """`Scope.static` narrowed by what ruff and pytest list in `repo` (which they do not touch).

    Use it with `plan` to see what `inject` would choose from, without running mypy.
    """
    repo = repo.resolve()
    checkers = Checkers(repo, python, extra_env=extra_env, environments=environments, args=args)
    return discover(checkers, repo, read_sources(repo), args)


def discover(
    checkers: Checkers,
    repo: Path,
    sources: Mapping[str, bytes],
    args: CheckArgs = DEFAULT_CHECK_ARGS,
) -> Scope:
    static = Scope.static(repo, sources, args.mypy_paths())
    return static.narrowed(ruff=checkers.ruff_files(), collect=checkers.test_modules())
