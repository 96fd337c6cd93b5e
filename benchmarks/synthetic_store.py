"""A synthetic run directory of realistic shape and any size, for timing the readers of the store.

8 arms (4 solo, 2 orchestrated, 2 routed) × 25 tasks × as many replicates as it takes, every
status (infra errors with their class), every role, the six token kinds with prompts that grow
over a trial and are mostly cache reads, retried attempts, simulated latencies, the delegation
tax of orchestrated trials, routing decisions, two or three gates per judged trial, and empty
transcript paths (''). The same arguments give byte-identical database rows.

Rows are bulk-inserted with sqlite3 `executemany` in one transaction, with the journal and
fsync off: going through `TrialRecord` objects and `RunDatabase.record` would take longer than
the readers being measured. The schema is the real one: `RunDatabase` creates it, and the
manifest is a real `Manifest` with a config that `parse_config` accepts and a rate card that
prices every model. The numbers measure nothing: the manifest says `simulated: true`.

    .venv/bin/python benchmarks/synthetic_store.py OUT_PARENT [--trials 100000] [--calls 5000000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from armbench import __version__
from armbench.config import parse_config
from armbench.core import TOKEN_KINDS
from armbench.pricing.effective import card_record
from armbench.pricing.ratecard import RateCard
from armbench.store.db import RunDatabase
from armbench.store.rundir import DATABASE, TRANSCRIPTS, Manifest, RunDirectory

T0 = 1_790_000_000.0
"""When the synthetic run started (2026-09-21)."""
CHUNK_TRIALS = 4_000
"""Trials whose calls are generated and inserted at a time: bounds memory, fixes determinism."""

# --- what was "run" ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SimModel:
    key: str
    skill: float
    cached: bool
    """Prompt caching (Anthropic-like); the local model re-reads its whole prompt every call."""
    tokens_per_s: float
    reasoning_share: float
    """Of its output, on calls that reason."""


MODELS = (
    SimModel("opus", 0.95, True, 55.0, 0.3),
    SimModel("sonnet", 0.9, True, 75.0, 0.25),
    SimModel("haiku", 0.75, True, 140.0, 0.0),
    SimModel("qwen-9b", 0.55, False, 28.0, 0.5),
)
MODEL_INDEX = {m.key: i for i, m in enumerate(MODELS)}
RATES = {
    "sim/opus": {
        "input": 5.0,
        "output": 25.0,
        "cache_write_5m": 6.25,
        "cache_write_1h": 10.0,
        "cache_read": 0.5,
    },
    "sim/sonnet": {
        "input": 3.0,
        "output": 15.0,
        "cache_write_5m": 3.75,
        "cache_write_1h": 6.0,
        "cache_read": 0.3,
    },
    "sim/haiku": {
        "input": 1.0,
        "output": 5.0,
        "cache_write_5m": 1.25,
        "cache_write_1h": 2.0,
        "cache_read": 0.1,
    },
    "sim/qwen-9b": {"local": True, "per_hour": 0.5},
}


@dataclass(frozen=True)
class Arm:
    name: str
    kind: str
    config: dict[str, Any]
    strength: float
    """Log-odds of a pass on a task of average difficulty."""
    limit_rate: float
    call_weight: float
    """Relative number of calls per trial."""
    main: str
    """Model of `solo` (solo arms), `orchestrator`, or the cloud model (routed)."""
    second: str = ""
    """Executor (orchestrated) or local model (routed)."""
    cloud_share: float = 0.0
    router: str = ""


ARMS = (
    Arm("opus-solo", "solo", {"kind": "solo", "model": "opus"}, 1.6, 0.03, 0.9, "opus"),
    Arm("sonnet-solo", "solo", {"kind": "solo", "model": "sonnet"}, 1.2, 0.04, 1.0, "sonnet"),
    Arm("haiku-solo", "solo", {"kind": "solo", "model": "haiku"}, 0.2, 0.08, 1.1, "haiku"),
    Arm("qwen-solo", "solo", {"kind": "solo", "model": "qwen-9b"}, -0.8, 0.14, 1.3, "qwen-9b"),
    Arm(
        "opus+qwen",
        "orchestrated",
        {
            "kind": "orchestrated",
            "orchestrator": "opus",
            "executor": "qwen-9b",
            "returns": {"policy": "free", "max_chars": 4000},
        },
        0.9,
        0.07,
        1.7,
        "opus",
        "qwen-9b",
    ),
    Arm(
        "opus+haiku",
        "orchestrated",
        {"kind": "orchestrated", "orchestrator": "opus", "executor": "haiku"},
        1.3,
        0.05,
        1.5,
        "opus",
        "haiku",
    ),
    Arm(
        "route-heuristic",
        "routed",
        {
            "kind": "routed",
            "local": "qwen-9b",
            "cloud": "sonnet",
            "strategy": {"name": "heuristic", "threshold": 0.5},
        },
        0.5,
        0.09,
        1.2,
        "sonnet",
        "qwen-9b",
        cloud_share=0.35,
    ),
    Arm(
        "route-classifier",
        "routed",
        {
            "kind": "routed",
            "local": "qwen-9b",
            "cloud": "sonnet",
            "strategy": {"name": "classifier", "classifier": "haiku"},
        },
        0.7,
        0.08,
        1.4,
        "sonnet",
        "qwen-9b",
        cloud_share=0.45,
        router="haiku",
    ),
)
TASKS = tuple(f"task-{i:02d}" for i in range(1, 26))
ROLES = ("solo", "orchestrator", "executor", "router")
SOLO, ORCHESTRATOR, EXECUTOR, ROUTER = range(4)
PROVIDER_ERRORS = ("rate_limit", "overloaded", "server_error", "timeout", "connection")
ERROR_TEXT = {
    "rate_limit": "429 rate_limit_error: Number of request tokens has exceeded your rate limit",
    "overloaded": "529 overloaded_error: Overloaded",
    "server_error": "500 api_error: Internal server error",
    "timeout": "request timed out after 600 s",
    "connection": "connection reset by peer",
    "sandbox": "sandbox: workspace process killed (out of memory)",
    "harness": "harness: judge toolchain crashed",
}
GATES = ("ruff", "pytest", "mypy")


def config(seed: int, replicates: int) -> dict[str, Any]:
    models = {
        m.key: {"provider": "sim", "model": m.key, "skill": m.skill, "cache": m.cached}
        for m in MODELS
    }
    return {
        "name": "synthetic",
        "pack": "synthetic",
        "tasks": list(TASKS),
        "replicates": replicates,
        "seed": seed,
        "limits": {"max_iterations": 40, "wall_s": 1800, "bash_timeout_s": 120},
        "concurrency": 8,
        "models": models,
        "arms": {a.name: a.config for a in ARMS},
    }


# --- trials ------------------------------------------------------------------------------------


@dataclass
class Trials:
    """Per-trial columns, in trial-id order (the order rows are inserted in)."""

    ids: list[str]
    arm: np.ndarray
    task: np.ndarray
    replicate: np.ndarray
    status: np.ndarray
    """0 pass, 1 fail, 2 limit, 3 infra_error."""
    infra: list[str | None]
    n_calls: np.ndarray
    started_at: np.ndarray


STATUSES = ("pass", "fail", "limit", "infra_error")


def plan(rng: np.random.Generator, trials: int, calls: int) -> Trials:
    combos = len(ARMS) * len(TASKS)
    order = np.arange(trials)
    replicate, rest = np.divmod(order, combos)
    arm, task = np.divmod(rest, len(TASKS))
    difficulty = rng.normal(0.0, 1.2, len(TASKS))
    strength = np.array([a.strength for a in ARMS])
    limit_rate = np.array([a.limit_rate for a in ARMS])
    p_pass = 1.0 / (1.0 + np.exp(-(strength[arm] - difficulty[task])))
    u = rng.random(trials)
    infra_rate = np.where(np.array([a.second == "qwen-9b" for a in ARMS])[arm], 0.035, 0.02)
    status = np.where(
        u < infra_rate,
        3,
        np.where(
            u < infra_rate + limit_rate[arm],
            2,
            np.where(rng.random(trials) < p_pass, 0, 1),
        ),
    )
    infra: list[str | None] = [None] * trials
    for i in np.flatnonzero(status == 3).tolist():
        r = rng.random()
        infra[i] = (
            PROVIDER_ERRORS[int(rng.integers(len(PROVIDER_ERRORS)))]
            if r < 0.8
            else ("sandbox" if r < 0.93 else "harness")
        )
    weight = np.array([a.call_weight for a in ARMS])[arm]
    weight = weight * np.array([0.8, 1.1, 2.2, 0.35])[status] * rng.lognormal(0, 0.45, trials)
    if calls >= trials:
        n_calls = 1 + rng.multinomial(calls - trials, weight / weight.sum())
    else:
        n_calls = rng.multinomial(calls, weight / weight.sum())
    started_at = T0 + order * 2.5 + rng.random(trials)
    ids = [
        f"{ARMS[a].name}.{TASKS[t]}.r{r}"
        for a, t, r in zip(arm.tolist(), task.tolist(), replicate.tolist(), strict=True)
    ]
    by_id = np.array(sorted(range(trials), key=ids.__getitem__), dtype=np.int64)
    return Trials(
        ids=[ids[i] for i in by_id],
        arm=arm[by_id],
        task=task[by_id],
        replicate=replicate[by_id],
        status=status[by_id],
        infra=[infra[i] for i in by_id],
        n_calls=n_calls[by_id],
        started_at=started_at[by_id],
    )


# --- calls -------------------------------------------------------------------------------------


@dataclass
class Calls:
    trial: np.ndarray
    """Index into the chunk's trials."""
    seq: np.ndarray
    role: np.ndarray
    model: np.ndarray
    route: np.ndarray
    """0 none, 1 local, 2 cloud."""
    error: np.ndarray
    """0 ok, else 1 + index into PROVIDER_ERRORS."""
    attempt: np.ndarray
    tokens: np.ndarray
    """(n, 6) in TOKEN_KINDS order."""
    latency: np.ndarray
    started_at: np.ndarray


