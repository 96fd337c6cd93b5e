"""Throughput at concurrency 16 over concurrency 1, with one second of real model latency per call.

Starts `armbench serve-sim` (a subprocess on a free loopback port) with the fault `slow=1,times=0`:
every model call waits --slow seconds before the sim answers. Runs one config with `armbench run`
(a subprocess, the real path: preflight, the bubblewrap sandbox, the judge, the store) at each
--concurrency in turn; its one arm is single-shot on a real provider (`anthropic` through the
official SDK, or `openai` with --api openai) whose `base_url` is the server, a dummy key in the
environment, priced by a rate card written beside the config. The workload is the `oneshot`
pack's single-shot tasks (one call each, judged by running the answer's code) but `rle-cli`
(--tasks '' for all ten): many trials whose model time dominates, so that the harness's
concurrency is what is measured rather than the CPU. Even so the judge of one of them takes
0.05-0.16 s of CPU under bubblewrap (its sandboxes, the answer's interpreter; `rle-cli`'s 0.76
s): at the 13 trials a second that 16 at once could reach, that is most of 2 cores.

For each concurrency: trials recorded, the execution's span (first trial's start to last
trial's record, read from the run's database; preflight is not in it) and the whole command's
wall time, trials per minute over the span, and per trial the median model time (ledger
latency), judge time (the gates' `duration_s`) and the rest of its span (setting up, waiting
for a judge's CPU slot, recording). The CPU: the machine's busy share over the span (every
process, the server's and other users' included), and the CPU seconds of armbench's process
tree (a cgroup-v1 `cpuacct` group, as root; not counted elsewhere) and of the server. Then the
ratio of trials per minute at the last concurrency over the first (with --rounds N, the
concurrencies run N times in turn, so that a change in the machine's load hits each, and the
median ratio is given). The aim (issue 12): 12× or more from 1 to 16 on 2 cores.

A run whose trials are not all recorded, or any of which is an infra error, or whose calls did
not all wait the slow fault, makes the figures meaningless: the script says so and exits 1. The
machine may be shared; its load average is printed before and after each run.

    .venv/bin/python benchmarks/throughput.py [--concurrency 1,16] [--replicates 8]
        [--api anthropic|openai] [--slow 1] [--tasks ID,...] [--sandbox auto|bwrap|local]
        [--set KEY=VALUE ...] [--rounds N] [--keep DIR] [--json OUT]

`--set` passes config overrides to every run (e.g. `judge_concurrency=8`,
`rate_limits={anthropic: {max_connections: 4}}`), for finding out what limits throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a sibling module, not a package
from benchlib import (
    ARMBENCH,
    CpuGroup,
    SimServer,
    Trial,
    load,
    machine,
    machine_cpu,
    read_trials,
    serve_sim,
    show_machine,
)

MODEL = "claude-sim"
KINDS = {
    "anthropic": "input = 1.0\noutput = 5.0\ncache_write_5m = 1.25\ncache_write_1h = 2.0\n"
    "cache_read = 0.1\n",
    "openai": "input = 1.0\noutput = 5.0\ncache_read = 0.1\n",
}
KEY_VARIABLE = "ARMBENCH_BENCH_API_KEY"
LIGHT_TASKS = (
    "csv-totals",
    "date-merge",
    "ini-to-json",
    "json-reshape",
    "log-counts",
    "roman",
    "table-format",
    "template",
    "word-freq",
)
"""The oneshot pack less `rle-cli`, whose hidden checker takes some 0.8 s of CPU per trial,
five to fifteen times the others' judging: on 2 cores it alone would make the CPU the limit."""


def write_config(folder: Path, api: str, base_url: str, args: argparse.Namespace) -> Path:
    (folder / "prices.toml").write_text(f'[models."{api}/{MODEL}"]\n{KINDS[api]}')
    tasks = f"tasks: [{args.tasks}]\n" if args.tasks else ""
    config = folder / "throughput.yaml"
    config.write_text(
        "name: throughput\n"
        f"pack: {args.pack}\n{tasks}"
        f"replicates: {args.replicates}\n"
        "seed: 1\n"
        "rate_card: prices.toml\n"
        f"sandbox: {args.sandbox}\n"
        "models:\n"
        f"  m: {{provider: {api}, model: {MODEL}, base_url: '{base_url}',"
        f" api_key_env: {KEY_VARIABLE}}}\n"
        "arms:\n"
        "  one: {kind: single_shot, model: m}\n"
    )
    return config


