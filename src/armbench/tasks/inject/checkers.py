"""The three checkers, run through an armbench environment on a repository or its copy.

`Checkers` runs mypy and ruff side by side and then pytest's collection (the mypy cache
persisting across rounds), and lists the files ruff checks and the modules pytest collects;
`Reports` is one round of their reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from armbench.checks import (
    DEFAULT_CHECK_ARGS,
    CheckArgs,
    CheckReport,
    run_mypy,
    run_pytest,
    run_ruff,
)
from armbench.env import LOCAL, EnvironmentFactory


@dataclass(frozen=True)
class Reports:
    mypy: CheckReport
    ruff: CheckReport
    pytest: CheckReport

    def all(self) -> tuple[CheckReport, CheckReport, CheckReport]:
        return (self.mypy, self.ruff, self.pytest)


class Checkers:
    """The three checkers on the scratch copy, with the project's arguments (`args`); the mypy
    cache persists across rounds.

    A round runs mypy and ruff side by side, then pytest with `--collect-only`: collection
    errors are all a `collect` mutation makes, and collecting takes seconds where running a
    real project's suite takes minutes (typer's: two). The tests are not run at all: a failing
    test is not a counted error, and the task's own judge runs the suite."""

    def __init__(
        self,
        workdir: Path,
        python: str,
        cache_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        environments: EnvironmentFactory = LOCAL,
        args: CheckArgs = DEFAULT_CHECK_ARGS,
    ) -> None:
        # The scratch copy's parent holds the mypy cache, HOME and the JUnit reports; listing
        # a real repository (no cache) writes nothing anywhere.
        self.scratch = cache_dir.parent if cache_dir is not None else None
        home = self.scratch / "home" if self.scratch is not None else None
        if home is not None:
            home.mkdir(exist_ok=True)
        self.env = environments(
            workdir,
            home=home,
            path_prefix=[Path(python).parent],
            extra_env=extra_env,
            writable=[self.scratch] if self.scratch is not None else [],
        )
        self.python = python
        self.cache_dir = cache_dir
        self.args = args

    def fast(self) -> tuple[CheckReport, CheckReport]:
        """mypy and ruff, side by side: the cheap checkers, run first so a repository that is
        not green fails in seconds."""
        assert self.cache_dir is not None, "mypy needs a cache dir outside the repository"
        with ThreadPoolExecutor(max_workers=2) as pool:
            mypy = pool.submit(
                run_mypy,
                self.env,
                python=self.python,
                args=self.args.mypy,
                cache_dir=self.cache_dir,
            )
            ruff = pool.submit(run_ruff, self.env, python=self.python, args=self.args.ruff)
            return mypy.result(), ruff.result()

    def collect(self) -> CheckReport:
        """pytest `--collect-only`: the collection errors, without running a test."""
        return run_pytest(
            self.env,
            python=self.python,
            args=(*self.args.pytest, "--collect-only"),
            min_passed=0,
            report_dir=self.scratch,
        )

    def run(self) -> Reports:
        mypy, ruff = self.fast()
        return Reports(mypy, ruff, self.collect())

    def ruff_files(self) -> list[str]:
        """The files ruff checks under the project's configuration (excludes applied)."""
        argv = [self.python, "-m", "ruff", "check", "--show-files", "--no-cache", *self.args.ruff]
        result = self.env.run(argv, timeout_s=120, merge_stderr=False, output_cap=10_000_000)
        return self._relative(result.output.splitlines())

    def test_modules(self) -> list[str]:
        """The modules pytest collects tests from, under the project's configuration."""
        argv = [self.python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        argv += self.args.pytest
        result = self.env.run(argv, timeout_s=300, merge_stderr=False, output_cap=10_000_000)
        ids = [line.split("::", 1)[0] for line in result.output.splitlines() if "::" in line]
        return self._relative(ids)

    def _relative(self, paths: Iterable[str]) -> list[str]:
        root = self.env.workdir
        out: set[str] = set()
        for raw in paths:
            path = Path(raw.strip())
            absolute = path if path.is_absolute() else root / path
            if absolute.suffix == ".py" and absolute.is_file():
                try:
                    out.add(absolute.resolve().relative_to(root).as_posix())
                except ValueError:
                    continue
        return sorted(out)