def make_calls(rng: np.random.Generator, t: Trials, lo: int, hi: int) -> Calls:
    """The ledger rows of trials lo..hi."""
    n = t.n_calls[lo:hi]
    total = int(n.sum())
    trial = np.repeat(np.arange(hi - lo), n)
    first = np.cumsum(n) - n
    pos = np.arange(total) - first[trial]
    last = pos == n[trial] - 1
    arm = t.arm[lo:hi][trial]
    kind = np.array([("solo", "orchestrated", "routed").index(a.kind) for a in ARMS])[arm]
    main = np.array([MODEL_INDEX[a.main] for a in ARMS])[arm]
    second = np.array([MODEL_INDEX.get(a.second, 0) for a in ARMS])[arm]
    router = np.array([MODEL_INDEX.get(a.router, -1) for a in ARMS])[arm]
    share = np.array([a.cloud_share for a in ARMS])[arm]
    u = rng.random(total)

    role = np.full(total, SOLO)
    model = main.copy()
    route = np.zeros(total, dtype=np.int64)
    orchestrated = kind == 1
    executor = orchestrated & (u < 0.65) & (pos > 0) & ~last
    role[orchestrated] = ORCHESTRATOR
    role[executor] = EXECUTOR
    model[executor] = second[executor]
    routed = kind == 2
    routes = routed & ((router < 0) | (u >= 0.45))
    cloud = rng.random(total) < share
    route[routes] = np.where(cloud[routes], 2, 1)
    model[routes & ~cloud] = second[routes & ~cloud]
    classify = routed & ~routes
    role[classify] = ROUTER
    model[classify] = router[classify]

    # Prompts grow over the trial; an executor's conversation restarts with each delegation.
    turn = np.where(role == EXECUTOR, pos % 7, pos)
    system = np.array([3_500, 6_000, 2_500, 700])[role]
    growth = np.array([1_800, 2_400, 1_500, 0])[role] * rng.lognormal(0, 0.25, total)
    fresh = rng.lognormal(6.2, 0.6, total)  # this turn's tool result or instruction
    prompt = (system + growth * turn + fresh).astype(np.int64)
    output = np.where(role == ROUTER, 8, rng.lognormal(5.7, 0.7, total)).astype(np.int64)
    reasons = rng.random(total) < np.where(model == MODEL_INDEX["qwen-9b"], 0.85, 0.4)
    share_r = np.array([m.reasoning_share for m in MODELS])[model]
    reasoning = np.where(reasons, output * share_r, 0).astype(np.int64)

    cached = np.array([m.cached for m in MODELS])[model]
    miss = rng.random(total) < 0.04  # the cache expired or the prefix changed
    uncached = np.minimum(fresh.astype(np.int64), rng.integers(40, 400, total))
    # Everything up to the previous turn is read from the cache; this turn's growth is written.
    carried = np.maximum(prompt - growth - fresh, 0).astype(np.int64)
    read = np.where(cached & (turn > 0) & ~miss, np.minimum(carried, prompt - uncached), 0)
    written = np.where(cached, prompt - uncached - read, 0)
    long_ttl = (role == ORCHESTRATOR) & (pos == 0)  # the orchestrator's system prompt: 1 h
    tokens = np.zeros((total, 6), dtype=np.int64)
    tokens[:, 0] = np.where(cached, uncached, prompt)
    tokens[:, 1] = output
    tokens[:, 2] = np.where(long_ttl, 0, written)
    tokens[:, 3] = np.where(long_ttl, written, 0)
    tokens[:, 4] = read
    tokens[:, 5] = reasoning

    # Failed attempts: provider errors, retried; an infra-error trial ends on one.
    error = np.where(rng.random(total) < 0.008, rng.integers(1, 1 + len(PROVIDER_ERRORS), total), 0)
    error[last] = 0
    for i in np.flatnonzero(t.status[lo:hi] == 3).tolist():
        klass = t.infra[lo + i]
        if klass in PROVIDER_ERRORS and n[i] > 0:
            error[first[i] + n[i] - 1] = 1 + PROVIDER_ERRORS.index(klass)
    failed = error > 0
    tokens[failed] = 0
    attempt = np.ones(total, dtype=np.int64)
    after = np.flatnonzero(failed[:-1] & ~last[:-1]) + 1
    attempt[after] = 2

    tps = np.array([m.tokens_per_s for m in MODELS])[model]
    latency = 0.4 + rng.random(total) * 0.6 + output / tps + tokens[:, 0] / 5_000
    latency = latency + tokens[:, 4] / 60_000
    latency = np.where(failed, np.where(error == 4, 600.0, 0.3 + rng.random(total)), latency)
    tool_s = np.where(last, 0.0, rng.lognormal(0.3, 0.8, total))
    step = latency + tool_s
    elapsed = np.cumsum(step) - step
    elapsed = elapsed - elapsed[first][trial]
    started_at = t.started_at[lo:hi][trial] + elapsed
    return Calls(trial, pos + 1, role, model, route, error, attempt, tokens, latency, started_at)


