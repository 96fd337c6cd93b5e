"""`external` arms end to end through the CLI, in one run: the generic `command` adapter's
small bash-tool agent (tests/e2e/agents/bash_agent.py) on the official SDK, run in the sandbox,
metered by the gateway, served by serve-sim playing the trial's task. Six arms share the run
(and so its preparation and its pytest worker): a plain one, a `solo` arm beside it, one with a
trial cap, one whose model fails, and two routed ones.

What must hold: the trial is judged like any other arm's (it passes with a sim that does not
err); its ledger holds every call, with tokens equal to what the serve-sim upstream counted,
to the token, priced as the configured model; the trial's caps hold at the gateway; a fault
injected at serve-sim ends the trial as an infra error of the fault's class, never as a fail;
a routed arm's strategy picks each call's model (the classifier's questions in the same
ledger); the arm shows in `show` and `report`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from external_helpers import ARMBENCH, COMMAND_ARM, read_trial, run_config

from armbench.core import TOKEN_KINDS

pytestmark = pytest.mark.slow

AGENT = {k: v for k, v in COMMAND_ARM.items() if k != "model"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cascade = {"local": "small", "cloud": "coder", "strategy": {"name": "cascade"}}
    classifier = {**cascade, "strategy": {"name": "classifier", "classifier": "judge"}}
    arms = {
        "X": COMMAND_ARM,
        "S": {"kind": "solo", "model": "coder"},
        "CAP": {**COMMAND_ARM, "limits": {"max_calls": 2}},
        "F": {**AGENT, "model": "failing"},
        "R": {**AGENT, "routing": cascade},
        "RC": {**AGENT, "routing": classifier},
    }
    others = {
        "small": {"provider": "sim", "skill": 0.3},
        "judge": {"provider": "sim"},
        "failing": {"provider": "sim", "faults": ["status=500,times=0"]},
    }
    return run_config(tmp_path_factory.mktemp("external"), arms, others=others, concurrency=3)


def test_a_command_agent_is_metered_to_the_token_and_judged_like_any_arm(run: Path) -> None:
    trial, transcript, calls = read_trial(run, "X")
    assert trial["status"] == "pass", transcript["gates"]
    assert transcript["agent"]["exit_code"] == 0
    assert len(calls) >= 3 and all(c["status"] == "ok" for c in calls)
    assert {(c["provider"], c["model"]) for c in calls} == {("sim", "coder")}
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    ledger = {kind: sum(c[kind] for c in calls) for kind in TOKEN_KINDS}
    assert ledger == transcript["upstream_served"]  # the gateway's count is the server's
    assert ledger["cache_read"] > 0  # the conversation grows: its prefix is read from cache


def test_the_external_arm_shows_in_show_and_report_beside_the_others(
    run: Path, tmp_path: Path
) -> None:
    shown = subprocess.run([*ARMBENCH, "show", str(run)], capture_output=True, text=True)
    assert shown.returncode == 0
    assert "external" in shown.stdout and " X " in shown.stdout and " S " in shown.stdout
    markdown = tmp_path / "report.md"
    report = subprocess.run(
        [*ARMBENCH, "report", str(run), "--md", str(markdown)], capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| `X` ")]
    assert rows and "| 1/0/0/0 |" in rows[0]  # n; pass/fail/limit/infra


def test_the_trials_caps_hold_at_the_gateway(run: Path) -> None:
    trial, transcript, calls = read_trial(run, "CAP")
    assert (trial["status"], trial["stop_reason"]) == ("limit", "max_calls")
    assert len(calls) == 2  # the third was refused before it was sent: not a call
    assert transcript["agent"]["exit_code"] == 3  # the agent saw its call refused (HTTP 403)


def test_a_fault_at_the_upstream_ends_the_trial_as_an_infra_error_of_its_class(run: Path) -> None:
    trial, transcript, calls = read_trial(run, "F")
    assert trial["status"] == "infra_error"
    assert trial["infra_class"] == "server_error"
    assert transcript["agent"]["exit_code"] == 3
    assert calls and all(
        c["status"] == "error" and c["error_class"] == "server_error" for c in calls
    )
    assert not transcript["gates"]  # an infra error is not judged


def test_an_external_agents_calls_are_routed_at_the_gateway(run: Path) -> None:
    trial, transcript, calls = read_trial(run, "R")
    assert trial["status"] in ("pass", "fail")  # judged, whichever model wrote the code
    decisions = transcript["routing"]
    assert len(decisions) == len(calls)  # one decision per call, in order
    assert [d["route"] for d in decisions] == [c["route"] for c in calls]
    assert decisions[0]["route"] == "local"  # the cascade starts local; the task's checks
    assert decisions[1]["route"] == "cloud"  # fail at first, read through the agent's dialect
    assert "1 failed check" in decisions[1]["reason"]
    for call in calls:  # each call billed as the model its route went to
        assert call["model"] == ("small" if call["route"] == "local" else "coder")
    ledger = {kind: sum(c[kind] for c in calls) for kind in TOKEN_KINDS}
    assert ledger == transcript["upstream_served"]
    assert transcript["strategy"]["name"] == "cascade"


def test_a_classifier_routes_an_external_agent_with_its_calls_in_the_ledger(run: Path) -> None:
    _trial_row, transcript, calls = read_trial(run, "RC")
    agent = [c for c in calls if c["role"] == "solo"]
    asked = [c for c in calls if c["role"] == "router"]
    assert len(transcript["routing"]) == len(agent) == len(asked)  # one question per call
    assert {c["model"] for c in asked} == {"judge"}
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    starts = [c["started_at"] for c in calls]
    assert starts == sorted(starts)  # one ledger, in the order the calls started
    served = transcript["upstream_served"]  # the agent's calls only: the classifier is ours
    assert {k: sum(c[k] for c in agent) for k in TOKEN_KINDS} == served
