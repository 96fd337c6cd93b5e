"""The injector's contract on a real repository it has never seen: iniconfig 2.3.1 from PyPI.

Downloads the sdist (network: PyPI only), makes it runnable by the contract's bare commands
(`python -m mypy` needs `files`; its tests must import the source tree, not the installed
copy), checks it is green, then for each seed: injects 3 mypy, 2 ruff and 1 collection error,
confirms the counts with the real checkers, injects again on a second copy (byte-identical?),
and restores (original bytes?). Prints a line per seed and the timing.

    .venv/bin/python benchmarks/inject_unseen_repo.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from armbench.checks import run_mypy, run_pytest, run_ruff
from armbench.env import LOCAL
from armbench.tasks.inject import InjectionError, InjectionRequest, inject, restore

PACKAGE = "iniconfig==2.3.1"


def fetch(into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            "-d",
            str(into),
            PACKAGE,
        ],
        check=True,
    )
    archive = next(into.glob("iniconfig-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    repo = into / archive.name.removesuffix(".tar.gz")
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace(
        "[tool.mypy]\nstrict = true\n",
        '[tool.mypy]\nstrict = true\nfiles = ["src", "testing"]\nmypy_path = "src"\n',
        1,
    )
    text = text.replace(
        'ini_options.testpaths = "testing"',
        'ini_options.testpaths = "testing"\nini_options.pythonpath = ["src"]',
        1,
    )
    pyproject.write_text(text)
    subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--fix", "-q", str(repo)], check=False, cwd=repo
    )
    return repo


def counts(repo: Path, cache: Path) -> tuple[int, int, int]:
    env = LOCAL(repo)
    mypy = run_mypy(env, python=sys.executable, cache_dir=cache)
    ruff = run_ruff(env, python=sys.executable)
    pytest = run_pytest(env, python=sys.executable)
    return mypy.counts["errors"], ruff.counts["errors"], pytest.counts["collection_errors"]


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    stack = [cmp]
    while stack:
        c = stack.pop()
        if c.left_only or c.right_only or c.diff_files:
            return False
        stack.extend(c.subdirs.values())
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pristine = fetch(root / "download")
        assert counts(pristine, root / "cache0") == (0, 0, 0), "iniconfig is not green as prepared"
        times, ok = [], 0
        for seed in range(args.seeds):
            one, two = root / f"s{seed}a", root / f"s{seed}b"
            shutil.copytree(pristine, one)
            shutil.copytree(pristine, two)
            request = InjectionRequest(mypy=3, ruff=2, collect=1, seed=seed)
            started = time.perf_counter()
            try:
                manifest = inject(one, request)
            except InjectionError as exc:
                untouched = same_tree(one, pristine)
                print(f"seed {seed}: refused ({str(exc)[:120]}...); untouched: {untouched}")
                continue
            times.append(time.perf_counter() - started)
            inject(two, request)
            found = counts(one, root / f"cache{seed}")
            identical = same_tree(one, two)
            restore(one, manifest)
            restored = same_tree(one, pristine)
            good = found == (3, 2, 1) and identical and restored
            ok += good
            sites = ", ".join(f"{m.operator}@{m.path}:{m.line}" for m in manifest.mutations)
            print(
                f"seed {seed}: counts {found} identical={identical} restored={restored}  [{sites}]"
            )
        median = statistics.median(times) if times else float("nan")
        print(f"{ok}/{args.seeds} seeds met the contract; inject took median {median:.1f} s")
        return 0 if ok == args.seeds else 1


if __name__ == "__main__":
    raise SystemExit(main())