# --- rows --------------------------------------------------------------------------------------


def call_rows(t: Trials, lo: int, c: Calls) -> Iterator[tuple[Any, ...]]:
    ids = t.ids
    names = [m.key for m in MODELS]
    model_ids = [f"sim-{m.key}-2026" for m in MODELS]
    routes = (None, "local", "cloud")
    classes = (None, *PROVIDER_ERRORS)
    texts = (None, *(ERROR_TEXT[k] for k in PROVIDER_ERRORS))
    columns = (
        c.trial.tolist(),
        c.seq.tolist(),
        c.role.tolist(),
        c.model.tolist(),
        c.attempt.tolist(),
        c.error.tolist(),
        c.tokens.tolist(),
        np.round(c.latency, 4).tolist(),
        np.round(c.started_at, 3).tolist(),
        c.route.tolist(),
    )
    for n, (trial, seq, role, model, attempt, err, tok, lat, start, route) in enumerate(
        zip(*columns, strict=True)
    ):
        ok = err == 0
        tid = ids[lo + trial]
        yield (
            tid,
            seq,
            ROLES[role],
            "sim",
            names[model],
            model_ids[model] if ok else "",
            attempt,
            "ok" if ok else "error",
            classes[err],
            texts[err],
            *tok,
            lat,
            1,
            f"req_{lo:06x}{n:07x}" if ok else None,
            start,
            routes[route],
        )


