"""The judge's pinned checkers: armbench's own metadata names the exact versions, and a
checker interpreter whose versions differ is refused, so verdicts cannot drift."""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path

from armbench.env import LOCAL, EnvironmentFactory

CHECKERS = ("mypy", "ruff", "pytest")


class ToolchainError(RuntimeError):
    """The checker interpreter does not carry the pinned checkers."""


def pinned_versions() -> dict[str, str]:
    """`{checker: version}` from armbench's `name==version` requirements."""
    try:
        reqs = requires("armbench") or []
    except PackageNotFoundError as exc:
        raise ToolchainError("armbench is not installed; run `make install`") from exc
    pins: dict[str, str] = {}
    for req in reqs:
        match = re.fullmatch(
            r"\s*([A-Za-z0-9_.-]+)\s*==\s*([A-Za-z0-9_.+-]+)\s*", req.split(";")[0]
        )
        if match and match.group(1).lower() in CHECKERS:
            pins[match.group(1).lower()] = match.group(2)
    return pins


_CHECKER_PROBE = (
    "import json, subprocess, sys\n"
    "out = {}\n"
    "for name, module in (('mypy', 'mypy.version'), ('pytest', 'pytest')):\n"
    "    try:\n"
    "        out[name] = __import__(module, fromlist=['_']).__version__\n"
    "    except Exception:\n"
    "        out[name] = 'missing'\n"
    "ruff = subprocess.run([sys.executable, '-m', 'ruff', '--version'],\n"
    "                      capture_output=True, text=True)\n"
    "words = ruff.stdout.split()\n"
    "out['ruff'] = words[-1] if ruff.returncode == 0 and words else 'missing'\n"
    "print(json.dumps(out))\n"
)
"""Reads the checkers' versions the way the judge reaches them: the modules `python -m mypy`
and `python -m pytest` import (not -I: from `cwd`, as the judge's runs resolve them) and the
binary `python -m ruff` runs, in one process instead of three `--version` runs (1.7 s of CPU
each run otherwise)."""


def installed_versions(
    python: str, cwd: Path, *, environments: EnvironmentFactory = LOCAL
) -> dict[str, str]:
    """The version of each checker as `python` runs it in `cwd` (`missing` when it cannot)."""
    env = environments(cwd)
    result = env.run([python, "-c", _CHECKER_PROBE], timeout_s=60, merge_stderr=False)
    try:
        found = json.loads(result.output.strip().splitlines()[-1]) if result.ok else {}
    except (json.JSONDecodeError, IndexError):
        found = {}
    if not isinstance(found, dict):
        found = {}
    return {checker: str(found.get(checker, "missing")) for checker in CHECKERS}


_PROBE = (
    "import importlib.metadata as m, json, sys\n"
    "out = {}\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        out[name] = m.version(name)\n"
    "    except m.PackageNotFoundError:\n"
    "        out[name] = 'missing'\n"
    "print(json.dumps(out))\n"
)


def package_versions(
    python: str, names: list[str], cwd: Path, *, environments: EnvironmentFactory = LOCAL
) -> dict[str, str]:
    """The installed version of each distribution in `names` as `python` reads its metadata
    (`missing` when absent): how a pack's locked toolchain is read back before it judges."""
    env = environments(cwd, path_prefix=[Path(python).parent])
    result = env.run([python, "-I", "-c", _PROBE, *names], timeout_s=120, merge_stderr=False)
    try:
        found = json.loads(result.output.strip().splitlines()[-1]) if result.ok else None
    except (json.JSONDecodeError, IndexError):
        found = None
    if not isinstance(found, dict):
        raise ToolchainError(
            f"{python} could not report its package versions (exit {result.exit_code}): "
            f"{(result.output + result.stderr).strip()[-400:]}"
        )
    return {str(k): str(v) for k, v in found.items()}


def verify_toolchain(
    python: str, cwd: Path, *, environments: EnvironmentFactory = LOCAL
) -> dict[str, str]:
    """The checker versions of `python`, or ToolchainError naming each mismatch and the fix."""
    pins = pinned_versions()
    unpinned = [c for c in CHECKERS if c not in pins]
    if unpinned:
        raise ToolchainError(
            f"armbench's metadata does not pin {', '.join(unpinned)} to an exact version "
            "(`name==version`), so verdicts could drift with whatever is installed; "
            "reinstall armbench (`make install`)"
        )
    found = installed_versions(python, cwd, environments=environments)
    wrong = [f"{c} {found[c]} (pinned {pins[c]})" for c in CHECKERS if found[c] != pins[c]]
    if wrong:
        fix = " ".join(f"{c}=={pins[c]}" for c in CHECKERS)
        raise ToolchainError(
            f"{python} has {', '.join(wrong)}; the judge needs its pinned checkers: "
            f"`{python} -m pip install {fix}`"
        )
    return found
