"""Sweeps end to end through the CLI: the arms a sweep makes run, are recorded with their
values and resume; bad config input exits 2 with a clear error and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from armbench.analysis.records import load_run_records

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
CAPS = ("B.max_chars=1000", "B.max_chars=4000")


def armbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "armbench.cli", *args], capture_output=True, text=True, timeout=600
    )


def sweep_config(tmp_path: Path) -> Path:
    """The demo's simulated models and prices; one orchestrated arm on one task, its return
    cap swept over two values."""
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(
        rate_card=str(EXAMPLES / "demo-prices.toml"),
        pack="demo",
        tasks=["feature"],
        replicates=1,
        arms={
            "B": {
                "kind": "orchestrated",
                "orchestrator": "strong",
                "executor": "local",
                "orchestrator_may_edit": False,
            }
        },
        sweep=[{"arms": ["B"], "grid": {"returns.max_chars": [1000, 4000]}}],
    )
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.slow
def test_a_sweep_runs_its_arms_records_their_values_and_resumes(tmp_path: Path) -> None:
    result = armbench("run", str(sweep_config(tmp_path)), "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert "2 trials (2 arms made by the sweep from 1)" in result.stderr

    run = load_run_records(run_dir)
    assert sorted(t.trial_id for t in run.trials) == [f"{arm}.feature.r1" for arm in CAPS]
    for trial in run.trials:
        cap = int(trial.arm.rsplit("=", 1)[1])
        assert trial.arm_kind == "orchestrated" and trial.status == "pass"
        assert trial.extra["returns"] == {"policy": "free", "max_chars": cap}
        assert (run_dir / trial.transcript).is_file()
    arms = run.manifest.config["arms"]
    assert list(arms) == list(CAPS) and "sweep" not in run.manifest.config
    assert arms["B.max_chars=4000"]["sweep"] == {
        "base": "B",
        "values": {"returns.max_chars": 4000},
    }

    resumed = armbench("resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert "all 2 trials are recorded: nothing to resume" in resumed.stderr
    shown = armbench("show", str(run_dir))
    assert shown.returncode == 0 and all(arm in shown.stdout for arm in CAPS)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["--set", "name=["], "--set 'name=[': the value is not valid YAML"),
        (
            ["--set", "sweep.0.grid.returns.max_chars=[50, 4000]"],
            "sweep[0].grid.returns.max_chars=50: Input should be greater than or equal to 100",
        ),
        (["--set", "sweep.0.grid.retrns.max_chars=[500]"], "'retrns' is not a field"),
    ],
)
def test_bad_input_exits_2_with_a_clear_error_and_writes_nothing(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    result = armbench("run", str(sweep_config(tmp_path)), *overrides, "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()


def test_a_config_that_is_not_utf8_exits_2_naming_the_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(sweep_config(tmp_path).read_text().replace("demo", "démo").encode("latin-1"))
    result = armbench("run", str(path), "--out", str(tmp_path / "r"))
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr and "not UTF-8 text (byte 0xe9 at offset" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()