def trial_extra(arm: Arm, calls: Calls, rows: np.ndarray) -> dict[str, Any]:
    """What the arm records beside the ledger (see armbench.arms)."""
    role = calls.role[rows]
    if arm.kind == "orchestrated":
        orchestrator = role == ORCHESTRATOR
        # Executor text re-read by later orchestrator calls: a share of their prompts.
        read = calls.tokens[rows][orchestrator]
        share = 0.18 + 0.1 * (arm.second == "qwen-9b")
        delegated = int((np.diff(orchestrator.astype(np.int8)) == -1).sum())
        return {
            "returns": {"policy": "free", "max_chars": 4000},
            "delegations": [
                {
                    "executor_iterations": 4,
                    "executor_stop": "finished",
                    "instruction_chars": 900,
                    "report_chars": 2600,
                    "returned_chars": 2600,
                }
            ]
            * delegated,
            "delegation_tax": {
                "model": f"sim/{arm.main}",
                "tokens": {
                    "input": int(read[:, 0].sum() * share),
                    "cache_write_5m": int(read[:, 2].sum() * share),
                    "cache_write_1h": 0,
                    "cache_read": int(read[:, 4].sum() * share),
                },
                "estimated": False,
            },
            "orchestrator_iterations": int(orchestrator.sum()),
        }
    if arm.kind == "routed":
        routes = calls.route[rows]
        decided = np.flatnonzero(routes > 0)
        return {
            "routing": [
                {
                    "call": int(i) + 1,
                    "route": "cloud" if routes[i] == 2 else "local",
                    "reason": "score over threshold" if routes[i] == 2 else "routine edit",
                }
                for i in decided.tolist()
            ],
            "strategy": arm.config["strategy"],
        }
    return {}


