"""Harness overhead per trial: a trial's wall time beyond its model time and its judge time.

Runs a config in this process through the Python API (`armbench.run`), with simulated models
(they answer at once: their latency is simulated, never slept) so that model time does not hide
the harness's. Each trial is timed from the inside: the functions a trial passes through are
wrapped with timers (monkeypatched here, nothing in armbench is changed) and each timer's time
is charged to the trial its thread is running:

- `total`: `run_trial` in the worker thread (set-up, the arm, the judge, the record and its
  transcript's text, removing the workspace) plus the driver's `write_trial` (the transcript's
  file, the record's transaction);
- `model`: inside the models' `complete` (the sim computing its answer and its accounting);
- `judge`: inside the attempt's `judge` (its gates, and any wait for a CPU slot);
- `prepare`: building the task's template (checkers run: once per task and injection seed,
  shared by every arm; taken out like the judge and reported apart);

and the **overhead**, `total - model - judge - prepare`, is broken down into

- `setup`: the workspace: a copy of the prepared template, the warm checker caches, the
  Environment;
- `commands`: the agent's tool commands (`Environment.run` outside the judge): their process
  start-up, and the work the agent asked for (a check it runs: mypy, pytest), which is the
  agent's, not the harness's;
- `record`: the transcript (with the workspace's diff), the record, redaction, writing both;
- `other`: the rest: the agent loop, prompts, the guard, removing the workspace.

**Harness overhead** is the overhead less the commands' own work: `overhead - commands +
commands × start-up`, a command's start-up being the median time of `true` (through bash, as
the agent's commands go) in the run's sandbox, measured here first. Median and p90 per trial are
printed for each workload: `agentic` (the demo pack's three tasks, solo sim) and `single-shot`
(the oneshot pack's ten, one sim call each). The aim (issue 12): under 0.25 s per trial.

Run at --concurrency 1 by default, so contention does not inflate the figures. The machine may
be shared; its load average is printed before and after.

    .venv/bin/python benchmarks/harness_overhead.py [--workloads agentic,single-shot]
        [--replicates 3] [--concurrency 1] [--sandbox auto|bwrap|local] [--json OUT]
        [--profile OUT.prof]

`--profile` runs the agentic workload's trials under cProfile (each in the worker thread that
runs it, which needs --concurrency 1) and writes the statistics (`python -m pstats OUT.prof`).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a sibling module, not a package
from benchlib import ROOT, load, machine, p90, show_machine

import armbench
from armbench.config import parse_config
from armbench.env import EnvironmentFactory, SandboxMounts, choose_backend
from armbench.env.bwrap import BwrapEnvironment
from armbench.env.local import LocalEnvironment
from armbench.models.anthropic_messages import AnthropicMessagesModel
from armbench.models.openai_chat import OpenAIChatModel
from armbench.models.script import ScriptModel
from armbench.runner import attempts, prepared_cache, run, trial
from armbench.runner.backends import local
from armbench.sim.model import SimModel

PRICES = Path(armbench.__file__).parent / "examples" / "demo-prices.toml"
WORKLOADS: dict[str, dict[str, Any]] = {
    "agentic": {
        "pack": "demo",
        "models": {"strong": {"provider": "sim", "skill": 0.95, "verbosity": 0.6}},
        "arms": {"solo": {"kind": "solo", "model": "strong"}},
    },
    "single-shot": {
        "pack": "oneshot",
        "models": {"cheap": {"provider": "sim", "skill": 0.8, "verbosity": 0.4}},
        "arms": {"oneshot": {"kind": "single_shot", "model": "cheap"}},
    },
}
PARTS = ("setup", "commands", "record", "other")
EXCLUSIVE = frozenset({"judge", "prepare"})
"""Time inside these is theirs alone: a command the judge runs is the judge's."""


