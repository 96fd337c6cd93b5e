"""`armbench tasks make` on two real repositories it has never seen: humanize and itsdangerous.

For each project: downloads the pinned sdist (network: PyPI only), unpacks it and leaves every
file as it is (no patch: what armbench must be told is given as the project's check commands,
see PROJECTS), builds a virtualenv when the tests need a package armbench's own interpreter
lacks (both: freezegun; the checkers are pinned to armbench's versions), then runs
`armbench tasks make --count 1` and times it. It loads the pack with `load_pack` and prints the
kept tasks by kind, and what was dropped and why (from `make`'s report: a dropped candidate
leaves nothing in the pack).

    .venv/bin/python benchmarks/tasks_make_unseen.py [--seed 0] [--json OUT] [--keep DIR]

Exits 1 if a project lacks a kept task of some kind (breakage, move or implement).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from armbench.tasks import load_pack

KINDS = ("breakage", "move", "implement")
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    mypy: str
    ruff: str
    pytest: str
    env: tuple[str, ...]
    test_deps: tuple[str, ...] = ()
    """Packages the tests import beyond mypy, ruff and pytest (empty: armbench's interpreter)."""


PROJECTS = (
    Project(
        name="humanize",
        version="4.17.0",
        # test_benchmarks.py needs pytest-codspeed (a plugin, and plugin autoload is off).
        mypy="src/humanize tests --exclude=tests/test_benchmarks.py$",
        # _version.py is generated and has an unsorted __all__ (RUF022). (Its config's
        # `fix = true` is harmless: armbench's ruff runs always pass --no-fix.)
        ruff="src tests --extend-exclude=src/humanize/_version.py",
        # src too: its configuration runs the docstrings' examples (--doctest-modules).
        pytest="src tests --ignore=tests/test_benchmarks.py",
        env=("PYTHONPATH=${WORKDIR}/src",),
        test_deps=("freezegun==1.5.5", "python-dateutil==4.0.0"),
    ),
    Project(
        name="itsdangerous",
        version="2.2.0",
        # No paths: its configured `files` (src/itsdangerous). Its `python_version = "3.8"` is
        # below what mypy 2 supports, and mypy 2 finds one `# type: ignore` unused (timed.py).
        mypy="--python-version=3.11 --no-warn-unused-ignores",
        ruff="src tests",
        pytest="tests",
        env=("PYTHONPATH=${WORKDIR}/src",),
        test_deps=("freezegun==1.5.5", "python-dateutil==4.0.0"),
    ),
)
"""Each project's check commands as declared to armbench (the same commands pass by hand)."""

LINE = re.compile(r"^(kept|dropped) ((breakage|move|implement)-\d+): (.*)$")


def quiet(argv: list[str]) -> None:
    """Run a setup command (pip, venv), showing its output only if it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(argv)}")


def fetch(project: Project, into: Path) -> Path:
    into.mkdir(parents=True)
    quiet(
        [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
            *("-q", "-d", str(into), f"{project.name}=={project.version}"),
        ]
    )
    archive = next(into.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / archive.name.removesuffix(".tar.gz")


def interpreter(project: Project, root: Path) -> str:
    """armbench's own, or a virtualenv with the same checkers and the tests' dependencies."""
    if not project.test_deps:
        return sys.executable
    venv = root / f"venv-{project.name}"
    quiet([sys.executable, "-m", "venv", str(venv)])
    checkers = [f"{tool}=={version(tool)}" for tool in ("mypy", "ruff", "pytest")]
    quiet(
        [
            *(str(venv / "bin" / "python"), "-m", "pip", "install", "-q"),
            *("--disable-pip-version-check", *checkers, *project.test_deps),
        ]
    )
    return str(venv / "bin" / "python")


def make(project: Project, repo: Path, pack: Path, python: str, seed: int) -> dict[str, Any]:
    argv = [
        *(str(BIN / "armbench"), "tasks", "make", str(repo), "--out", str(pack)),
        *("--python", python, "--count", "1", "--seed", str(seed)),
        *("--mypy-args", project.mypy, "--ruff-args", project.ruff),
        *("--pytest-args", project.pytest),
        *(arg for value in project.env for arg in ("--env", value)),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    dropped = [
        {"kind": m.group(3), "id": m.group(2), "why": m.group(4)}
        for m in map(LINE.match, _unwrapped(result.stdout))
        if m and m.group(1) == "dropped"
    ]
    kept: dict[str, list[str]] = {kind: [] for kind in KINDS}
    if pack.is_dir():
        for task in load_pack(str(pack)).agentic_tasks:
            kept[task.id.rsplit("-", 1)[0]].append(f"{task.id}: {task.spec.title}")
    error = "" if result.returncode == 0 else result.stderr.strip()[-2000:]
    return {
        "project": f"{project.name}=={project.version}",
        "python": python,
        "flags": {
            "mypy_args": project.mypy,
            "ruff_args": project.ruff,
            "pytest_args": project.pytest,
            "env": list(project.env),
        },
        "exit_code": result.returncode,
        "wall_s": round(wall, 1),
        "kept": kept,
        "dropped": dropped,
        "error": error,
    }


def _unwrapped(stdout: str) -> list[str]:
    """make's report, one line per candidate: its console wraps at 160 columns when stdout is
    not a terminal (COLUMNS is not consulted), so a long reason continues on the next lines."""
    lines: list[str] = []
    for line in stdout.splitlines():
        if lines and not line.startswith(("kept ", "dropped ", "pack ")):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def show(report: dict[str, Any]) -> None:
    print(
        f"== {report['project']}: tasks make {report['wall_s']:.0f} s (exit {report['exit_code']}),"
        f" download and venv {report['setup_s']:.0f} s"
    )
    for kind in KINDS:
        tasks = report["kept"][kind]
        gone = [d for d in report["dropped"] if d["kind"] == kind]
        print(f"  {kind:9}  kept {len(tasks)}, dropped {len(gone)}")
        for title in tasks:
            print(f"      kept     {title}")
        for d in gone:
            why = d["why"] if len(d["why"]) <= 200 else d["why"][:200] + "..."
            print(f"      dropped  {d['id']}: {why}")
    if report["error"]:
        print(f"  error: {report['error'][:500]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="passed to tasks make")
    parser.add_argument("--json", type=Path, help="write the per-project reports here")
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it")
    args = parser.parse_args()
    reports = []
    with tempfile.TemporaryDirectory(prefix="unseen-make-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=args.keep is None)
        for project in PROJECTS:
            started = time.perf_counter()
            repo = fetch(project, root / f"sdist-{project.name}")
            python = interpreter(project, root)
            setup = time.perf_counter() - started
            report = make(project, repo, root / f"pack-{project.name}", python, args.seed)
            report["setup_s"] = round(setup, 1)
            show(report)
            reports.append(report)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    missing = [f"{r['project']}: {kind}" for r in reports for kind in KINDS if not r["kept"][kind]]
    total = sum(r["wall_s"] for r in reports)
    print(f"tasks make took {total:.0f} s in all; missing a kind: {', '.join(missing) or 'none'}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
