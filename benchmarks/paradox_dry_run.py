"""The published free-executor design, offline: `configs/free-executor-paradox.yaml` with every
model swapped for a simulated one, all 12 cells (arms A-D × typer T1-T3), 1 replicate.

Runs `armbench run` on the config with the README's `--set` lines (and `replicates=1`), then
reads the run: the whole run's wall time, each trial's status and wall time (the agent's,
simulated model latency included), the judge's time per gate (mypy, ruff, pytest,
moved_function), and per trial the real time outside the judge: the agent's wall time less the
simulated latency it was given (simulated models answer at once), which is the tools' commands
(the agent's own mypy, ruff and test runs) and the harness (workspace copy, sandbox, recording).
Simulated models, real everything else: the typer sdist (fetched once into the user cache),
typer's locked toolchain (built once), the bubblewrap sandbox, the real judge.

    .venv/bin/python benchmarks/paradox_dry_run.py [--out DIR] [--json OUT]

The first run also fetches the sdist and builds the toolchain (about 20 s, network: PyPI).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "free-executor-paradox.yaml"
SIM_MODELS = [
    "models.opus={provider: sim, skill: 0.95, verbosity: 0.6}",
    "models.haiku={provider: sim, skill: 0.8, verbosity: 0.4}",
    "models.qwen={provider: sim, skill: 0.6, verbosity: 0.9}",
]


def run(out: Path) -> tuple[Path, float]:
    argv = [str(ROOT / ".venv" / "bin" / "armbench"), "run", str(CONFIG), "--out", str(out)]
    for item in [*SIM_MODELS, "replicates=1"]:
        argv += ["--set", item]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    sys.stderr.write(done.stderr[-2000:])
    if done.returncode not in (0, 1):
        raise SystemExit(f"armbench run exited {done.returncode}:\n{done.stdout[-2000:]}")
    run_dir = Path(done.stdout.strip().splitlines()[-1].split()[-1])
    return run_dir, wall


def measure(run_dir: Path) -> dict[str, Any]:
    db = sqlite3.connect(run_dir / "armbench.sqlite")
    trials = db.execute(
        "SELECT trial_id, arm, task, status, wall_s, extra FROM trials ORDER BY task, arm"
    ).fetchall()
    gates: dict[str, list[float]] = {}
    rows = []
    for trial_id, arm, task, status, wall_s, extra in trials:
        judge_s = float(json.loads(extra or "{}").get("judge_s") or 0.0)
        (simulated,) = db.execute(
            "SELECT coalesce(sum(latency_s), 0) FROM calls "
            "WHERE trial_id = ? AND latency_simulated = 1",
            (trial_id,),
        ).fetchone()
        for name, duration in db.execute(
            "SELECT name, duration_s FROM gates WHERE trial_id = ?", (trial_id,)
        ):
            gates.setdefault(name, []).append(duration)
        rows.append(
            {
                "arm": arm,
                "task": task,
                "status": status,
                "wall_s": round(wall_s, 1),
                "judge_s": round(judge_s, 1),
                "real_agent_s": round(wall_s - simulated, 1),
            }
        )
    return {
        "trials": rows,
        "gate_median_s": {k: round(statistics.median(v), 2) for k, v in sorted(gates.items())},
        "gate_max_s": {k: round(max(v), 2) for k, v in sorted(gates.items())},
        "real_agent_median_s": round(statistics.median(r["real_agent_s"] for r in rows), 1),
        "judge_median_s": round(statistics.median(r["judge_s"] for r in rows), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Parent folder of the run.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    options = parser.parse_args()
    out = options.out or Path(tempfile.mkdtemp(prefix="armbench-paradox-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.platform()}")
    run_dir, wall = run(out)
    figures = measure(run_dir)
    figures["run_dir"] = str(run_dir)
    figures["wall_s"] = round(wall, 1)
    print(f"run {run_dir}: {len(figures['trials'])} cells in {wall:.0f} s")
    for row in figures["trials"]:
        print(
            f"  {row['task']:3} {row['arm']}  {row['status']:11} wall {row['wall_s']:7.1f} s  "
            f"judge {row['judge_s']:6.1f} s  real agent time {row['real_agent_s']:6.1f} s"
        )
    print("judge per gate, median (max) s:")
    for name, median in figures["gate_median_s"].items():
        print(f"  {name:15} {median:7.2f} ({figures['gate_max_s'][name]:.2f})")
    print(
        f"per trial, median: judge {figures['judge_median_s']} s, real agent time (tools' "
        f"commands and harness) {figures['real_agent_median_s']} s"
    )
    if options.json is not None:
        options.json.write_text(json.dumps(figures, indent=2) + "\n")
    if len(figures["trials"]) != 12:
        raise SystemExit(f"expected 12 cells, the run has {len(figures['trials'])}")


if __name__ == "__main__":
    main()
