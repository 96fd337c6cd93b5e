"""An `external` arm end to end through the CLI, with the generic `command` adapter: a small
bash-tool agent (tests/e2e/agents/bash_agent.py) on the official SDK, run in the sandbox,
metered by the gateway, served by a serve-sim that plays the trial's task.

What must hold: the trial is judged like any other arm's (it passes with a sim that does not
err); its ledger holds every call, with tokens equal to what the serve-sim upstream counted,
to the token, priced as the configured model; a fault injected at serve-sim ends the trial as
an infra error of the fault's class, never as a fail; the arm shows in `show` and `report`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from external_helpers import ARMBENCH, COMMAND_ARM, read_trial, run_config

from armbench.core import TOKEN_KINDS

pytestmark = pytest.mark.slow


def test_a_command_agent_is_metered_to_the_token_and_judged_like_any_arm(
    tmp_path: Path,
) -> None:
    run = run_config(tmp_path, {"X": COMMAND_ARM, "S": {"kind": "solo", "model": "coder"}})
    trial, transcript, calls = read_trial(run, "X")
    assert trial["status"] == "pass", transcript["gates"]
    assert transcript["agent"]["exit_code"] == 0
    assert len(calls) >= 3 and all(c["status"] == "ok" for c in calls)
    assert {(c["provider"], c["model"]) for c in calls} == {("sim", "coder")}
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    ledger = {kind: sum(c[kind] for c in calls) for kind in TOKEN_KINDS}
    assert ledger == transcript["upstream_served"]  # the gateway's count is the server's
    assert ledger["cache_read"] > 0  # the conversation grows: its prefix is read from cache
    shown = subprocess.run([*ARMBENCH, "show", str(run)], capture_output=True, text=True)
    assert shown.returncode == 0
    assert "external" in shown.stdout and " X " in shown.stdout
    markdown = tmp_path / "report.md"
    report = subprocess.run(
        [*ARMBENCH, "report", str(run), "--md", str(markdown)], capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| `X` ")]
    assert rows and "| 1/0/0/0 |" in rows[0]  # n; pass/fail/limit/infra


@pytest.mark.parametrize(
    ("fault", "infra_class", "exit_code"),
    # An auth failure would meet every later call too: it stops the run (exit 3).
    [("status=401,times=0", "auth", 3), ("status=500,times=0", "server_error", 0)],
)
def test_a_fault_at_the_upstream_ends_the_trial_as_an_infra_error_of_its_class(
    tmp_path: Path, fault: str, infra_class: str, exit_code: int
) -> None:
    run = run_config(tmp_path, {"X": COMMAND_ARM}, exit_code, faults=[fault])
    trial, transcript, calls = read_trial(run, "X")
    assert trial["status"] == "infra_error"
    assert trial["infra_class"] == infra_class
    assert transcript["agent"]["exit_code"] == 3
    assert calls and all(c["status"] == "error" and c["error_class"] == infra_class for c in calls)
    assert not transcript["gates"]  # an infra error is not judged
