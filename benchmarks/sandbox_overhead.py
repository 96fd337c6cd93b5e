"""What armbench's bubblewrap sandbox costs over plain processes: per command, and per judge.

Two measurements, for each backend: `local`, and `bwrap` unless `armbench.env.bwrap.unavailable()`
gives a reason it cannot run here (then the reason is printed and `local` is measured alone).

1. **Per command.** The wall time of `env.run(["true"])` and of `env.run([python, "-c", "pass"])`
   on an Environment over a scratch folder, --repeat times each after --warmup runs, the backends
   taking turns so a burst of load on the machine hits both; median and p90 in ms, and the
   difference bwrap - local.
2. **Per judge.** For each agentic task of the demo pack (feature, breakage, refactor): prepare it
   once per backend (in a temp dir, under that backend; its time is shown too), then
   --judge-repeat times, backends taking turns: materialize a fresh workspace, apply the
   reference solution, and time `judge(...)` alone; median seconds, and bwrap / local.
   Every gate must pass on the reference solution or the numbers mean nothing: the script names
   the failing gates and exits 1.

The aim (the sandbox issue): the judge within 5% of local, under 20 ms of overhead per command.
The machine may be shared; its load average is printed before and after.

    .venv/bin/python benchmarks/sandbox_overhead.py [--repeat 50] [--warmup 5]
        [--judge-repeat 3] [--pack demo] [--tasks feature,breakage,refactor] [--json OUT]

On typer (`--pack typer --tasks T3 --judge-repeat 1`) the judge runs typer's whole suite with
its own locked checkers: minutes, not seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from armbench.env import EnvironmentFactory, SandboxMounts
from armbench.env.bwrap import unavailable
from armbench.judge.gates import judge
from armbench.tasks import Prepared, Task, apply_solution, load_pack, prepare

PYTHON = sys.executable
COMMANDS: dict[str, str | list[str]] = {"true": ["true"], "python -c pass": [PYTHON, "-c", "pass"]}


def p90(values: Sequence[float]) -> float:
    """The nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def machine() -> dict[str, Any]:
    try:
        found = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10)
        bwrap = found.stdout.strip() or found.stderr.strip()
    except OSError as exc:
        bwrap = f"not runnable ({exc})"
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "bwrap": bwrap,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def per_command(
    factories: dict[str, EnvironmentFactory], scratch: Path, repeat: int, warmup: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Per command and backend: median and p90 of `env.run` in ms."""
    envs = {}
    for name, factory in factories.items():
        (scratch / name).mkdir()
        envs[name] = factory(scratch / name)
    times: dict[str, dict[str, list[float]]] = {c: {b: [] for b in envs} for c in COMMANDS}
    for label, command in COMMANDS.items():
        for i in range(warmup + repeat):
            for backend, env in envs.items():
                started = time.perf_counter()
                result = env.run(command, timeout_s=30)
                elapsed = time.perf_counter() - started
                if not result.ok:
                    raise SystemExit(f"{backend}: `{label}` failed: {result.output[-2000:]}")
                if i >= warmup:
                    times[label][backend].append(elapsed * 1000)
    return {
        label: {b: {"median_ms": statistics.median(v), "p90_ms": p90(v)} for b, v in by.items()}
        for label, by in times.items()
    }


def per_judge(
    factories: dict[str, EnvironmentFactory], tasks: list[Task], scratch: Path, repeat: int
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per task and backend: the prepare time, the judge's median time, gate medians; and the
    gates that failed on the reference solution."""
    found: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for task in tasks:
        prepared: dict[str, Prepared] = {}
        row: dict[str, Any] = {}
        for backend, factory in factories.items():
            started = time.perf_counter()
            template = scratch / f"{task.id}-{backend}-template"
            prepared[backend] = prepare(
                task, template, inject_seed=1, python=PYTHON, environments=factory
            )
            row[f"prepare_s_{backend}"] = time.perf_counter() - started
        judge_s: dict[str, list[float]] = {b: [] for b in factories}
        gate_s: dict[str, dict[str, list[float]]] = {b: {} for b in factories}
        for i in range(repeat):
            for backend, factory in factories.items():
                workspace = scratch / f"{task.id}-{backend}-ws{i}"
                prepared[backend].materialize(workspace)
                apply_solution(workspace, prepared[backend].solution)
                started = time.perf_counter()
                gates = judge(workspace, prepared[backend], python=PYTHON, environments=factory)
                elapsed = time.perf_counter() - started
                judge_s[backend].append(elapsed)
                for gate in gates:
                    gate_s[backend].setdefault(gate.name, []).append(gate.duration_s)
                    if not gate.passed:
                        why = gate.details or gate.output_tail[-300:] or "failed"
                        failed.append(f"{task.id} [{backend}, run {i + 1}] {gate.name}: {why}")
        for backend in factories:
            row[f"judge_s_{backend}"] = statistics.median(judge_s[backend])
            row[f"gates_s_{backend}"] = {
                g: round(statistics.median(v), 3) for g, v in gate_s[backend].items()
            }
        found[task.id] = row
    return found, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed runs of each command")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before them")
    parser.add_argument("--judge-repeat", type=int, default=3, help="timed judges per task")
    parser.add_argument("--pack", default="demo", help="the pack whose tasks are judged")
    parser.add_argument("--tasks", default="feature,breakage,refactor", help="its tasks")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    wall = time.perf_counter()
    info = machine()
    for key, value in info.items():
        print(f"{key:>12}: {value}")
    pack = load_pack(args.pack)
    # A pack with a toolchain of its own is judged by it: the sandbox must be able to read it.
    own = [pack.setup.python(PYTHON)] if pack.setup is not None else []
    mounts = SandboxMounts.for_python(PYTHON, also=own)
    backends = ["local", "bwrap"]
    why = unavailable()
    if why is not None:
        print(f"bwrap not measured: {why}")
        backends = ["local"]
    factories = {b: EnvironmentFactory(backend=b, mounts=mounts) for b in backends}
    tasks = []
    for task_id in args.tasks.split(","):
        task = pack.task(task_id)
        assert isinstance(task, Task), f"{task_id} is not an agentic task"
        tasks.append(task)
    both = len(backends) == 2

    with tempfile.TemporaryDirectory(prefix="armbench-sandbox-overhead-") as tmp:
        commands = per_command(factories, Path(tmp), args.repeat, args.warmup)
        print(f"\nper command ({args.repeat} runs after {args.warmup} warm-up), ms")
        head = "".join(f"  {b + ' med':>10}  {b + ' p90':>10}" for b in backends)
        print(f"{'command':<16}{head}" + (f"  {'Δ med':>8}  {'Δ p90':>8}" if both else ""))
        for label, by in commands.items():
            cells = "".join(
                f"  {by[b]['median_ms']:>10.2f}  {by[b]['p90_ms']:>10.2f}" for b in backends
            )
            if both:
                for stat in ("median_ms", "p90_ms"):
                    by.setdefault("delta", {})[stat] = by["bwrap"][stat] - by["local"][stat]
                cells += f"  {by['delta']['median_ms']:>+8.2f}  {by['delta']['p90_ms']:>+8.2f}"
            print(f"{label:<16}{cells}")
        judged, failed = per_judge(factories, tasks, Path(tmp), args.judge_repeat)

    print(f"\njudge on the reference solution (median of {args.judge_repeat}), s")
    head = "".join(f"  {'prep ' + b:>11}  {'judge ' + b:>12}" for b in backends)
    print(f"{'task':<10}{head}" + (f"  {'bwrap/local':>11}" if both else ""))
    for task_id, row in judged.items():
        cells = "".join(
            f"  {row[f'prepare_s_{b}']:>11.2f}  {row[f'judge_s_{b}']:>12.2f}" for b in backends
        )
        if both:
            row["ratio"] = row["judge_s_bwrap"] / row["judge_s_local"]
            cells += f"  {row['ratio']:>11.3f}"
        print(f"{task_id:<10}{cells}")
    for task_id, row in judged.items():
        for b in backends:
            gates = ", ".join(f"{g} {s:.2f}" for g, s in row[f"gates_s_{b}"].items())
            print(f"  {task_id} gates ({b}, median s): {gates}")
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["wall_s"] = round(time.perf_counter() - wall, 1)
    print(f"\nload after: {info['load_after']}; wall time {info['wall_s']} s")
    if args.json:
        report = {"machine": info, "backends": backends, "commands": commands, "judge": judged}
        args.json.write_text(json.dumps({**report, "failed": failed}, indent=2) + "\n")
    if failed:
        print(f"\n{len(failed)} gate runs FAILED on the reference solution; figures meaningless:")
        for line in failed:
            print(f"  {line}")
        return 1
    print("every gate passed on the reference solution, under every backend")
    return 0


if __name__ == "__main__":
    sys.exit(main())
