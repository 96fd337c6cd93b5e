"""What the external-arm end-to-end tests share: a run of a config with `command` agents on
the demo pack's feature task, and a trial's record, transcript and calls read back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

AGENT = (Path(__file__).parent / "agents" / "bash_agent.py").read_text()
ARMBENCH = [sys.executable, "-m", "armbench.cli"]
PRICES = '[models."sim/coder"]\ninput = 3.0\noutput = 15.0\ncache_write_5m = 3.75\n'
PRICES += "cache_write_1h = 6.0\ncache_read = 0.3\n"


def run_config(
    tmp: Path,
    arms: dict[str, Any],
    exit_code: int = 0,
    budget: float | None = None,
    others: dict[str, Any] | None = None,
    timeout_s: float = 600,
    concurrency: int = 2,
    **coder: Any,
) -> Path:
    prices = PRICES + "".join(f'[models."sim/{name}"]\nlocal = true\n' for name in others or {})
    (tmp / "prices.toml").write_text(prices)
    config = {
        "name": "external",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 1,
        "concurrency": concurrency,
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
        timeout=timeout_s,
    )
    assert done.returncode == exit_code, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def read_trial(run: Path, arm: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
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