def trial_and_gate_rows(
    rng: np.random.Generator, t: Trials, lo: int, hi: int, c: Calls
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    ends = np.cumsum(t.n_calls[lo:hi])
    starts = ends - t.n_calls[lo:hi]
    answered = np.bincount(c.trial, weights=(c.error == 0), minlength=hi - lo)
    busy = np.bincount(c.trial, weights=c.latency, minlength=hi - lo)
    trials, gates = [], []
    for i in range(hi - lo):
        k = lo + i
        arm = ARMS[int(t.arm[k])]
        status = STATUSES[int(t.status[k])]
        infra = t.infra[k]
        judged = status != "infra_error"
        gate_rows = []
        if judged:
            names = GATES if int(t.task[k]) % 3 == 0 else GATES[:2]
            broken = -1 if status == "pass" else int(rng.integers(len(names)))
            for seq, name in enumerate(names, 1):
                passed = seq - 1 != broken
                errors = 0 if passed else int(rng.integers(1, 9))
                counts = (
                    {"passed": int(rng.integers(8, 60)), "failed": errors, "errored": 0}
                    if name == "pytest"
                    else {"errors": errors}
                )
                tail = "" if passed else f"{name}: {errors} problem(s)"
                gate_rows.append(
                    (
                        t.ids[k],
                        seq,
                        name,
                        name,
                        int(passed),
                        0 if passed else 1,
                        json.dumps(counts, sort_keys=True),
                        round(float(rng.lognormal(0.5, 0.5)), 3),
                        tail,
                        tail,
                    )
                )
        wall = float(busy[i]) + float(t.n_calls[k]) * 1.8 + sum(g[7] for g in gate_rows)
        stop = {
            "pass": "finished",
            "fail": "finished",
            "limit": "max_iterations" if rng.random() < 0.8 else "wall_clock",
            "infra_error": "model_error" if infra in PROVIDER_ERRORS else "harness_error",
        }[status]
        extra = trial_extra(arm, c, np.arange(starts[i], ends[i]))
        trials.append(
            (
                t.ids[k],
                arm.name,
                arm.kind,
                TASKS[int(t.task[k])],
                int(t.replicate[k]),
                int(rng.integers(2**31)),
                status,
                stop,
                infra,
                ERROR_TEXT[infra] if infra is not None else None,
                round(wall, 3),
                int(answered[i]),
                1,
                round(float(t.started_at[k]), 3),
                round(float(t.started_at[k]) + wall, 3),
                "",
                json.dumps(extra, sort_keys=True),
            )
        )
        gates.extend(gate_rows)
    return trials, gates


# --- the run directory -------------------------------------------------------------------------


COLUMNS = {
    "trials": (
        "trial_id", "arm", "arm_kind", "task", "replicate", "seed", "status", "stop_reason",
        "infra_class", "error", "wall_s", "iterations", "simulated", "started_at", "ended_at",
        "transcript", "extra",
    ),
    "calls": (
        "trial_id", "seq", "role", "provider", "model", "model_id", "attempt", "status",
        "error_class", "error", *TOKEN_KINDS, "latency_s", "latency_simulated", "request_id",
        "started_at", "route",
    ),
    "gates": (
        "trial_id", "seq", "name", "kind", "passed", "exit_code", "counts", "duration_s",
        "output_tail", "details",
    ),
}  # fmt: skip
"""The order of the tuples built above; checked against the real schema before writing."""


def _insert(conn: sqlite3.Connection, table: str, rows: Iterator[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    while batch := list(itertools.islice(rows, 100_000)):
        conn.executemany(sql, batch)


def _check_schema(conn: sqlite3.Connection) -> None:
    for table, columns in COLUMNS.items():
        actual = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if actual != set(columns):
            raise RuntimeError(f"{table}: the schema has {sorted(actual)}; update COLUMNS")


def write_manifest(run: RunDirectory, seed: int, trials: int) -> None:
    replicates = -(-trials // (len(ARMS) * len(TASKS)))
    parsed = parse_config(config(seed, replicates), source="synthetic", base_dir=run.path)
    card = RateCard.from_mapping({"models": RATES}, source="benchmarks/synthetic_store.py")
    run.write_manifest(
        Manifest(
            run_id=run.run_id,
            name="synthetic",
            armbench_version=__version__,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0)),
            finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + trials * 2.5)),
            config=parsed.model_dump(mode="json"),
            config_hash=parsed.canonical_hash(),
            config_source="benchmarks/synthetic_store.py",
            checkers={"mypy": "2.4.1", "ruff": "synthetic", "pytest": "synthetic"},
            python=sys.version.split()[0],
            host={"hostname": "synthetic", "platform": "synthetic", "cpus": 8},
            packs={"synthetic": {"name": "synthetic", "tasks": dict.fromkeys(TASKS, "0" * 64)}},
            rate_card=card_record(card, dict.fromkeys(RATES, "benchmarks/synthetic_store.py")),
            simulated=True,
            trials_planned=trials,
        )
    )


