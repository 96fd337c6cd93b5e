"""Run mypy, ruff and pytest and read what they report in machine-readable form.

A gate's verdict comes from mypy's JSON lines, ruff's JSON and pytest's JUnit XML — never from
a printed "PASSED" or "Success" line, which an agent can fake with `echo` and a test can print
by accident. The same runners serve the judge and the breakage injector, so both count errors
the same way.
"""

from __future__ import annotations

import json
import shlex
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from armbench.checks.pytest_guard import GuardedRun
from armbench.env import CommandResult, Environment

Tool = Literal["mypy", "ruff", "pytest"]
TAIL_CHARS = 4000
COLLECTION = "collection"
"""The `code` of a pytest finding that is a collection error."""

JUDGED_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""Set for trials and the judge: pytest loads no plugin merely because it is installed beside
the pinned checkers (armbench's own dev plugins would otherwise join every judged test run);
a task that needs one names it in its gate's args (`-p name`), and the agent's checks then
behave as the judge's do."""


@dataclass(frozen=True)
class CheckArgs:
    """How a project runs its checkers: the arguments after `python -m mypy`, `python -m ruff
    check` and `python -m pytest` (armbench adds only its reporting flags). The defaults suit a
    project whose configuration names its files; a real one often needs them spelt out
    (typer's: `mypy typer`, `ruff check typer tests docs_src scripts`, `pytest -n auto`)."""

    mypy: tuple[str, ...] = ()
    ruff: tuple[str, ...] = (".",)
    pytest: tuple[str, ...] = ()

    def mypy_paths(self) -> tuple[str, ...]:
        """The files and folders named among mypy's arguments (none: the configured `files`)."""
        return _positional(self.mypy)


DEFAULT_CHECK_ARGS = CheckArgs()
"""Arguments for a project whose own configuration names what to check."""


def _positional(args: Sequence[str]) -> tuple[str, ...]:
    """The arguments that are not options (a crude reading, enough for paths after flags that
    take no value)."""
    return tuple(a for a in args if not a.startswith("-"))


@dataclass(frozen=True)
class Finding:
    """One error a checker reported, located in the workspace."""

    path: str
    """Posix path relative to the workspace root ("" when the checker gave none)."""
    line: int
    code: str
    """mypy error code, ruff rule, or for pytest `failed`, `errored` or `collection`."""
    message: str


@dataclass(frozen=True)
class CheckReport:
    """One checker run: its exit, what it found, and whether its report could be read."""

    tool: Tool
    command: str
    exit_code: int | None
    parsed: bool
    """False when the machine-readable report was missing or unreadable (a crash, a timeout)."""
    findings: tuple[Finding, ...]
    counts: dict[str, int]
    duration_s: float
    timed_out: bool
    output_tail: str
    problem: str = ""
    """Why the report could not be trusted, when it could not."""
    min_passed: int = field(default=1, repr=False)
    tests: Mapping[str, str] = field(default_factory=dict, repr=False)
    """pytest: each test's node id → passed, failed, error or skipped, as the guard saw it."""
    deselected: tuple[str, ...] = field(default=(), repr=False)
    """pytest: node ids the run deselected (`-k`, `--deselect`, a plugin)."""

    @property
    def passed(self) -> bool:
        if not self.parsed or self.timed_out or self.exit_code != 0:
            return False
        if self.tool == "pytest":
            c = self.counts
            bad = c["failed"] + c["errored"] + c["collection_errors"]
            return bad == 0 and c["passed"] >= self.min_passed
        return self.counts["errors"] == 0


def _tail(result: CommandResult) -> str:
    text = result.output + (("\n" + result.stderr) if result.stderr else "")
    return text[-TAIL_CHARS:]


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(root)
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def run_mypy(
    env: Environment,
    *,
    python: str,
    args: Sequence[str] = (),
    cache_dir: Path,
    timeout_s: float = 300,
) -> CheckReport:
    """`python -m mypy -O json` with the project's own configuration (files, strictness)."""
    argv = [python, "-m", "mypy", "-O", "json", "--cache-dir", str(cache_dir), *args]
    result = env.run(argv, timeout_s=timeout_s, merge_stderr=False, output_cap=10_000_000)
    findings: list[Finding] = []
    unreadable = 0
    for line in result.output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            unreadable += 1
            continue
        if item.get("severity") != "error":
            continue
        findings.append(
            Finding(
                path=_relative(str(item.get("file", "")), env.workdir),
                line=int(item.get("line") or 0),
                code=str(item.get("code") or "misc"),
                message=str(item.get("message", "")),
            )
        )
    # Exit 0: clean; 1: type errors; anything else (2: crash, bad usage): no trustworthy report.
    problem = ""
    if result.timed_out:
        problem = "mypy timed out"
    elif result.exit_code not in (0, 1):
        problem = f"mypy exited {result.exit_code} (crash or bad configuration)"
    elif result.exit_code == 1 and not findings:
        problem = "mypy exited 1 but reported no error in its JSON output"
    elif unreadable:
        problem = f"{unreadable} unreadable JSON lines in mypy's output"
    return CheckReport(
        tool="mypy",
        command=shlex.join(argv),
        exit_code=result.exit_code,
        parsed=not problem,
        findings=tuple(findings),
        counts={"errors": len(findings)},
        duration_s=result.duration_s,
        timed_out=result.timed_out,
        output_tail=_tail(result),
        problem=problem,
    )


def run_ruff(
    env: Environment,
    *,
    python: str,
    args: Sequence[str] = (".",),
    timeout_s: float = 120,
) -> CheckReport:
    """`python -m ruff check --output-format json` with the project's own rule selection, and
    never its `fix = true`: a checker must not change what it judges."""
    argv = [python, "-m", "ruff", "check", "--output-format", "json", "--no-cache", "--no-fix"]
    argv += args
    result = env.run(argv, timeout_s=timeout_s, merge_stderr=False, output_cap=50_000_000)
    findings: list[Finding] = []
    problem = ""
    try:
        items = json.loads(result.output) if result.output.strip() else None
        if not isinstance(items, list):
            raise ValueError("not a JSON list")
        for item in items:
            location = item.get("location") or {}
            findings.append(
                Finding(
                    path=_relative(str(item.get("filename", "")), env.workdir),
                    line=int(location.get("row") or 0),
                    code=str(item.get("code") or "syntax"),
                    message=str(item.get("message", "")),
                )
            )
    except (ValueError, AttributeError) as exc:
        problem = f"ruff's JSON report is unreadable: {exc}"
    if result.timed_out:
        problem = "ruff timed out"
    elif result.exit_code not in (0, 1):
        problem = f"ruff exited {result.exit_code} (crash or bad configuration)"
    return CheckReport(
        tool="ruff",
        command=shlex.join(argv),
        exit_code=result.exit_code,
        parsed=not problem,
        findings=tuple(findings),
        counts={"errors": len(findings)},
        duration_s=result.duration_s,
        timed_out=result.timed_out,
        output_tail=_tail(result),
        problem=problem,
    )


def _module_path(dotted: str, root: Path) -> str:
    """Best-effort file for a JUnit classname such as `tests.test_money.TestParse`."""
    if not dotted:
        return ""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = Path(*parts[:end]).with_suffix(".py")
        if (root / candidate).is_file():
            return candidate.as_posix()
    return "/".join(parts) + ".py" if parts and parts[0] else ""


def parse_junit(xml_text: str, root: Path) -> tuple[dict[str, int], list[Finding]]:
    """Counts and findings from pytest's JUnit XML; each test counts once.

    pytest writes a test that fails and then errors in teardown as two <testcase> elements with
    the same name; they are merged, and the test counts as failed. A collection error is a
    testcase whose <error> says "collection failure".
    """
    tree = ET.fromstring(xml_text)
    cases: dict[tuple[str, str], list[ET.Element]] = {}
    for case in tree.iter("testcase"):
        cases.setdefault((case.get("classname", ""), case.get("name", "")), []).append(case)
    counts = dict.fromkeys(("passed", "failed", "errored", "skipped", "collection_errors"), 0)
    findings: list[Finding] = []
    for (classname, name), elements in cases.items():
        failures = [f for e in elements for f in e.findall("failure")]
        errors = [f for e in elements for f in e.findall("error")]
        collection = [e for e in errors if e.get("message") == "collection failure"]
        if collection:
            counts["collection_errors"] += 1
            code, message, path = COLLECTION, collection[0].text or "", _module_path(name, root)
        elif failures:
            counts["failed"] += 1
            code, message = "failed", failures[0].get("message", "")
            path = _module_path(classname, root)
        elif errors:
            counts["errored"] += 1
            code, message = "errored", errors[0].get("message", "")
            path = _module_path(classname, root)
        elif any(e.find("skipped") is not None for e in elements):
            counts["skipped"] += 1
            continue
        else:
            counts["passed"] += 1
            continue
        line = int(elements[0].get("line") or 0)
        findings.append(Finding(path=path, line=line, code=code, message=f"{name}: {message}"))
    return counts, findings


def run_pytest(
    env: Environment,
    *,
    python: str,
    args: Sequence[str] = (),
    min_passed: int = 1,
    timeout_s: float = 600,
    test_timeout_s: float | None = None,
    report_dir: Path | None = None,
) -> CheckReport:
    """`python -m pytest --junitxml`, guarded: collection errors do not stop the other modules
    running, and the verdict holds only if armbench's guard (armbench.checks.pytest_guard) saw
    the session through and agrees with the JUnit report. `timeout_s` bounds the whole run,
    `test_timeout_s` each test (a hung test then fails alone, named).

    The reports are written in `report_dir`, a folder `env` lets commands write and the harness
    read (a sandbox's scratch); a fresh temporary folder when None (plain processes only)."""
    with tempfile.TemporaryDirectory(prefix="armbench-junit-", dir=report_dir) as tmp:
        report = Path(tmp) / "junit.xml"
        guard = GuardedRun.install(Path(tmp), test_timeout_s=test_timeout_s)
        argv = [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *guard.args,
            "--continue-on-collection-errors",
            f"--junitxml={report}",
            *args,
        ]
        result = env.run(argv, timeout_s=timeout_s, extra_env=guard.environ_over(env.environ))
        xml_text = report.read_text(encoding="utf-8") if report.is_file() else ""
        seen = guard.read()
    counts = dict.fromkeys(("passed", "failed", "errored", "skipped", "collection_errors"), 0)
    findings: list[Finding] = []
    problem = ""
    if result.timed_out:
        problem = "pytest timed out"
    elif not xml_text:
        problem = f"pytest wrote no JUnit report (exit {result.exit_code})"
    else:
        try:
            counts, findings = parse_junit(xml_text, env.workdir)
        except ET.ParseError as exc:
            problem = f"pytest's JUnit report is unreadable: {exc}"
    # 0 all passed, 1 some failed, 2 interrupted / collection errors, 5 nothing collected.
    if not problem and result.exit_code not in (0, 1, 2, 5):
        problem = f"pytest exited {result.exit_code} (internal error or bad usage)"
    if not problem:
        problem = seen.problem(counts)
    return CheckReport(
        tool="pytest",
        command=shlex.join(argv),
        exit_code=result.exit_code,
        parsed=not problem,
        findings=tuple(findings),
        counts=counts,
        duration_s=result.duration_s,
        timed_out=result.timed_out,
        output_tail=_tail(result),
        problem=problem,
        min_passed=min_passed,
        tests=dict(seen.outcomes),
        deselected=seen.deselected,
    )
