"""An arm's prompt override, end to end: the model is sent the override, the manifest records
every prompt the run rendered by sha256, and a resume refuses a prompt changed since."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from armbench.prompts import AGENT_SYSTEM, EXECUTOR_SYSTEM, ORCHESTRATOR_SYSTEM, PromptSet

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
ARMBENCH = [sys.executable, "-m", "armbench.cli"]
NEVER_EDIT = "You lead. Never edit a file yourself: delegate every change, then verify it."


def armbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARMBENCH, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("prompts")
    (tmp / "never-edit.txt").write_text(NEVER_EDIT)
    config = yaml.safe_load((EXAMPLES / "demo.yaml").read_text())
    config.update(
        rate_card=str(EXAMPLES / "demo-prices.toml"),
        pack="demo",
        tasks=["feature"],
        replicates=1,
        arms={
            "solo": {"kind": "solo", "model": "strong"},
            "told": {
                "kind": "orchestrated",
                "orchestrator": "strong",
                "executor": "local",
                "orchestrator_may_edit": False,
                "prompts": {"orchestrator.system": {"file": "never-edit.txt"}},
            },
        },
    )
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = armbench("run", str(path), "--out", str(tmp / "runs"))
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1]), tmp / "never-edit.txt"


def test_the_orchestrator_is_sent_the_override(run: tuple[Path, Path]) -> None:
    run_dir, _ = run
    told = json.loads((run_dir / "transcripts" / "told.feature.r1.json").read_text())
    assert told["system"] == NEVER_EDIT
    solo = json.loads((run_dir / "transcripts" / "solo.feature.r1.json").read_text())
    assert solo["system"] == PromptSet().render(AGENT_SYSTEM)


def test_the_manifest_records_every_prompt_rendered(run: tuple[Path, Path]) -> None:
    run_dir, _ = run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    recorded = {(p["id"], p["source"]): p for p in manifest["prompts"]}
    builtin = PromptSet()
    assert set(recorded) == {
        (AGENT_SYSTEM, "armbench"),
        (EXECUTOR_SYSTEM, "armbench"),
        (ORCHESTRATOR_SYSTEM, "arms.told.prompts.orchestrator.system"),
    }
    assert recorded[(ORCHESTRATOR_SYSTEM, "arms.told.prompts.orchestrator.system")] == {
        "id": ORCHESTRATOR_SYSTEM,
        "sha256": hashlib.sha256(NEVER_EDIT.encode()).hexdigest(),
        "source": "arms.told.prompts.orchestrator.system",
        "arms": ["told"],
    }
    assert recorded[(AGENT_SYSTEM, "armbench")]["sha256"] == builtin[AGENT_SYSTEM].sha256
    assert recorded[(AGENT_SYSTEM, "armbench")]["arms"] == ["solo"]


def test_resume_refuses_a_prompt_changed_since_the_run_started(run: tuple[Path, Path]) -> None:
    run_dir, prompt_file = run
    assert armbench("resume", str(run_dir)).returncode == 0  # unchanged: nothing left to do
    prompt_file.write_text(NEVER_EDIT + " Really.")
    refused = armbench("resume", str(run_dir))
    assert refused.returncode == 2
    assert "prompt orchestrator.system changed since the run started" in refused.stderr
