"""What the run benchmarks share (throughput.py, harness_overhead.py, budget_overshoot.py): the
machine and its load, CPU accounting, percentiles, serve-sim as a subprocess, a run's trials.

Not a benchmark itself; the scripts import it as a sibling module.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import select
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARMBENCH = Path(sys.executable).parent / "armbench"


def p90(values: Sequence[float]) -> float:
    """The nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the figures came from: platform, CPUs, Python, bubblewrap, the load now."""
    try:
        found = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10)
        bwrap = found.stdout.strip() or found.stderr.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        bwrap = f"not runnable ({exc})"
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "bwrap": bwrap,
        "load_before": load(),
    }


def show_machine(info: dict[str, Any]) -> None:
    for key, value in info.items():
        print(f"{key:>12}: {value}")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every process included."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user
    return (total - idle) / tick, total / tick


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one live process (all its threads), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuGroup:
    """A cgroup-v1 `cpuacct` group that a command and everything it starts are put in, so their
    CPU time is counted whole: commands in bubblewrap's PID namespace are not reaped by the
    process that started them, so `getrusage(RUSAGE_CHILDREN)` misses them. Needs root and a v1
    `cpuacct` hierarchy (armbench's own per-command cgroups are `pids` ones and leave this
    membership alone); elsewhere `path` is None and nothing is counted."""

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, name: str) -> None:
        self.path: Path | None = None
        folder = self.ROOT / name
        with contextlib.suppress(OSError):
            if (self.ROOT / "cpuacct.usage").exists():
                folder.mkdir(exist_ok=True)
                self.path = folder

    def join(self) -> None:
        """Put the calling process in the group (a `preexec_fn`)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def cpu_s(self) -> float | None:
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()


@dataclass
class SimServer:
    """`armbench serve-sim` running as a subprocess."""

    process: subprocess.Popen[bytes]
    base_url: str
    """What an SDK is given as its base_url (OpenAI's ends in /v1)."""
    root_url: str

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.root_url + "/_armbench/stats", timeout=10) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result

    def cpu_s(self) -> float | None:
        return process_cpu_s(self.process.pid)


@contextlib.contextmanager
def serve_sim(api: str, faults: Sequence[str], packs: Sequence[str]) -> Iterator[SimServer]:
    """Start `armbench serve-sim` on a free loopback port; stop it (SIGINT, then kill) after."""
    argv = [str(ARMBENCH), "serve-sim", "--api", api, "--port", "0"]
    for fault in faults:
        argv += ["--fault", fault]
    for pack in packs:
        argv += ["--pack", pack]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        seen = b""
        deadline = time.monotonic() + 60
        found = None
        while found is None:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise SystemExit(f"serve-sim did not start: {seen.decode(errors='replace')}")
            ready, _, _ = select.select([process.stderr], [], [], left)
            if ready:
                seen += os.read(process.stderr.fileno(), 4096)
                found = re.search(rb"on (http://\S+)", seen)
        base = found.group(1).decode()
        root = base.removesuffix("/v1")
        yield SimServer(process, base, root)
    finally:
        process.send_signal(2)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Trial:
    """One recorded trial, as the run's database holds it."""

    trial_id: str
    task: str
    status: str
    stop_reason: str
    started_at: float
    ended_at: float
    wall_s: float
    extra: dict[str, Any]
    calls: int
    model_s: float
    """Latency of its calls (real or simulated), every attempt."""
    real_model_s: float
    """Latency of its calls that were really waited for (not simulated)."""
    gates_s: float
    """The judge's gates' `duration_s`, summed."""

    @property
    def span_s(self) -> float:
        """From the trial's start to its record (set-up, agent, judge, transcript)."""
        return self.ended_at - self.started_at


def read_trials(run_dir: Path) -> list[Trial]:
    db = sqlite3.connect(f"file:{run_dir / 'armbench.sqlite'}?mode=ro", uri=True)
    try:
        calls = {
            trial_id: (n, total, real)
            for trial_id, n, total, real in db.execute(
                "SELECT trial_id, count(*), sum(latency_s),"
                " sum(CASE WHEN latency_simulated THEN 0 ELSE latency_s END)"
                " FROM calls GROUP BY trial_id"
            )
        }
        gates = dict(db.execute("SELECT trial_id, sum(duration_s) FROM gates GROUP BY trial_id"))
        rows = db.execute(
            "SELECT trial_id, task, status, stop_reason, started_at, ended_at, wall_s, extra"
            " FROM trials ORDER BY started_at"
        ).fetchall()
    finally:
        db.close()
    return [
        Trial(
            trial_id=trial_id,
            task=task,
            status=status,
            stop_reason=stop,
            started_at=started,
            ended_at=ended,
            wall_s=wall,
            extra=json.loads(extra or "{}"),
            calls=calls.get(trial_id, (0, 0.0, 0.0))[0],
            model_s=calls.get(trial_id, (0, 0.0, 0.0))[1] or 0.0,
            real_model_s=calls.get(trial_id, (0, 0.0, 0.0))[2] or 0.0,
            gates_s=gates.get(trial_id) or 0.0,
        )
        for trial_id, task, status, stop, started, ended, wall, extra in rows
    ]
