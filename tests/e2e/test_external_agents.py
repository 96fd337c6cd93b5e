"""aider (whole and diff formats), mini-swe-agent and Claude Code on the `demo` pack, each
installed as the adapter pins it, run headless in the sandbox through the gateway against a
serve-sim that speaks its dialect. `make agents-e2e` installs them and runs this module; the
rest of the suite skips it (the agents are 1.4 GB from PyPI and npm, and take minutes).

What must hold, per agent: the trial passes with a sim that does not err; every call is in
the ledger with tokens equal to the serve-sim's own counts, to the token; the agent's own
account sits beside it (Claude Code's, in the six kinds, equal to the ledger); a fault at
serve-sim ends the trial as an infra error of the fault's class.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from external_helpers import ARMBENCH, read_trial, run_config

from armbench.arms.external import ADAPTERS, AgentInstallError, installed
from armbench.core import TOKEN_KINDS

pytestmark = pytest.mark.slow

ARMS: dict[str, dict[str, Any]] = {
    "aider-whole": {"agent": "aider", "edit_format": "whole"},
    "aider-diff": {"agent": "aider", "edit_format": "diff"},
    "mini": {"agent": "mini-swe-agent"},
    "claude": {"agent": "claude-code"},
}


def _missing() -> list[str]:
    missing = []
    for name in ("aider", "mini-swe-agent", "claude-code"):
        adapter = ADAPTERS[name]
        try:
            installed(adapter, adapter.version)
        except AgentInstallError:
            missing.append(name)
    return missing


if os.environ.get("ARMBENCH_AGENT_TESTS") != "1":
    pytest.skip(
        "the real agents' tests run with `make agents-e2e` (ARMBENCH_AGENT_TESTS=1)",
        allow_module_level=True,
    )
if _missing():
    pytest.fail(f"not installed: {', '.join(_missing())} (`make agents` installs them)")


def _run(tmp: Path, arms: dict[str, dict[str, Any]], exit_code: int, **coder: Any) -> Path:
    external = {n: {"kind": "external", "model": "coder", **a} for n, a in arms.items()}
    return run_config(tmp, external, exit_code, timeout_s=1200, **coder)


def _trials(run: Path, arms: Iterable[str]) -> dict[str, Any]:
    return {arm: read_trial(run, arm) for arm in arms}


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("agents"), ARMS, 0)


@pytest.fixture(scope="module")
def passing(passing_run: Path) -> dict[str, Any]:
    return _trials(passing_run, ARMS)


@pytest.mark.parametrize("arm", list(ARMS))
def test_each_agent_passes_and_is_metered_to_the_token(passing: dict[str, Any], arm: str) -> None:
    trial, transcript, calls = passing[arm]
    assert trial["status"] == "pass", (transcript["agent"], transcript["gates"])
    assert transcript["agent"]["exit_code"] == 0
    assert calls and all(c["status"] == "ok" for c in calls)
    assert {(c["provider"], c["model"]) for c in calls} == {("sim", "coder")}
    ledger = {kind: sum(c[kind] for c in calls) for kind in TOKEN_KINDS}
    assert ledger == transcript["upstream_served"]


def test_each_agents_own_account_is_kept_beside_the_ledger(passing: dict[str, Any]) -> None:
    for arm in ARMS:
        _trial, transcript, calls = passing[arm]
        report = transcript["agent_report"]
        assert report is not None, arm
        assert report["ledger_calls"] == len(calls)
    claude = passing["claude"][1]["agent_report"]
    assert claude["difference"] == dict.fromkeys(TOKEN_KINDS, 0)  # its own count, exactly ours
    mini = passing["mini"]
    assert mini[1]["agent_report"]["calls"] == len(mini[2])
    sent = mini[1]["agent_report"]["tokens"]["prompt_tokens"]  # OpenAI's: cached ones included
    assert sent == sum(c["input"] + c["cache_read"] for c in mini[2])
    for arm in ("aider-whole", "aider-diff"):  # a `Tokens:` line per call in its history
        assert passing[arm][1]["agent_report"]["calls"] == len(passing[arm][2]), arm
    aider = passing["aider-whole"][1]["agent_report"]
    received = sum(c["output"] for c in passing["aider-whole"][2])
    assert abs(aider["tokens"]["received"] - received) <= max(50, received // 100)  # it rounds


def test_show_puts_each_agents_own_account_beside_the_ledger(passing_run: Path) -> None:
    shown = subprocess.run([*ARMBENCH, "show", str(passing_run)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.split("their own account", 1)[1].splitlines()
    claude = next(line for line in lines if line.strip().startswith("claude "))
    assert claude.split()[-1] == "+0"  # Claude Code's count, every kind, is the ledger's


def test_a_fault_at_serve_sim_ends_each_agents_trial_as_an_infra_error(tmp_path: Path) -> None:
    # mini-swe-agent retries a failed call ten times with backoff (minutes); told twice here.
    mini = {**ARMS["mini"], "env": {"MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT": "2"}}
    arms = {"aider-whole": ARMS["aider-whole"], "mini": mini, "claude": ARMS["claude"]}
    run = _run(tmp_path, arms, 0, faults=["status=400,error_type=invalid_request_error,times=0"])
    for arm, (trial, transcript, calls) in _trials(run, arms).items():
        assert trial["status"] == "infra_error", (arm, transcript["agent"])
        assert trial["infra_class"] == "harness", arm  # a 400 is a request armbench let through
        assert calls and all(c["error_class"] == "harness" for c in calls), arm