class Sampler:
    """Samples the machine's CPU, armbench's cgroup and the server every 0.25 s, so the CPU used
    within the execution's span (known only afterwards) can be read off."""

    def __init__(self, group: CpuGroup, server: SimServer) -> None:
        self.samples: list[tuple[float, float, float, float | None, float | None]] = []
        self._group, self._server = group, server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        busy, total = machine_cpu()
        self.samples.append((time.time(), busy, total, self._group.cpu_s(), self._server.cpu_s()))

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(0.25):
                self._sample()
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> dict[str, float | None]:
        """CPU used from the last sample at or before `start` to the first at or after `end`."""
        first = max((s for s in self.samples if s[0] <= start), default=self.samples[0])
        last = min((s for s in self.samples if s[0] >= end), default=self.samples[-1])
        elapsed = last[0] - first[0]
        cores = os.cpu_count() or 1

        def used(i: int) -> float | None:
            a, b = first[i], last[i]
            return None if a is None or b is None else b - a

        total = last[2] - first[2]
        group, server = used(3), used(4)
        return {
            "window_s": elapsed,
            "machine_busy": (last[1] - first[1]) / total if total else None,
            "armbench_cpu_s": group,
            "armbench_cores": group / elapsed if group is not None and elapsed else None,
            "server_cpu_s": server,
            "server_cores": server / elapsed if server is not None and elapsed else None,
            "cores": cores,
        }