class Timers:
    """Per-trial sums of the time spent inside wrapped functions, by label."""

    def __init__(self) -> None:
        self.by_trial: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.commands: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.profiler: cProfile.Profile | None = None
        """When set, enabled inside each trial (it profiles the thread it is enabled in)."""

    def _stack(self) -> list[str]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        stack: list[str] = self._local.stack
        return stack

    @contextmanager
    def trial(self, trial_id: str) -> Iterator[None]:
        self._local.trial = trial_id
        try:
            yield
        finally:
            self._local.trial = None

    def charge(self, trial_id: str | None, label: str, seconds: float) -> None:
        if trial_id is not None:
            with self._lock:
                self.by_trial[trial_id][label] += seconds
                if label == "commands":
                    self.commands[trial_id] += 1

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Time `owner.name` (a function or method) as `label` for the running trial."""
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._stack()
            counted = not EXCLUSIVE.intersection(stack)
            stack.append(label)
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                stack.pop()
                if counted:
                    self.charge(getattr(self._local, "trial", None), label, elapsed)

        setattr(owner, name, timed)

    def install(self) -> None:
        original_run_trial = local.run_trial  # type: ignore[attr-defined]

        @functools.wraps(original_run_trial)
        def run_trial(plan: Any, ctx: Any) -> Any:
            with self.trial(plan.trial_id):
                started = time.perf_counter()
                profiler = self.profiler
                try:
                    if profiler is None:
                        return original_run_trial(plan, ctx)
                    return profiler.runcall(original_run_trial, plan, ctx)
                finally:
                    self.charge(plan.trial_id, "total", time.perf_counter() - started)

        local.run_trial = run_trial  # type: ignore[attr-defined]
        original_write = run.write_trial

        @functools.wraps(original_write)
        def write_trial(run_dir: Any, db: Any, result: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_write(run_dir, db, result)
            finally:
                elapsed = time.perf_counter() - started
                self.charge(result.record.trial_id, "total", elapsed)
                self.charge(result.record.trial_id, "record", elapsed)

        run.write_trial = write_trial
        self.wrap(trial, "_set_up", "setup")
        self.wrap(trial, "_record", "record")
        self.wrap(trial, "redacted", "record")
        self.wrap(prepared_cache, "prepare", "prepare")
        for attempt in (attempts.AgenticAttempt, attempts.SingleShotAttempt):
            self.wrap(attempt, "judge", "judge")
        for model in (SimModel, ScriptModel, AnthropicMessagesModel, OpenAIChatModel):
            self.wrap(model, "complete", "model")
        for env in (BwrapEnvironment, LocalEnvironment):
            self.wrap(env, "run", "commands")


def startup_s(sandbox: str) -> tuple[str, float]:
    """The run's backend, and the median time of `true` run through bash in it."""
    backend, _ = choose_backend(sandbox)  # type: ignore[arg-type]
    factory = EnvironmentFactory(backend, mounts=SandboxMounts.for_python(sys.executable))
    with tempfile.TemporaryDirectory(prefix="armbench-overhead-") as folder:
        env = factory(Path(folder))
        times = []
        for _ in range(25):
            started = time.perf_counter()
            env.run("true", timeout_s=30)
            times.append(time.perf_counter() - started)
    return backend, statistics.median(times[5:])


