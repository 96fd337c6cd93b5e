"""The Python API does what the CLI does: run a config, reopen the run, build its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import armbench
from armbench.config import ConfigError

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"


def config_file(tmp_path: Path) -> Path:
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(
        rate_card=str(EXAMPLES / "demo-prices.toml"),
        pack="demo",
        tasks=["feature"],
        arms={"strong": {"kind": "solo", "model": "strong"}},
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_run_open_and_report_from_python(tmp_path: Path) -> None:
    seen: list[str] = []
    result = armbench.run(
        config_file(tmp_path),
        out=tmp_path / "runs",
        overrides=["replicates=2"],
        on_trial=lambda record: seen.append(record.trial_id),
    )
    assert result.path.parent == tmp_path / "runs" and result.stopped_early is None
    assert sorted(seen) == ["strong.feature.r1", "strong.feature.r2"]
    assert result.statuses() == {"pass": 2}
    records = armbench.open_run(result)
    assert [t.trial_id for t in records.iter_trials()] == sorted(seen)
    assert records.manifest.config["replicates"] == 2
    report = armbench.build_report(result.path)
    (cell,) = report.cells
    assert (cell.arm, cell.task, cell.n, cell.n_pass) == ("strong", "feature", 2, 2)
    assert armbench.resume(result.path).records == []  # nothing left to run


def test_a_bad_config_raises_instead_of_exiting(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    with pytest.raises(ConfigError, match="replicates"):
        armbench.run(path, out=tmp_path / "runs", overrides=["replicates=0"])
    assert not (tmp_path / "runs").exists()


def test_importing_armbench_loads_no_runner_or_analysis() -> None:
    probe = (
        "import sys, armbench; "
        "print(sorted(m for m in sys.modules if m.startswith(('armbench.runner', "
        "'armbench.analysis', 'armbench.api'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
