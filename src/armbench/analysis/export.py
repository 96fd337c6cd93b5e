"""Exporting a run: one row per trial (or per ledger row), as JSON lines or CSV.

Trial rows carry the contract fields: run_id, trial_id, arm, arm_kind, task, replicate, seed,
status, infra_class, wall_s, iterations, n_calls, tokens (the six kinds), tokens_by_role,
cost_usd, cost_by_role, gates, simulated. In CSV, nested values are JSON-encoded cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, Literal

from armbench.analysis.runs import (
    LoadedRun,
    call_cost,
    cost_by_role,
    tokens_by_role,
    trial_tokens,
)

Format = Literal["jsonl", "csv"]


def trial_rows(run: LoadedRun) -> Iterator[dict[str, Any]]:
    for t in run.trials:
        by_role = cost_by_role(t, run.rate_card)
        yield {
            "run_id": run.run_id,
            "trial_id": t.trial_id,
            "arm": t.arm,
            "arm_kind": t.arm_kind,
            "task": t.task,
            "replicate": t.replicate,
            "seed": t.seed,
            "status": t.status,
            "infra_class": t.infra_class,
            "stop_reason": t.stop_reason,
            "wall_s": round(t.wall_s, 3),
            "iterations": t.iterations,
            "n_calls": len(t.calls),
            "tokens": trial_tokens(t).as_dict(),
            "tokens_by_role": {role: u.as_dict() for role, u in tokens_by_role(t).items()},
            "cost_usd": round(sum(by_role.values()), 6),
            "cost_by_role": {role: round(c, 6) for role, c in by_role.items()},
            "gates": [g.summary() for g in t.gates],
            "simulated": t.simulated,
        }


def call_rows(run: LoadedRun) -> Iterator[dict[str, Any]]:
    for t in run.trials:
        for c in t.calls:
            yield {
                "run_id": run.run_id,
                "trial_id": t.trial_id,
                "arm": t.arm,
                "task": t.task,
                "seq": c.seq,
                "role": c.role,
                "provider": c.provider,
                "model": c.model,
                "model_id": c.model_id,
                "attempt": c.attempt,
                "status": c.status,
                "error_class": c.error_class,
                **c.usage.as_dict(),
                "cost_usd": round(call_cost(c, run.rate_card), 8),
                "latency_s": round(c.latency_s, 4),
                "latency_simulated": c.latency_simulated,
                "request_id": c.request_id,
                "simulated": t.simulated,
            }


def render(rows: Iterator[dict[str, Any]], fmt: Format) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(row, sort_keys=False) + "\n" for row in rows)
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        flat = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(flat), lineterminator="\n")
            writer.writeheader()
        writer.writerow(flat)
    return buffer.getvalue()
