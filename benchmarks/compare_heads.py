"""Compare this tree with another git revision on the same runs: nothing may change for users.

Two checks, each against the other revision's code run from a git worktree with the same
virtualenv (so the same checkers and libraries):

1. **Reading is unchanged.** `report --json` of the same run directories — a fixed-seed run of
   the demo config and the free-executor-paradox import (and the hybrid-coding-eval one when
   its data is there) — must be byte-identical under both revisions.
2. **Running is unchanged.** The demo config run by each revision must give every trial the
   same status, stop reason, answered calls and gate verdicts. Tokens are compared too, but a
   simulated run's token counts follow tool outputs that hold timings ("3 passed in 0.41s"),
   so two runs of the *same* code differ by a few tokens; the script reports that spread
   instead of failing on it, and it measures the same spread between two runs of the other
   revision so the two can be compared.

    python benchmarks/compare_heads.py --base HEAD~5
    python benchmarks/compare_heads.py --base ba3d971 --keep /tmp/compare   # keep the runs

Exits 1 if a report differs or a trial's outcome differs; prints what differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = "src/armbench/examples/demo.yaml"
SHARED = Path(os.environ.get("ARMBENCH_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


def armbench(src: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`armbench ARGS` with the code of `src` (a checkout's src/ folder)."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "armbench.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"armbench {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def run_dir_of(result: subprocess.CompletedProcess[str]) -> Path:
    return Path(result.stdout.strip().splitlines()[-1])


def outcomes(run_dir: Path) -> dict[str, tuple[object, ...]]:
    """Per trial: status, stop reason, answered calls, and each gate's name and verdict."""
    with sqlite3.connect(run_dir / "armbench.sqlite") as db:
        trials = db.execute("SELECT trial_id, status, stop_reason, iterations FROM trials")
        found: dict[str, tuple[object, ...]] = {t[0]: tuple(t[1:]) for t in trials}
        for trial_id, name, passed in db.execute(
            "SELECT trial_id, name, passed FROM gates ORDER BY trial_id, seq"
        ):
            found[trial_id] += ((name, bool(passed)),)
    return found


def tokens(run_dir: Path) -> dict[str, int]:
    with sqlite3.connect(run_dir / "armbench.sqlite") as db:
        rows = db.execute(
            "SELECT trial_id, SUM(input + output + cache_write_5m + cache_write_1h + cache_read)"
            " FROM calls GROUP BY trial_id"
        )
        return {trial_id: int(total) for trial_id, total in rows}


def spread(a: dict[str, int], b: dict[str, int]) -> float:
    """The largest relative difference of a trial's tokens between two runs."""
    return max((abs(a[t] - b[t]) / max(a[t], 1) for t in a.keys() & b.keys()), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--keep", type=Path, help="keep the runs and reports in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="armbench-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base-tree"
    if not base.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True
        )
    trees = {"base": base / "src", "this": ROOT / "src"}
    problems: list[str] = []

    started = {}
    runs: dict[str, list[Path]] = {"base": [], "this": []}
    for label in ("base", "this", "base"):
        src = trees[label]
        config = src.parent / DEMO
        t0 = time.monotonic()
        runs[label].append(
            run_dir_of(armbench(src, "run", str(config), "--out", str(work / label), cwd=work))
        )
        started.setdefault(label, []).append(time.monotonic() - t0)
    shown = {k: ", ".join(f"{s:.0f}" for s in v) for k, v in started.items()}
    print(f"demo config runs: base {shown['base']} s, this {shown['this']} s")

    directories = {"demo": runs["base"][0]}
    if (SHARED / "free-executor-paradox").is_dir():
        fep = armbench(trees["base"], "import", "fep", str(SHARED / "free-executor-paradox"),
                       "--out", str(work / "imports"), cwd=work)  # fmt: skip
        directories["fep"] = run_dir_of(fep)
    if (SHARED / "hybrid-coding-eval-run07").is_dir():
        raw = SHARED / "hybrid-coding-eval-run07" / "raw.jsonl"
        hce = armbench(trees["base"], "import", "hce", str(raw), "--out", str(work / "imports"),
                       cwd=work)  # fmt: skip
        directories["hce"] = run_dir_of(hce)
    for name, directory in directories.items():
        reports = {}
        for label, src in trees.items():
            target = work / f"{name}-report-{label}.json"
            armbench(src, "report", str(directory), "--json", str(target), cwd=work)
            reports[label] = target.read_bytes()
        same = reports["base"] == reports["this"]
        print(
            f"report --json of the {name} run, read by both: {'identical' if same else 'DIFFERS'}"
        )
        if not same:
            problems.append(f"the {name} report differs")

    base_outcomes, this_outcomes = outcomes(runs["base"][0]), outcomes(runs["this"][0])
    differing = sorted(
        t for t in base_outcomes.keys() | this_outcomes.keys()
        if base_outcomes.get(t) != this_outcomes.get(t)
    )  # fmt: skip
    print(
        f"demo config run by each: {len(base_outcomes)} trials, {len(differing)} with another "
        "status, stop, call count or gate verdict"
    )
    for trial in differing[:10]:
        print(f"  {trial}: base {base_outcomes.get(trial)} this {this_outcomes.get(trial)}")
    if differing:
        problems.append(f"{len(differing)} trials differ in outcome")
    across = spread(tokens(runs["base"][0]), tokens(runs["this"][0]))
    within = spread(tokens(runs["base"][0]), tokens(runs["base"][1]))
    print(
        f"tokens per trial: largest difference {across:.3%} between the revisions, "
        f"{within:.3%} between two runs of the base revision"
    )
    print(json.dumps({"work": str(work), "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
