"""What holds an external agent's calls across a whole run, at the gateway: the run's budget
admits each call before it is sent, and an auth failure, which every later call would meet
too, stops the run. The agent is the `command` adapter's small bash-tool agent
(tests/e2e/agents/bash_agent.py), served by a serve-sim playing the task."""

from __future__ import annotations

from pathlib import Path

import pytest
from external_helpers import COMMAND_ARM, read_trial, run_config

pytestmark = pytest.mark.slow


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


def test_an_auth_failure_at_the_upstream_is_an_infra_error_that_stops_the_run(
    tmp_path: Path,
) -> None:
    run = run_config(tmp_path, {"X": COMMAND_ARM}, 3, faults=["status=401,times=0"])
    trial, transcript, calls = read_trial(run, "X")
    assert (trial["status"], trial["infra_class"]) == ("infra_error", "auth")
    assert transcript["agent"]["exit_code"] == 3
    assert calls and all(c["status"] == "error" and c["error_class"] == "auth" for c in calls)
    assert not transcript["gates"]  # an infra error is not judged
