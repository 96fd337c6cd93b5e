"""Exporting a run: one row per trial (or per ledger row), as JSON lines or CSV.

Trial rows carry the contract fields: run_id, trial_id, arm, arm_kind, task, replicate, seed,
status, infra_class, wall_s, iterations (answered model calls, every role), n_calls (attempts),
tokens (the six kinds), tokens_by_role, cost_usd, cost_by_role, delegation_tax_tokens /
_usd / _estimated, cloud_fraction_calls / _tokens (routed arms; null otherwise),
format_score / execution_score / contract / contract_effect (single-shot arms; null otherwise),
gates, simulated. In CSV, nested values are JSON-encoded cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, Literal

from armbench.analysis.arms import (
    cloud_fraction,
    contract_effects,
    delegation_tax,
    single_shot_scores,
)
from armbench.analysis.runs import (
    LoadedRun,
    call_cost,
    cost_by_role,
    tokens_by_role,
    trial_tokens,
)

Format = Literal["jsonl", "csv"]


def trial_rows(run: LoadedRun) -> Iterator[dict[str, Any]]:
    effects = contract_effects(run.trials, run.manifest.config.get("arms", {}))
    for t in run.trials:
        scores = single_shot_scores(t)
        by_role = cost_by_role(t, run.rate_card)
        tax = delegation_tax(t, run.rate_card)
        cloud = cloud_fraction(t)
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
            "delegation_tax_tokens": tax.tokens,
            "delegation_tax_usd": round(tax.usd, 6),
            "delegation_tax_estimated": tax.estimated,
            "cloud_fraction_calls": None if cloud is None else round(cloud.calls, 4),
            "cloud_fraction_tokens": None if cloud is None else round(cloud.tokens, 4),
            "format_score": None if scores is None else scores[0],
            "execution_score": None if scores is None else scores[1],
            "contract": t.extra.get("contract") if t.arm_kind == "single_shot" else None,
            "contract_effect": effects.get(t.trial_id),
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
                "route": c.route,
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
