"""End to end through the CLI: a reduced demo, bad configs, a killed run resumed, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from armbench.analysis.records import load_run_records as load_run

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
ARMBENCH = [sys.executable, "-m", "armbench.cli"]
EXPORT_FIELDS = {
    "run_id", "trial_id", "arm", "arm_kind", "task", "replicate", "seed", "status", "infra_class",
    "wall_s", "iterations", "n_calls", "tokens", "tokens_by_role", "cost_usd", "cost_by_role",
    "gates", "simulated",
}  # fmt: skip


def armbench(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ARMBENCH, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


SOLO_PAIR = {
    "strong": {"kind": "solo", "model": "strong"},
    "weak": {"kind": "solo", "model": "cheap"},
}


def demo_config(tmp_path: Path, **changes: object) -> Path:
    """The demo's config with its models and prices, two solo arms on the demo pack unless
    `changes` say otherwise."""
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(rate_card=str(EXAMPLES / "demo-prices.toml"), pack="demo", arms=SOLO_PAIR)
    config.update(changes)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_reduced_demo_records_every_trial_and_exports_the_contract(tmp_path: Path) -> None:
    config = demo_config(tmp_path, tasks=["feature", "breakage"], replicates=1)
    result = armbench("run", str(config), "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == tmp_path / "runs" and run_dir.is_dir()

    run = load_run(run_dir)
    assert len(run.trials) == 4
    assert {(t.arm, t.task) for t in run.trials} == {
        (arm, task) for arm in ("strong", "weak") for task in ("feature", "breakage")
    }
    assert run.manifest.simulated and run.manifest.finished_at is not None
    assert set(run.manifest.checkers) == {"mypy", "ruff", "pytest"}
    assert "SIMULATED" in result.stdout

    # The config is seeded: these outcomes (status, answered calls) hold on every machine, so a
    # change that alters what an agent sees or how it is judged shows up here.
    assert {t.trial_id: (t.status, t.iterations) for t in run.trials} == {
        "strong.breakage.r1": ("pass", 14),
        "strong.feature.r1": ("pass", 5),
        "weak.breakage.r1": ("pass", 17),
        "weak.feature.r1": ("pass", 11),
    }
    for trial in run.trials:
        assert trial.calls and all(c.role == "solo" for c in trial.calls)
        assert [g.name for g in trial.gates][-3:] == ["mypy", "ruff", "pytest"]
        transcript = json.loads((run_dir / trial.transcript).read_text())
        assert transcript["simulated"] is True
        assert len(transcript["messages"]) == 2 * len(trial.calls)
    # Every arm saw the same broken workspace: the injection seed is shared per replicate.
    injections = {
        json.dumps(json.loads((run_dir / t.transcript).read_text())["injection"])
        for t in run.trials
        if t.task == "breakage"
    }
    assert len(injections) == 1

    rows = [
        json.loads(line)
        for line in armbench("export", str(run_dir), "--format", "jsonl").stdout.splitlines()
    ]
    assert len(rows) == 4
    for row in rows:
        assert row.keys() >= EXPORT_FIELDS
        assert row["cost_usd"] > 0 and row["tokens"]["output"] > 0
        assert row["tokens_by_role"]["solo"] == row["tokens"]
    calls = armbench("export", str(run_dir), "--format", "csv", "--calls").stdout.splitlines()
    assert calls[0].startswith("run_id,trial_id,arm,task,seq,role")
    assert len(calls) - 1 == sum(len(t.calls) for t in run.trials)

    shown = armbench("show", str(run_dir))
    assert shown.returncode == 0 and "strong" in shown.stdout and "feature" in shown.stdout


def test_bad_config_exits_2_naming_the_field_and_writes_nothing(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["arms"]["strong"]["model"] = "strnog"
    config.write_text(yaml.safe_dump(raw))
    result = armbench("run", str(config), "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert "arms.strong.model" in result.stderr and "strnog" in result.stderr
    assert not (tmp_path / "runs").exists()

    result = armbench(
        "run",
        str(demo_config(tmp_path)),
        "--set",
        "models.cheap.skill=1.5",
        "--out",
        str(tmp_path / "runs"),
    )
    assert result.returncode == 2 and "models.cheap.skill" in result.stderr


def test_missing_price_is_an_error_before_anything_runs(tmp_path: Path) -> None:
    card = tmp_path / "card.toml"
    card.write_text('[models."sim/strong"]\ninput = 1.0\noutput = 2.0\n')
    result = armbench(
        "run", str(demo_config(tmp_path, rate_card=str(card))), "--out", str(tmp_path / "runs")
    )
    assert result.returncode == 2
    assert "sim/cheap" in result.stderr and "card.toml" in result.stderr
    assert not (tmp_path / "runs").exists()


def one_command_config(tmp_path: Path, name: str, command: str) -> Path:
    """A config whose one arm is a `script` model that runs `command` once on `feature`."""
    script = tmp_path / "script.yaml"
    turns = [
        {"text": "", "tool_calls": [{"name": "bash", "input": {"command": command}}]},
        {"text": "done"},
    ]
    script.write_text(yaml.safe_dump(turns))
    card = tmp_path / "card.toml"
    card.write_text('[models."script/replay"]\ninput = 1.0\noutput = 2.0\n')
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "pack": "demo",
                "tasks": ["feature"],
                "rate_card": str(card),
                "models": {"replay": {"provider": "script", "path": str(script)}},
                "arms": {"replayed": {"kind": "solo", "model": "replay"}},
            }
        )
    )
    return config


def test_secrets_never_reach_the_agent_or_the_run_directory(tmp_path: Path) -> None:
    secret = "sk-test-" + os.urandom(8).hex()
    config = one_command_config(tmp_path, "secrets", "env; cat ~/.netrc 2>/dev/null")
    env = {
        **os.environ,
        "OPENAI_API_KEY": secret,
        "ANTHROPIC_API_KEY": secret,
        "GITHUB_TOKEN": secret,
    }
    result = armbench("run", str(config), "--out", str(tmp_path / "runs"), env=env)
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    transcript = next((run_dir / "transcripts").glob("*.json")).read_text()
    assert "PATH=" in transcript  # the agent really ran `env`
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert load_run(run_dir).trials[0].status == "fail"  # it never implemented the feature


def test_the_harness_environment_in_proc_holds_no_secret(tmp_path: Path) -> None:
    """Under plain processes the agent's shell is armbench's child: it can read
    /proc/$PPID/environ. armbench erased its keys there once read; the redactor would only
    have masked them (so a mask in the transcript would mean they were still there)."""
    secret = "sk-test-" + os.urandom(8).hex()
    command = "tr '\\0' '\\n' < /proc/$PPID/environ; echo; cat /proc/$PPID/cmdline"
    config = one_command_config(tmp_path, "proc", command)
    env = {**os.environ, "ANTHROPIC_API_KEY": secret, "BILLING_PASSWORD": secret + "-2"}
    result = armbench(
        "run", str(config), "--sandbox", "local", "--out", str(tmp_path / "runs"), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "isolation is by convention" in result.stderr  # said on every local run
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    transcript = next((run_dir / "transcripts").glob("*.json")).read_text()
    assert "armbench.cli" in transcript  # it really read the harness's own /proc entry
    assert "PATH=" in transcript
    assert secret not in transcript
    assert "[REDACTED]" not in transcript  # nothing was there to mask
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["sandbox"]["backend"] == "local"
