"""How the readers of the store fare on a large run: 100,000 trials and 5,000,000 ledger rows.

Builds a synthetic run (benchmarks/synthetic_store.py) and times it, then runs the venv's
`armbench report RUN --json OUT` and `armbench show RUN` as subprocesses, one at a time, and
prints each one's wall time, peak resident memory (from wait4's rusage of that very child) and
exit code. A command that runs past --timeout or grows past --max-rss-mib is killed and shown as
such: `show` loads every ledger row as a Python object, and the machine is shared.

    .venv/bin/python benchmarks/report_100k.py [--trials 100000] [--calls 5000000]
        [--keep DIR | --reuse RUN_DIR] [--commands report,show,export]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from armbench.store.rundir import DATABASE

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a sibling script, not a package
from synthetic_store import build

ARMBENCH = Path(sys.executable).parent / "armbench"
TABLES = ("trials", "calls")


@dataclass(frozen=True)
class Timing:
    step: str
    wall_s: float
    peak_rss_mib: float | None
    exit_code: int | None
    note: str = ""


def _rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def timed(step: str, argv: list[str], log: Path, timeout_s: float, max_rss_mib: float) -> Timing:
    """Run `argv`, its output to `log`; kill it past the time or memory limit."""
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        why: list[str] = []
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.5):
                rss = _rss_mib(proc.pid)
                over_time = time.perf_counter() - started > timeout_s
                if over_time or (rss is not None and rss > max_rss_mib):
                    why.append(
                        f"killed after {timeout_s:.0f} s"
                        if over_time
                        else f"killed at {rss:.0f} MiB RSS"
                    )
                    os.kill(proc.pid, signal.SIGKILL)
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # wait4 reports the peak RSS of this child alone (RUSAGE_CHILDREN would be the max
        # over every child so far); Popen is not asked again, so there is no double wait.
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    note = why[0] if why else ("" if proc.returncode == 0 else f"see {log}")
    return Timing(step, wall, usage.ru_maxrss / 1024, proc.returncode, note)


def available(verb: str) -> bool:
    probe = subprocess.run([str(ARMBENCH), verb, "--help"], capture_output=True, check=False)
    return probe.returncode == 0


def print_table(rows: list[Timing], run: Path) -> None:
    db = run / DATABASE
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        trials, calls = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
    size = db.stat().st_size / 2**20
    print(f"\nrun: {run}\n{trials:,} trials, {calls:,} ledger rows, database {size:,.0f} MiB")
    print(f"{'step':<16} {'wall s':>9} {'peak RSS MiB':>13} {'exit':>5}  note")
    for r in rows:
        rss = "—" if r.peak_rss_mib is None else f"{r.peak_rss_mib:,.0f}"
        code = "—" if r.exit_code is None else str(r.exit_code)
        print(f"{r.step:<16} {r.wall_s:>9.1f} {rss:>13} {code:>5}  {r.note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=0)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", type=Path, help="Build the run inside DIR and keep it.")
    where.add_argument("--reuse", type=Path, help="Time an existing run directory; no build.")
    parser.add_argument("--commands", default="report,show", help="Of report, show, export.")
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds per command.")
    parser.add_argument("--max-rss-mib", type=float, default=12_000.0)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="armbench-100k-"))
    rows: list[Timing] = []
    try:
        if args.reuse is not None:
            run = args.reuse
        else:
            parent = args.keep if args.keep is not None else scratch
            run = parent / f"synthetic-{args.trials}-{args.calls}-s{args.seed}"
            started = time.perf_counter()
            build(run, args.trials, args.calls, args.seed)
            rows.append(Timing("build", time.perf_counter() - started, None, 0))
            print(f"built {run} in {rows[-1].wall_s:.1f} s", flush=True)
        argvs = {
            "report": ["report", str(run), "--json", str(scratch / "report.json")],
            "show": ["show", str(run)],
            "export": [
                "export",
                str(run),
                "--calls",
                "--format",
                "parquet",
                "-o",
                str(scratch / "calls.parquet"),
            ],
        }
        for name in args.commands.split(","):
            if not available(argvs[name][0]):
                rows.append(Timing(name, 0.0, None, None, "not available in this armbench"))
                continue
            timing = timed(
                name,
                [str(ARMBENCH), *argvs[name]],
                scratch / f"{name}.log",
                args.timeout,
                args.max_rss_mib,
            )
            rows.append(timing)
            print(f"{name}: {timing.wall_s:.1f} s {timing.note}", flush=True)
        print_table(rows, run)
    finally:
        failed = any(r.exit_code not in (0, None) for r in rows)
        if failed:
            print(f"logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