def one_run(
    config: Path, concurrency: int, args: argparse.Namespace, server: SimServer, out: Path
) -> dict[str, Any]:
    """`armbench run` at `concurrency`; its figures."""
    argv = [str(ARMBENCH), "run", str(config), "--out", str(out)]
    for item in [f"concurrency={concurrency}", *args.set]:
        argv += ["--set", item]
    env = {**os.environ, KEY_VARIABLE: "armbench-benchmark-not-a-key"}
    group = CpuGroup(f"armbench-throughput-{os.getpid()}-{concurrency}")
    before = server.stats()
    load_before = load()
    try:
        with Sampler(group, server) as sampler:
            started = time.monotonic()
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, preexec_fn=group.join
            )
            wall = time.monotonic() - started
    finally:
        group.remove()
    after = server.stats()
    load_after = load()
    if done.returncode != 0:
        raise SystemExit(
            f"armbench run exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    run_dir = Path(done.stdout.strip().splitlines()[-1].split()[-1])
    trials = read_trials(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    span_start = min(t.started_at for t in trials)
    span_end = max(t.ended_at for t in trials)
    span = span_end - span_start
    requests = after["requests"] - before["requests"]
    slowed = after["faults_applied"].get("slow", 0) - before["faults_applied"].get("slow", 0)
    problems = []
    if len(trials) != manifest["trials_planned"]:
        problems.append(f"{len(trials)} trials recorded of {manifest['trials_planned']} planned")
    infra = [t for t in trials if t.status == "infra_error"]
    if infra:
        problems.append(f"{len(infra)} infra errors, e.g. {infra[0].trial_id}")
    if slowed != requests:
        problems.append(f"{slowed} of {requests} requests slowed")

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    def rest(t: Trial) -> float:
        return t.span_s - t.real_model_s - t.gates_s

    return {
        "concurrency": concurrency,
        "run_dir": str(run_dir),
        "trials": len(trials),
        "planned": manifest["trials_planned"],
        "statuses": {
            s: sum(t.status == s for t in trials) for s in sorted({t.status for t in trials})
        },
        "requests": requests,
        "span_s": span,
        "command_wall_s": wall,
        "trials_per_min": 60 * len(trials) / span,
        "model_s_median": median([t.real_model_s for t in trials]),
        "judge_s_median": median([t.gates_s for t in trials]),
        "rest_s_median": median([rest(t) for t in trials]),
        "trial_span_s_median": median([t.span_s for t in trials]),
        "judge_share": sum(t.gates_s for t in trials) / sum(t.span_s for t in trials),
        "cpu": sampler.between(span_start, span_end),
        "load_before": load_before,
        "load_after": load_after,
        "problems": problems,
    }


def show(row: dict[str, Any]) -> None:
    cpu = row["cpu"]

    def share(value: float | None, unit: str = "") -> str:
        return "not measured" if value is None else f"{value:.2f}{unit}"

    print(
        f"\nconcurrency {row['concurrency']}: {row['trials']} trials "
        f"({', '.join(f'{k} {v}' for k, v in row['statuses'].items())}), "
        f"{row['requests']} requests"
    )
    print(
        f"  span {row['span_s']:.1f} s (command {row['command_wall_s']:.1f} s): "
        f"{row['trials_per_min']:.1f} trials/min"
    )
    print(
        f"  per trial, median: span {row['trial_span_s_median']:.2f} s = model "
        f"{row['model_s_median']:.2f} s + judge {row['judge_s_median']:.2f} s + rest "
        f"{row['rest_s_median']:.2f} s; judging is {row['judge_share']:.0%} of trial time"
    )
    busy = cpu["machine_busy"]
    print(
        f"  CPU over the span: machine {'?' if busy is None else f'{busy:.0%}'} busy "
        f"(every process, {cpu['cores']} cores); armbench's tree "
        f"{share(cpu['armbench_cores'], ' cores')}, "
        f"serve-sim {share(cpu['server_cores'], ' cores')}"
    )
    print(f"  load before {row['load_before']}, after {row['load_after']}")
    for problem in row["problems"]:
        print(f"  PROBLEM: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,16", help="concurrencies, in order")
    parser.add_argument("--replicates", type=int, default=8, help="replicates of each task")
    parser.add_argument("--api", choices=("anthropic", "openai"), default="anthropic")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds each call waits")
    parser.add_argument("--pack", default="oneshot", help="a pack of single-shot tasks")
    parser.add_argument(
        "--tasks", default=",".join(LIGHT_TASKS), help="a comma-separated subset ('': all)"
    )
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "local"), default="auto")
    parser.add_argument("--set", action="append", default=[], help="config override, repeatable")
    parser.add_argument("--rounds", type=int, default=1, help="times to run the concurrencies")
    parser.add_argument("--keep", type=Path, help="keep the runs in this folder")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    info = machine()
    show_machine(info)
    scratch = Path(tempfile.mkdtemp(prefix="armbench-throughput-"))
    out = args.keep or scratch / "runs"
    rows = []
    try:
        with serve_sim(args.api, [f"slow={args.slow:g},times=0"], [args.pack]) as server:
            print(f"serve-sim: {server.base_url}, every call slowed {args.slow:g} s")
            config = write_config(scratch, args.api, server.base_url, args)
            for round_ in range(args.rounds):
                for level in levels:
                    row = one_run(config, level, args, server, out)
                    row["round"] = round_ + 1
                    show(row)
                    rows.append(row)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratios = []
    for round_ in range(args.rounds):
        low, high = rows[round_ * len(levels)], rows[(round_ + 1) * len(levels) - 1]
        ratios.append(high["trials_per_min"] / low["trials_per_min"])
    ratio = statistics.median(ratios)
    info["load_after"] = load()
    each = f" (rounds: {', '.join(f'{r:.1f}×' for r in ratios)})" if args.rounds > 1 else ""
    print(
        f"\nthroughput at concurrency {levels[-1]} over {levels[0]}: {ratio:.1f}×{each} "
        "(aim: 12× from 1 to 16 on 2 cores)"
    )
    print(f"load after: {info['load_after']}")
    if args.json:
        report = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
        figures = {"runs": rows, "ratio": ratio, "ratios": ratios}
        args.json.write_text(json.dumps({**report, **figures}, indent=2) + "\n")
    problems = [p for row in rows for p in row["problems"]]
    if problems:
        print(f"{len(problems)} problems: the figures are meaningless")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
