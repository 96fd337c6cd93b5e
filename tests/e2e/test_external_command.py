"""An `external` arm end to end through the CLI, with the generic `command` adapter: a small
bash-tool agent (tests/e2e/agents/bash_agent.py) on the official SDK, run in the sandbox,
metered by the gateway, served by a serve-sim that plays the trial's task.

What must hold: the trial is judged like any other arm's (it passes with a sim that does not
err); its ledger holds every call, with tokens equal to what the serve-sim upstream counted,
to the token, priced as the configured model; a fault injected at serve-sim ends the trial as
an infra error of the fault's class, never as a fail; the arm shows in `show` and `report`.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.core import TOKEN_KINDS

pytestmark = pytest.mark.slow

AGENT = (Path(__file__).parent / "agents" / "bash_agent.py").read_text()
ARMBENCH = [sys.executable, "-m", "armbench.cli"]
PRICES = '[models."sim/coder"]\ninput = 3.0\noutput = 15.0\ncache_write_5m = 3.75\n'
PRICES += "cache_write_1h = 6.0\ncache_read = 0.3\n"


def _run(
    tmp: Path,
    arms: dict[str, Any],
    exit_code: int = 0,
    budget: float | None = None,
    others: dict[str, Any] | None = None,
    **coder: Any,
) -> Path:
    prices = PRICES + "".join(f'[models."sim/{name}"]\nlocal = true\n' for name in others or {})
    (tmp / "prices.toml").write_text(prices)
    config = {
        "name": "external",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 1,
        "rate_card": "prices.toml",
        "models": {"coder": {"provider": "sim", "skill": 1.0, **coder}, **(others or {})},
        "arms": arms,
        **({"budget_usd": budget} if budget is not None else {}),
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [*ARMBENCH, "run", str(path), "--out", str(tmp / "runs"), "--max-infra-errors", "9"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == exit_code, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def _trial(run: Path, arm: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    db = sqlite3.connect(run / "armbench.sqlite")
    db.row_factory = sqlite3.Row
    trial = dict(db.execute("SELECT * FROM trials WHERE arm = ?", (arm,)).fetchone())
    calls = [
        dict(r) for r in db.execute("SELECT * FROM calls WHERE trial_id = ?", (trial["trial_id"],))
    ]
    transcript = json.loads((run / "transcripts" / f"{trial['trial_id']}.json").read_text())
    return trial, transcript, calls


COMMAND_ARM = {"kind": "external", "agent": "command", "model": "coder"}
COMMAND_ARM["command"] = f"python - <<'AGENT'\n{AGENT}\nAGENT\n"


def test_a_command_agent_is_metered_to_the_token_and_judged_like_any_arm(
    tmp_path: Path,
) -> None:
    run = _run(tmp_path, {"X": COMMAND_ARM, "S": {"kind": "solo", "model": "coder"}})
    trial, transcript, calls = _trial(run, "X")
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
    run = _run(tmp_path, {"X": COMMAND_ARM}, exit_code, faults=[fault])
    trial, transcript, calls = _trial(run, "X")
    assert trial["status"] == "infra_error"
    assert trial["infra_class"] == infra_class
    assert transcript["agent"]["exit_code"] == 3
    assert calls and all(c["status"] == "error" and c["error_class"] == infra_class for c in calls)
    assert not transcript["gates"]  # an infra error is not judged


def test_the_trials_caps_hold_at_the_gateway(tmp_path: Path) -> None:
    arm = {**COMMAND_ARM, "limits": {"max_calls": 2}}
    run = _run(tmp_path, {"X": arm})
    trial, transcript, calls = _trial(run, "X")
    assert (trial["status"], trial["stop_reason"]) == ("limit", "max_calls")
    assert len(calls) == 2  # the third was refused before it was sent: not a call
    assert transcript["agent"]["exit_code"] == 3  # the agent saw its call refused (HTTP 403)


def test_the_runs_budget_holds_at_the_gateway(tmp_path: Path) -> None:
    # Each call of the agent may cost up to ~$0.26 (16,000 output tokens at $15/M, and its
    # prompt): a budget of $0.27 admits the first, then refuses the next, whose worst case no
    # longer fits beside what the first cost; what was spent stays within it.
    run = _run(tmp_path, {"X": COMMAND_ARM}, budget=0.27)
    trial, _transcript, calls = _trial(run, "X")
    assert (trial["status"], trial["stop_reason"]) == ("limit", "budget")
    assert calls
    rates = {"input": 3.0, "output": 15.0, "cache_write_5m": 3.75, "cache_write_1h": 6.0}
    rates["cache_read"] = 0.3
    spent = sum(c[k] * rate for c in calls for k, rate in rates.items()) / 1e6
    assert spent <= 0.27


def test_an_external_agents_calls_are_routed_at_the_gateway(tmp_path: Path) -> None:
    arm = {k: v for k, v in COMMAND_ARM.items() if k != "model"}
    arm["routing"] = {"local": "small", "cloud": "coder", "strategy": {"name": "cascade"}}
    run = _run(tmp_path, {"R": arm}, others={"small": {"provider": "sim", "skill": 0.3}})
    trial, transcript, calls = _trial(run, "R")
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
    run = _run(tmp_path, {"R": arm}, others=others)
    _trial_row, transcript, calls = _trial(run, "R")
    agent = [c for c in calls if c["role"] == "solo"]
    asked = [c for c in calls if c["role"] == "router"]
    assert len(transcript["routing"]) == len(agent) == len(asked)  # one question per call
    assert {c["model"] for c in asked} == {"judge"}
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    starts = [c["started_at"] for c in calls]
    assert starts == sorted(starts)  # one ledger, in the order the calls started
    served = transcript["upstream_served"]  # the agent's calls only: the classifier is ours
    assert {k: sum(c[k] for c in agent) for k in TOKEN_KINDS} == served
