"""Reading what armbench's pytest guard saw, and holding the JUnit report to it.

The guard (`guard/armbench_pytest_guard.py`, loaded with `-p` before any code under test) writes
each test's outcome to a report of its own, lines carrying a nonce chosen here. A pytest run is
trusted only if the guard loaded, saw the session finish, found nothing patched, and agrees with
the JUnit report on what passed and failed. Each way of failing that is a rule with a name, so
a gate's record says which one was broken, and by which file when the guard could tell.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

GUARD_MODULE = "armbench_pytest_guard"
GUARD_SOURCE = Path(__file__).parent / "guard" / f"{GUARD_MODULE}.py"
TIMEOUT_MODULE = "armbench_pytest_timeout"
TIMEOUT_SOURCE = GUARD_SOURCE.with_name(f"{TIMEOUT_MODULE}.py")


@dataclass(frozen=True)
class GuardFinding:
    """One thing the guard caught: the rule broken, the workspace file that broke it ("" when
    it could not tell) and what was touched."""

    rule: str
    file: str
    detail: str

    def __str__(self) -> str:
        where = f" by {self.file}" if self.file else ""
        return f"rule {self.rule}{where}: {self.detail}"


@dataclass(frozen=True)
class GuardedRun:
    """Where one guarded pytest run reports: the plugin's folder, the report, the nonce."""

    folder: Path
    report: Path
    nonce: str
    test_timeout_s: float | None = None
    """Seconds each test may run (armbench_pytest_timeout); None: no limit per test."""

    @classmethod
    def install(cls, scratch: Path, *, test_timeout_s: float | None = None) -> GuardedRun:
        """Copy the plugins into a new folder under `scratch` (a folder the command may read)."""
        folder = scratch / f"guard-{secrets.token_hex(4)}"
        folder.mkdir(parents=True)
        for source in (GUARD_SOURCE, TIMEOUT_SOURCE):
            shutil.copyfile(source, folder / source.name)
        report, nonce = folder / "report.jsonl", secrets.token_hex(16)
        return cls(folder=folder, report=report, nonce=nonce, test_timeout_s=test_timeout_s)

    @property
    def args(self) -> tuple[str, ...]:
        timeout = ("-p", TIMEOUT_MODULE) if self.test_timeout_s is not None else ()
        return ("-p", GUARD_MODULE, *timeout)

    @property
    def environ(self) -> dict[str, str]:
        timeout = (
            {"ARMBENCH_TEST_TIMEOUT_S": f"{self.test_timeout_s:g}"}
            if self.test_timeout_s is not None
            else {}
        )
        return {
            "PYTHONPATH": str(self.folder),
            "ARMBENCH_GUARD_REPORT": str(self.report),
            "ARMBENCH_GUARD_NONCE": self.nonce,
            **timeout,
        }

    def environ_over(self, base: Mapping[str, str]) -> dict[str, str]:
        """`environ` for a command whose environment is `base`: the plugin's folder goes in
        front of the PYTHONPATH the project's tests already need (never in place of it)."""
        env = self.environ
        if base.get("PYTHONPATH"):
            env["PYTHONPATH"] += os.pathsep + base["PYTHONPATH"]
        return env

    def read(self) -> GuardReport:
        lines = (
            self.report.read_text(encoding="utf-8").splitlines() if self.report.is_file() else []
        )
        return GuardReport.parse(lines, self.nonce)


@dataclass(frozen=True)
class GuardReport:
    """What the guard recorded of one pytest session."""

    started: bool
    finished: bool
    outcomes: Mapping[str, str]
    """Test node id → passed, failed, error or skipped (xfail counts as skipped)."""
    deselected: tuple[str, ...]
    collect_errors: tuple[str, ...]
    findings: tuple[GuardFinding, ...]

    @classmethod
    def parse(cls, lines: list[str], nonce: str) -> GuardReport:
        started = finished = False
        phases: dict[str, list[tuple[str, str]]] = {}
        deselected: list[str] = []
        collect_errors: list[str] = []
        findings: list[GuardFinding] = []
        for line in lines:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(item, dict) or item.get("nonce") != nonce:
                continue  # not written by this session's guard
            event = item.get("event")
            if event == "started":
                started = True
            elif event == "report":
                phase = (str(item.get("when")), str(item.get("outcome")))
                phases.setdefault(str(item.get("nodeid")), []).append(phase)
            elif event == "deselected":
                deselected += [str(n) for n in item.get("nodeids", [])]
            elif event == "collect_error":
                collect_errors.append(str(item.get("nodeid")))
            elif event == "finished":
                finished = True
                findings += [
                    GuardFinding(str(f.get("rule")), str(f.get("file")), str(f.get("detail")))
                    for f in item.get("findings", [])
                ]
        return cls(
            started=started,
            finished=finished,
            outcomes={node: _outcome(p) for node, p in phases.items()},
            deselected=tuple(deselected),
            collect_errors=tuple(collect_errors),
            findings=tuple(findings),
        )

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)

    def problem(self, junit_counts: Mapping[str, int]) -> str:
        """Why this run's verdict cannot be trusted ("" when it can)."""
        if not self.started:
            return "rule guard_missing: pytest ran without armbench's guard (it did not load)"
        if not self.finished:
            return (
                "rule session_unfinished: pytest ended before its session finished "
                "(os._exit, a crash or a kill in the code under test)"
            )
        if self.findings:
            return "; ".join(str(f) for f in self.findings[:10])
        seen = {"passed": self.count("passed"), "failed": self.count("failed")}
        claimed = {"passed": junit_counts.get("passed", 0), "failed": junit_counts.get("failed", 0)}
        if seen != claimed:
            return (
                f"rule report_forged: the JUnit report says {claimed['passed']} passed, "
                f"{claimed['failed']} failed; the guard saw {seen['passed']} passed, "
                f"{seen['failed']} failed"
            )
        return ""


def _outcome(phases: list[tuple[str, str]]) -> str:
    """One test's outcome from its setup, call and teardown reports."""
    if any(o == "failed" for w, o in phases if w == "call"):
        return "failed"
    if any(o == "failed" for _, o in phases):
        return "error"
    if any(o == "skipped" for _, o in phases):
        return "skipped"
    if any(w == "call" and o == "passed" for w, o in phases):
        return "passed"
    return "error"  # set up but never called