def run_workload(
    name: str, args: argparse.Namespace, out: Path, timers: Timers, start_s: float
) -> dict[str, Any]:
    spec = WORKLOADS[name]
    raw = {
        "name": f"overhead-{name}",
        "pack": spec["pack"],
        "replicates": args.replicates,
        "seed": 7,
        "rate_card": str(PRICES),
        "concurrency": args.concurrency,
        "sandbox": args.sandbox,
        "models": spec["models"],
        "arms": spec["arms"],
    }
    config = parse_config(raw, source="harness_overhead.py", base_dir=ROOT)
    load_before = load()
    started = time.perf_counter()
    timers.profiler = cProfile.Profile() if args.profile and name == "agentic" else None
    result = armbench.run(config, out=out)
    if timers.profiler is not None:
        timers.profiler.dump_stats(args.profile)
        timers.profiler = None
    wall = time.perf_counter() - started
    rows: list[dict[str, Any]] = []
    for record in result.records:
        t = timers.by_trial[record.trial_id]
        overhead = t["total"] - t["model"] - t["judge"] - t["prepare"]
        setup = t["setup"] - t["prepare"]
        commands = t["commands"]
        record_s = t["record"]
        n = timers.commands[record.trial_id]
        rows.append(
            {
                "trial_id": record.trial_id,
                "status": record.status,
                "total": t["total"],
                "model": t["model"],
                "judge": t["judge"],
                "prepare": t["prepare"],
                "overhead": overhead,
                "setup": setup,
                "commands": commands,
                "n_commands": n,
                "record": record_s,
                "other": overhead - setup - commands - record_s,
                "harness": overhead - commands + n * start_s,
            }
        )
    keys = ("total", "model", "judge", "overhead", "harness", *PARTS, "n_commands")
    summary = {
        key: {
            "median": statistics.median(r[key] for r in rows),
            "p90": p90([r[key] for r in rows]),
        }
        for key in keys
    }
    prepared = [r["prepare"] for r in rows if r["prepare"]]
    return {
        "workload": name,
        "trials": len(rows),
        "statuses": dict(result.statuses()),
        "wall_s": wall,
        "summary": summary,
        "templates_prepared": len(prepared),
        "prepare_s_median": statistics.median(prepared) if prepared else None,
        "load_before": load_before,
        "load_after": load(),
        "trials_detail": rows,
    }


def show(row: dict[str, Any]) -> None:
    s = row["summary"]
    print(
        f"\n{row['workload']}: {row['trials']} trials "
        f"({', '.join(f'{k} {v}' for k, v in sorted(row['statuses'].items()))}) "
        f"in {row['wall_s']:.1f} s; load before {row['load_before']}, after {row['load_after']}"
    )
    if row["templates_prepared"]:
        print(
            f"  templates prepared: {row['templates_prepared']} (median "
            f"{row['prepare_s_median']:.2f} s each, once per task and injection seed; not in "
            "the overhead)"
        )
    print(f"  {'per trial, s':<34}{'median':>8}{'p90':>8}")
    labels = [
        ("total", "total"),
        ("model", "model (sim compute)"),
        ("judge", "judge"),
        ("overhead", "overhead = total - model - judge"),
        ("setup", "  setup (workspace copy, env)"),
        ("commands", "  agent's commands (whole)"),
        ("record", "  record (transcript, db)"),
        ("other", "  other (loop, guard, cleanup)"),
        ("harness", "harness overhead"),
        ("n_commands", "commands per trial"),
    ]
    for key, label in labels:
        print(f"  {label:<34}{s[key]['median']:>8.3f}{s[key]['p90']:>8.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="agentic,single-shot", help="which, in order")
    parser.add_argument("--replicates", type=int, default=3, help="replicates of each task")
    parser.add_argument("--concurrency", type=int, default=1, help="trials at once")
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "local"), default="auto")
    parser.add_argument("--profile", type=Path, help="cProfile the agentic workload to here")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    info = machine()
    show_machine(info)
    backend, start_s = startup_s(args.sandbox)
    info["backend"] = backend
    info["command_startup_s"] = round(start_s, 4)
    print(f"a command's start-up (`true` through bash, {backend}, median of 20): {start_s:.4f} s")
    timers = Timers()
    timers.install()
    results = []
    with tempfile.TemporaryDirectory(prefix="armbench-overhead-runs-") as out:
        for name in args.workloads.split(","):
            row = run_workload(name, args, Path(out), timers, start_s)
            show(row)
            results.append(row)
    info["load_after"] = load()
    print(f"\nload after: {info['load_after']} (aim: harness overhead under 0.25 s per trial)")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "workloads": results}, indent=2) + "\n")
    infra = sum(r["statuses"].get("infra_error", 0) for r in results)
    if infra:
        print(f"{infra} infra errors: the figures are meaningless")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