def build(path: Path, trials: int = 100_000, calls: int = 5_000_000, seed: int = 0) -> Path:
    """Write a synthetic run directory at `path` (which must not exist); returns it."""
    path.mkdir(parents=True)
    (path / TRANSCRIPTS).mkdir()
    run = RunDirectory(path)
    write_manifest(run, seed, trials)
    RunDatabase(path / DATABASE).close()  # the real schema, migrations and meta row
    conn = sqlite3.connect(path / DATABASE, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
        _check_schema(conn)
        rng = np.random.default_rng(seed)
        t = plan(rng, trials, calls)
        conn.execute("BEGIN")
        for chunk, lo in enumerate(range(0, trials, CHUNK_TRIALS)):
            hi = min(lo + CHUNK_TRIALS, trials)
            local = np.random.default_rng([seed, chunk])
            c = make_calls(local, t, lo, hi)
            trial_rows, gate_rows = trial_and_gate_rows(local, t, lo, hi, c)
            _insert(conn, "trials", iter(trial_rows))
            _insert(conn, "calls", call_rows(t, lo, c))
            _insert(conn, "gates", iter(gate_rows))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # as RunDatabase leaves it
    finally:
        conn.close()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="Parent folder; the run is written inside it.")
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    target = args.out / f"synthetic-{args.trials}-{args.calls}-s{args.seed}"
    started = time.perf_counter()
    build(target, args.trials, args.calls, args.seed)
    size = (target / DATABASE).stat().st_size
    print(f"built in {time.perf_counter() - started:.1f} s, database {size / 2**20:.0f} MiB")
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
