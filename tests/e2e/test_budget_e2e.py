"""A run whose budget binds: on sim models priced by the demo's card, two trials at once, four
planned. The recorded spend never exceeds the budget; the trials under way when it ran out end
as `limit` (reason `budget`) with every record kept; no trial starts after; a resume counts
what was spent, and with a larger budget finishes the trials that never started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench import api
from armbench.analysis.records import load_run_records
from armbench.config import RunConfig, parse_config
from armbench.pricing import RateCard, trial_cost
from armbench.runner import capacity_for, execute, preflight
from armbench.store import RunDirectory

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
CARD = RateCard.load(EXAMPLES / "demo-prices.toml")
BUDGET = 0.35
"""About one and a half calls' worst case of the strong model (8192 output tokens at $25 per
million dominate it), a tenth of what the four trials cost unbudgeted (~$0.34 real spend)."""


def config(budget: float) -> RunConfig:
    raw: dict[str, Any] = {
        "name": "budget",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 2,
        "seed": 42,
        "concurrency": 2,
        "rate_card": str(EXAMPLES / "demo-prices.toml"),
        "budget_usd": budget,
        "models": {
            "strong": {"provider": "sim", "skill": 0.95},
            "cheap": {"provider": "sim", "skill": 0.8},
        },
        "arms": {
            "strong": {"kind": "solo", "model": "strong"},
            "cheap": {"kind": "solo", "model": "cheap"},
        },
    }
    return parse_config(raw, source="test", base_dir=Path.cwd())


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    return api.run(config(BUDGET), out=tmp_path_factory.mktemp("runs"))


def spend(run_dir: Path) -> float:
    return sum(trial_cost(t, CARD) for t in load_run_records(run_dir).trials)


def test_the_recorded_spend_never_exceeds_the_budget(budgeted: api.RunResult) -> None:
    state = budgeted.outcome.budget
    assert state is not None and state.exhausted and state.refused >= 1
    recorded = spend(budgeted.path)
    assert 0 < recorded <= BUDGET
    assert state.spent_usd == pytest.approx(recorded, rel=1e-9)  # settled at the real costs
    assert state.overrun_usd == 0 and state.reserved_usd == 0


def test_trials_under_way_end_as_limit_budget_and_keep_their_records(
    budgeted: api.RunResult,
) -> None:
    stopped = [r for r in budgeted.records if r.stop_reason == "budget"]
    assert stopped and all(r.status == "limit" for r in stopped)
    for record in stopped:
        assert record.calls, "a trial with no call is not started, hence not recorded"
        assert record.gates, "a budget-stopped trial is judged like any limited one"
        assert record.extra["limit"].startswith("budget_usd:")
        assert (budgeted.path / record.transcript).is_file()
    stored = {t.trial_id: t for t in load_run_records(budgeted.path).trials}
    assert set(stored) == {r.trial_id for r in budgeted.records}
    for record in budgeted.records:
        assert stored[record.trial_id].calls == record.calls


def test_no_trial_starts_once_the_budget_is_exhausted(budgeted: api.RunResult) -> None:
    # The budget runs out while the first two trials (replicate 1) are under way.
    assert 1 <= len(budgeted.records) <= 2
    assert {r.replicate for r in budgeted.records} == {1}
    manifest = RunDirectory.open(budgeted.path).read_manifest()
    assert manifest.trials_planned == 4 and manifest.finished_at is None


def test_a_resume_counts_the_recorded_spend_and_a_larger_budget_finishes_the_run(
    budgeted: api.RunResult,
) -> None:
    run_dir = RunDirectory.open(budgeted.path)
    before = spend(budgeted.path)
    with run_dir.database() as db:
        resumed = capacity_for(config(BUDGET), CARD, db.iter_trials())
    assert resumed.budget.spent_usd == pytest.approx(before, rel=1e-9)

    larger = config(100.0)
    outcome = execute(preflight(larger), run_dir)
    trials = load_run_records(budgeted.path).trials
    assert len(trials) == 4  # the ones never started ran now; none ran twice
    assert {t.trial_id for t in outcome.records}.isdisjoint(r.trial_id for r in budgeted.records)
    assert outcome.budget is not None
    assert outcome.budget.spent_usd == pytest.approx(spend(budgeted.path), rel=1e-9)


def test_the_cli_says_the_budget_stopped_the_run_and_a_larger_one_finishes_it(
    tmp_path: Path,
) -> None:
    """Through the CLI: the run ends 3 naming the budget and the resume that finishes it;
    `resume --budget-usd` runs the rest, recorded in the manifest, the config's hash kept."""
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(config(BUDGET).model_dump(mode="json")))

    def armbench(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "armbench.cli", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=600)

    stopped = armbench("run", str(path), "--out", str(tmp_path / "runs"))
    assert stopped.returncode == 3, stopped.stderr
    run_dir = Path(stopped.stdout.strip().splitlines()[-1])
    said = " ".join(stopped.stderr.split())
    assert f"of ${BUDGET:.2f} spent" in said and "ended as limit (budget)" in said
    assert f"armbench resume {run_dir} --budget-usd N" in said
    before = RunDirectory.open(run_dir).read_manifest()

    finished = armbench("resume", str(run_dir), "--budget-usd", "100")
    assert finished.returncode == 0, finished.stderr
    after = RunDirectory.open(run_dir).read_manifest()
    assert len(load_run_records(run_dir).trials) == 4 and after.finished_at is not None
    assert (after.config, after.config_hash) == (before.config, before.config_hash)
    assert [{k: v for k, v in c.items() if k != "at"} for c in after.resumed_with] == [
        {"budget_usd": 100.0}
    ]
    assert armbench("resume", str(run_dir), "--budget-usd", "-1").returncode == 2
