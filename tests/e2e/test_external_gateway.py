"""An external agent's calls held by armbench at the gateway: the trial's caps and the run's
budget admit each one before it is sent, and a routed arm's strategy picks each one's model
(the classifier's questions in the same ledger). The agent is the `command` adapter's small
bash-tool agent (tests/e2e/agents/bash_agent.py), served by a serve-sim playing the task."""

from __future__ import annotations

from pathlib import Path

import pytest
from external_helpers import COMMAND_ARM, read_trial, run_config

from armbench.core import TOKEN_KINDS

pytestmark = pytest.mark.slow


def test_the_trials_caps_hold_at_the_gateway(tmp_path: Path) -> None:
    arm = {**COMMAND_ARM, "limits": {"max_calls": 2}}
    run = run_config(tmp_path, {"X": arm})
    trial, transcript, calls = read_trial(run, "X")
    assert (trial["status"], trial["stop_reason"]) == ("limit", "max_calls")
    assert len(calls) == 2  # the third was refused before it was sent: not a call
    assert transcript["agent"]["exit_code"] == 3  # the agent saw its call refused (HTTP 403)


def test_the_runs_budget_holds_at_the_gateway(tmp_path: Path) -> None:
    # Each call of the agent may cost up to ~$0.26 (16,000 output tokens at $15/M, and its
    # prompt): a budget of $0.27 admits the first, then refuses the next, whose worst case no
    # longer fits beside what the first cost; what was spent stays within it.
    run = run_config(tmp_path, {"X": COMMAND_ARM}, budget=0.27)
    trial, _transcript, calls = read_trial(run, "X")
    assert (trial["status"], trial["stop_reason"]) == ("limit", "budget")
    assert calls
    rates = {"input": 3.0, "output": 15.0, "cache_write_5m": 3.75, "cache_write_1h": 6.0}
    rates["cache_read"] = 0.3
    spent = sum(c[k] * rate for c in calls for k, rate in rates.items()) / 1e6
    assert spent <= 0.27


def test_an_external_agents_calls_are_routed_at_the_gateway(tmp_path: Path) -> None:
    arm = {k: v for k, v in COMMAND_ARM.items() if k != "model"}
    arm["routing"] = {"local": "small", "cloud": "coder", "strategy": {"name": "cascade"}}
    run = run_config(tmp_path, {"R": arm}, others={"small": {"provider": "sim", "skill": 0.3}})
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


def test_a_classifier_routes_an_external_agent_with_its_calls_in_the_ledger(
    tmp_path: Path,
) -> None:
    arm = {k: v for k, v in COMMAND_ARM.items() if k != "model"}
    strategy = {"name": "classifier", "classifier": "judge"}
    arm["routing"] = {"local": "small", "cloud": "coder", "strategy": strategy}
    others = {"small": {"provider": "sim", "skill": 0.3}, "judge": {"provider": "sim"}}
    run = run_config(tmp_path, {"R": arm}, others=others)
    _trial_row, transcript, calls = read_trial(run, "R")
    agent = [c for c in calls if c["role"] == "solo"]
    asked = [c for c in calls if c["role"] == "router"]
    assert len(transcript["routing"]) == len(agent) == len(asked)  # one question per call
    assert {c["model"] for c in asked} == {"judge"}
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    starts = [c["started_at"] for c in calls]
    assert starts == sorted(starts)  # one ledger, in the order the calls started
    served = transcript["upstream_served"]  # the agent's calls only: the classifier is ours
    assert {k: sum(c[k] for c in agent) for k in TOKEN_KINDS} == served
