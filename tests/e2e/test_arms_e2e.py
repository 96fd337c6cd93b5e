"""Every arm kind in one run, end to end through the CLI, on simulated models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.analysis.records import load_run_records as load_run

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
ARMBENCH = [sys.executable, "-m", "armbench.cli"]


def routed(name: str, **strategy: object) -> dict[str, Any]:
    return {
        "kind": "routed",
        "local": "local",
        "cloud": "strong",
        "strategy": {"name": name, **strategy},
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("arms")
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(
        rate_card=str(EXAMPLES / "demo-prices.toml"),
        pack=["demo", "oneshot"],
        tasks=["feature", "csv-totals", "roman"],
        replicates=1,
        arms={
            "solo": {"kind": "solo", "model": "strong"},
            "orch": {
                "kind": "orchestrated",
                "orchestrator": "strong",
                "executor": "local",
                "returns": {"policy": "tail", "max_chars": 4000},
            },
            "orch-s": {
                "kind": "orchestrated",
                "orchestrator": "strong",
                "executor": "local",
                "returns": {"policy": "structured"},
                "orchestrator_may_edit": False,
            },
            "always-local": routed("always-local"),
            "always-cloud": routed("always-cloud"),
            "heuristic": routed("heuristic", threshold=0.3),
            "cascade": routed("cascade", threshold=1),
            "classifier": routed("classifier", classifier="cheap"),
            "oneshot": {"kind": "single_shot", "model": "cheap"},
            "oneshot-c": {"kind": "single_shot", "model": "cheap", "contract": True},
        },
    )
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [*ARMBENCH, "run", str(path), "--out", str(tmp / "runs")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    rows = subprocess.run(
        [*ARMBENCH, "export", str(run_dir)], capture_output=True, text=True
    ).stdout
    return run_dir, [json.loads(line) for line in rows.splitlines()]


def by_arm(rows: list[dict[str, Any]], arm: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["arm"] == arm]


def test_every_arm_kind_runs_on_the_tasks_of_its_kind(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    _, rows = exported
    assert {r["arm_kind"] for r in rows} == {"solo", "orchestrated", "routed", "single_shot"}
    assert len(rows) == 8 * 1 + 2 * 2  # agentic arms on `feature`, single-shot on two tasks
    # Seeded simulated models: these outcomes (status, answered calls) hold on every machine.
    assert {r["trial_id"]: (r["status"], r["iterations"]) for r in rows} == {
        "always-cloud.feature.r1": ("pass", 5),
        "always-local.feature.r1": ("pass", 5),
        "cascade.feature.r1": ("pass", 8),
        "classifier.feature.r1": ("pass", 10),
        "heuristic.feature.r1": ("pass", 5),
        "oneshot-c.csv-totals.r1": ("pass", 1),
        "oneshot-c.roman.r1": ("fail", 1),
        "oneshot.csv-totals.r1": ("pass", 1),
        "oneshot.roman.r1": ("pass", 1),
        "orch-s.feature.r1": ("pass", 8),
        "orch.feature.r1": ("pass", 14),
        "solo.feature.r1": ("pass", 5),
    }
    assert {r["task"] for r in rows if r["arm_kind"] == "single_shot"} == {"csv-totals", "roman"}


def test_orchestrated_trials_have_executor_rows_and_pay_delegation_tax(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    run_dir, rows = exported
    for row in by_arm(rows, "orch") + by_arm(rows, "orch-s"):
        roles = row["tokens_by_role"]
        assert isinstance(roles, dict) and set(roles) == {"orchestrator", "executor"}
        assert row["delegation_tax_tokens"] > 0 and row["delegation_tax_usd"] > 0
        assert row["delegation_tax_estimated"] is False  # the sim reports it exactly
    (solo,) = by_arm(rows, "solo")
    assert solo["delegation_tax_tokens"] == 0 and solo["delegation_tax_usd"] == 0
    trials = {t.trial_id: t for t in load_run(run_dir).trials}
    structured = trials["orch-s.feature.r1"].extra["delegations"]
    assert structured and all(d["returned_chars"] <= 1500 + 200 for d in structured)


def test_cloud_fraction_is_defined_once_and_reported_both_ways(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    run_dir, rows = exported
    (local,) = by_arm(rows, "always-local")
    (cloud,) = by_arm(rows, "always-cloud")
    assert (local["cloud_fraction_calls"], local["cloud_fraction_tokens"]) == (0.0, 0.0)
    assert (cloud["cloud_fraction_calls"], cloud["cloud_fraction_tokens"]) == (1.0, 1.0)
    for arm in ("heuristic", "cascade"):
        (row,) = by_arm(rows, arm)
        assert 0 < row["cloud_fraction_calls"] < 1 and 0 < row["cloud_fraction_tokens"] < 1
    assert all(r["cloud_fraction_calls"] is None for r in rows if r["arm_kind"] != "routed")
    (classified,) = by_arm(rows, "classifier")
    assert "router" in classified["tokens_by_role"]
    trial = next(t for t in load_run(run_dir).trials if t.arm == "cascade")
    decisions = trial.extra["routing"]
    assert len(decisions) == trial.extra["main_iterations"]
    assert all(d["route"] in ("local", "cloud") and d["reason"] for d in decisions)
    routes = [c.route for c in trial.calls if c.role == "solo"]
    assert routes == [d["route"] for d in decisions]


def test_single_shot_trials_have_both_scores_and_a_classification(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    _, rows = exported
    shots = [r for r in rows if r["arm_kind"] == "single_shot"]
    assert all(r["format_score"] in (0, 1) and r["execution_score"] in (0, 1) for r in shots)
    assert all(
        r["contract_effect"] in ("format_only", "execution_gain", "regression", "no_effect")
        for r in shots
    )
    assert {r["contract"] for r in shots} == {True, False}
    assert all(r["status"] == ("pass" if r["execution_score"] else "fail") for r in shots)
