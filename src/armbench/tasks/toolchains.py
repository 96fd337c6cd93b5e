"""Per-pack toolchains: the project's own checkers and test dependencies, pinned by hash.

A pack's `toolchain.lock` is a pip requirements file in which every package is pinned
(`name==version`) with its hashes. armbench builds it once into a virtualenv in the user
cache, keyed by the lock's bytes, the base interpreter's version and the machine, installing
with `--require-hashes --no-deps` (a file that is not the one locked, or a package the lock
forgot, stops the build). Every time the toolchain is used its installed versions are read back
and compared with the lock: a verdict never rests on checkers that drifted. A pack may instead
name an existing interpreter and the versions it must have (`toolchain.python` + `expect`).

The base interpreter is the one armbench runs on; the virtualenv does not see armbench or its
dependencies (`--without-pip` is not used: pip installs the lock into it).
"""

from __future__ import annotations

import hashlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.checks import ToolchainError, package_versions
from armbench.env import die_with_parent
from armbench.tasks.pack_spec import ToolchainSpec
from armbench.tasks.sources import cache_lock, cache_root

BUILD_TIMEOUT_S = 900
PROJECT_ROOT_VARIABLE = "ARMBENCH_PROJECT_ROOT"
PROJECT_PTH = (
    "import os, sys; "
    f"_root = os.environ.get({PROJECT_ROOT_VARIABLE!r}); "
    "_root and _root not in sys.path and sys.path.append(_root)\n"
)
"""The `.pth` line of an `editable_project` toolchain: the project's tree on `sys.path` of
every interpreter started with that variable set, whatever PYTHONPATH says."""
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(text: str) -> dict[str, str]:
    """`{canonical name: version}` of a hashed requirements file; ToolchainError for a line
    that pins nothing or an entry without a hash."""
    pins: dict[str, str] = {}
    logical = re.sub(r"\\\n", " ", text)
    for number, line in enumerate(logical.splitlines(), start=1):
        content = line.split("#", 1)[0].strip() if not line.lstrip().startswith("--") else ""
        if not content:
            continue
        match = _PIN.match(content)
        if match is None:
            raise ToolchainError(f"lock entry {number} ({content[:60]!r}) is not `name==version`")
        if "--hash=sha256:" not in line:
            raise ToolchainError(f"lock entry {match.group(1)} has no --hash=sha256: pin")
        pins[canonical(match.group(1))] = match.group(2)
    if not pins:
        raise ToolchainError("the lock pins no package")
    return pins


@dataclass(frozen=True)
class Toolchain:
    """A toolchain ready to judge with: its interpreter and the versions read back from it."""

    python: str
    versions: dict[str, str]
    lock_sha256: str | None
    """sha256 of the lock it was built from (None for an existing interpreter)."""

    def record(self) -> dict[str, Any]:
        """What a run's manifest says about it."""
        return {"python": self.python, "lock_sha256": self.lock_sha256, "versions": self.versions}


_READY: dict[tuple[str, str], Toolchain] = {}


def toolchain_for(spec: ToolchainSpec, pack_folder: Path) -> Toolchain:
    """The toolchain `spec` describes, built if need be, its versions checked (memoized within
    the process once checked). ToolchainError naming the difference and the fix otherwise."""
    key = (str(pack_folder), spec.model_dump_json())
    if key not in _READY:
        _READY[key] = _build_or_check(spec, pack_folder)
    return _READY[key]


def _build_or_check(spec: ToolchainSpec, pack_folder: Path) -> Toolchain:
    if spec.python is not None:
        expected = {canonical(k): v for k, v in spec.expect.items()}
        return _checked(spec.python, expected, None, f"toolchain.python {spec.python}")
    assert spec.lock is not None
    lock = (pack_folder / spec.lock).resolve()
    try:
        data = lock.read_bytes()
    except OSError as exc:
        raise ToolchainError(f"toolchain.lock: cannot read {lock}: {exc.strerror}") from exc
    pins = lock_pins(data.decode("utf-8"))
    digest = hashlib.sha256(data).hexdigest()
    base = f"{sys.version_info.major}.{sys.version_info.minor}-{platform.machine()}"
    editable = "-editable" if spec.editable_project else ""
    root = cache_root() / "toolchains" / f"{digest[:16]}-py{base}{editable}"
    python = root / "bin" / "python"
    with cache_lock(root.with_name(root.name + ".lock")):
        if not (root / "built.txt").is_file():
            _build(root, lock, digest, spec.editable_project)
    return _checked(str(python), pins, digest, f"the toolchain built from {lock}")


def _build(root: Path, lock: Path, digest: str, editable_project: bool) -> None:
    """A virtualenv at `root` with exactly the lock installed; `built.txt` is written last, so
    a build that failed or was killed is redone from scratch."""
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    print(f"armbench: building the toolchain of {lock} into {root} (once)", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", str(root)],
        [
            *(str(root / "bin" / "python"), "-m", "pip", "install", "--quiet"),
            *("--require-hashes", "--no-deps", "--disable-pip-version-check", "-r", str(lock)),
        ],
    ]
    with tempfile.TemporaryDirectory(prefix="armbench-toolchain-") as tmp:
        for argv in steps:
            try:
                done = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    timeout=BUILD_TIMEOUT_S,
                    cwd=tmp,
                    preexec_fn=die_with_parent,  # a killed armbench leaves no pip behind
                )
            except subprocess.TimeoutExpired as exc:
                shutil.rmtree(root, ignore_errors=True)
                raise ToolchainError(f"building {root} took over {BUILD_TIMEOUT_S} s") from exc
            if done.returncode != 0:
                shutil.rmtree(root, ignore_errors=True)
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
                raise ToolchainError(
                    f"cannot build the toolchain of {lock}: `{' '.join(argv[2:5])} ...` exited "
                    f"{done.returncode}:\n{tail}\nA hash mismatch means a file differs from the "
                    "locked one; a missing package means the lock is incomplete."
                )
    if editable_project:
        (_site_packages(root) / "armbench_project.pth").write_text(PROJECT_PTH, encoding="utf-8")
    (root / "built.txt").write_text(f"{digest}\n", encoding="utf-8")


def _site_packages(root: Path) -> Path:
    found = sorted(root.glob("lib/python*/site-packages"))
    if len(found) != 1:
        raise ToolchainError(f"{root}: cannot tell its site-packages folder ({found})")
    return found[0]


def _checked(python: str, expected: dict[str, str], digest: str | None, what: str) -> Toolchain:
    if not Path(python).is_file():
        raise ToolchainError(f"{what}: no interpreter at {python}")
    with tempfile.TemporaryDirectory(prefix="armbench-probe-") as probe:
        found = package_versions(python, sorted(expected), Path(probe))
    wrong = [
        f"{name} {found.get(name, 'missing')} (pinned {version})"
        for name, version in sorted(expected.items())
        if found.get(name) != version
    ]
    if wrong:
        raise ToolchainError(
            f"{what} has {', '.join(wrong)}: the judge refuses checkers that differ from the "
            "pack's pins. Delete the toolchain folder to rebuild it, or fix the interpreter."
        )
    return Toolchain(python=python, versions=found, lock_sha256=digest)
