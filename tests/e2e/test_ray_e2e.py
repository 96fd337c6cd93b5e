"""`--backend ray` end to end on a local Ray: real trials of the demo pack on sim and script
models, run as Ray tasks, recorded by the driver.

One local Ray serves the whole module (starting one takes several seconds); armbench joins a
Ray its process has already started, as it would a notebook's. Ray is in the development lock:
if it cannot start here these tests fail with Ray's reason, they never skip. The workers are
started while a secret is in this process's environment, so they inherit it as the workers of
a local Ray that armbench starts inherit the keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import yaml
from typer.testing import CliRunner

from armbench.analysis.records import load_run_records
from armbench.cli import app
from armbench.config import RunConfig, parse_config
from armbench.pricing import RateCard, trial_cost
from armbench.runner import create_run, execute, preflight
from armbench.runner.backends import backend_kind, open_backend

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
CARD = RateCard.load(EXAMPLES / "demo-prices.toml")
SECRET = "sk-ray-" + os.urandom(8).hex()
BUDGET = 0.35
"""About one and a half calls' worst case of the strong model: binds at once with two trials
calling together (see tests/e2e/test_budget_e2e.py)."""


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    os.environ["BILLING_PASSWORD"] = SECRET
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        os.environ.pop("BILLING_PASSWORD", None)
    yield
    ray.shutdown()


def sim_config(tmp_path: Path, **changes: Any) -> Path:
    raw: dict[str, Any] = {
        "name": "ray",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 1,
        "seed": 42,
        "concurrency": 2,
        "rate_card": str(EXAMPLES / "demo-prices.toml"),
        "models": {
            "strong": {"provider": "sim", "skill": 0.95},
            "cheap": {"provider": "sim", "skill": 0.8},
        },
        "arms": {
            "strong": {"kind": "solo", "model": "strong"},
            "cheap": {"kind": "solo", "model": "cheap"},
        },
        **changes,
    }
    path = tmp_path / f"{raw['name']}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def armbench(*args: str) -> tuple[int, str, Path | None]:
    """The CLI in this process (so it joins the module's Ray): exit code, stderr as one line,
    the run directory printed last."""
    result = CliRunner().invoke(app, list(args))
    lines = result.stdout.strip().splitlines()
    last = Path(lines[-1]) if lines and Path(lines[-1]).is_dir() else None
    return result.exit_code, " ".join(result.stderr.split()), last


def test_workers_share_one_budget_and_the_driver_records_every_trial_once(
    tmp_path: Path,
) -> None:
    """Four trials, two at once on two worker processes, under a budget that binds: every
    call reserves from and settles to the one account, so the driver's reading of it is the
    recorded spend exactly and never past the budget. A resume without --backend runs on the
    backend the run used; the driver records each trial once, from the transcript text its
    worker handed back, and no worker touched the run directory."""
    path = sim_config(tmp_path, name="budget", replicates=2, budget_usd=BUDGET)
    cfg: RunConfig = parse_config(yaml.safe_load(path.read_text()), source="t", base_dir=tmp_path)
    pre = preflight(cfg)
    run_dir = create_run(
        pre,
        out_parent=tmp_path / "runs",
        config_source=str(path),
        backend=backend_kind("ray").record(None),
    )
    with open_backend("ray", None, "budget") as backend:
        outcome = execute(pre, run_dir, backend=backend)
    state = outcome.budget
    assert state is not None and state.exhausted and state.refused >= 1
    recorded = sum(trial_cost(t, CARD) for t in load_run_records(run_dir.path).trials)
    assert 0 < recorded <= BUDGET
    assert state.spent_usd == pytest.approx(recorded, rel=1e-9)  # one account, every worker
    assert state.reserved_usd == 0
    stopped = [r for r in outcome.records if r.stop_reason == "budget"]
    assert stopped and all(r.status == "limit" and r.calls for r in stopped)
    assert len(outcome.records) < 4  # no trial started once it was exhausted

    code, said, _ = armbench("resume", str(run_dir.path), "--budget-usd", "100")
    assert code == 0, said
    assert "on ray" in said
    trials = load_run_records(run_dir.path).trials
    assert sorted(t.trial_id for t in trials) == [
        f"{arm}.feature.r{r}" for arm in ("cheap", "strong") for r in (1, 2)
    ]
    assert all(t.status in ("pass", "fail", "limit") and t.calls and t.gates for t in trials)
    for trial in trials:
        transcript = json.loads((run_dir.path / trial.transcript).read_text())
        assert transcript["trial_id"] == trial.trial_id and transcript["messages"]
    assert len(list((run_dir.path / "transcripts").iterdir())) == 4
    # Workers never touch the run directory: templates were prepared on the nodes.
    assert sorted(p.name for p in run_dir.path.iterdir()) == [
        "armbench.sqlite",
        "manifest.json",
        "run.lock",
        "transcripts",
    ]
    manifest = run_dir.read_manifest()
    assert manifest.backend == {"name": "ray", "address": None, "ray": ray.__version__}
    assert [c for c in manifest.resumed_with if "backend" in c] == []


def script_config(tmp_path: Path) -> Path:
    """Two script arms on plain processes (so a command sees its parent, the Ray worker):
    one reads the worker's environment as the kernel shows it, one kills the worker."""
    turns = {
        "environ": "tr '\\0' '\\n' < /proc/$PPID/environ; echo; cat /proc/$PPID/cmdline",
        "crash": "kill -9 $PPID; sleep 5",
    }
    card = tmp_path / "card.toml"
    card.write_text("".join(f'[models."script/{k}"]\ninput = 1.0\noutput = 2.0\n' for k in turns))
    models, arms = {}, {}
    for key, command in turns.items():
        script = tmp_path / f"{key}.yaml"
        calls = [{"name": "bash", "input": {"command": command}}]
        script.write_text(yaml.safe_dump([{"tool_calls": calls}, {"text": "done"}]))
        models[key] = {"provider": "script", "path": str(script)}
        arms[key] = {"kind": "solo", "model": key}
    config = tmp_path / "scripts.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "scripts",
                "pack": "demo",
                "tasks": ["feature"],
                "sandbox": "local",
                "rate_card": str(card),
                "models": models,
                "arms": arms,
            }
        )
    )
    return config


def test_a_dead_worker_is_an_infra_error_and_a_worker_holds_no_key(tmp_path: Path) -> None:
    code, said, run_dir = armbench(
        "run", str(script_config(tmp_path)), "--out", str(tmp_path / "runs"), "--backend", "ray"
    )
    assert code == 3, said  # the infra error is over the default threshold of 0
    assert run_dir is not None
    trials = {t.arm: t for t in load_run_records(run_dir).trials}
    crashed = trials["crash"]
    assert (crashed.status, crashed.infra_class) == ("infra_error", "harness")
    assert crashed.error is not None and "WorkerCrashedError" in crashed.error
    assert "infra_error crash.feature.r1: harness: WorkerCrashedError" in said
    # The worker read its key from its own environment, then took it out, erasing it from
    # /proc/<pid>/environ: the command found nothing there (not even a mask to hide it).
    transcript = (run_dir / trials["environ"].transcript).read_text()
    assert "ray::" in transcript and "PATH=" in transcript  # it really read the worker's
    assert SECRET not in transcript and "[REDACTED]" not in transcript
    everything = b"".join(p.read_bytes() for p in run_dir.rglob("*") if p.is_file())
    assert SECRET.encode() not in everything
