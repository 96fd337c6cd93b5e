"""Rows of the run database as armbench's records: one place for the mapping, shared by the
current trials (armbench.store.db) and the history of retried ones (armbench.store.attempts)."""

from __future__ import annotations

import json
from typing import Any

from armbench.core import TOKEN_KINDS, CallRecord, GateResult, TrialRecord, Usage


def trial_record(
    r: dict[str, Any], calls: tuple[CallRecord, ...], gates: tuple[GateResult, ...]
) -> TrialRecord:
    """A TrialRecord from a row of `trials` (or `trial_attempts`)."""
    return TrialRecord(
        trial_id=r["trial_id"],
        arm=r["arm"],
        arm_kind=r["arm_kind"],
        task=r["task"],
        replicate=r["replicate"],
        seed=r["seed"],
        status=r["status"],
        stop_reason=r["stop_reason"],
        wall_s=r["wall_s"],
        iterations=r["iterations"],
        simulated=bool(r["simulated"]),
        started_at=r["started_at"],
        ended_at=r["ended_at"],
        infra_class=r["infra_class"],
        error=r["error"],
        calls=calls,
        gates=gates,
        transcript=r["transcript"],
        extra=json.loads(r["extra"]),
    )


def call_record(r: dict[str, Any]) -> CallRecord:
    """A CallRecord from a row of `calls` (or `call_attempts`)."""
    return CallRecord(
        seq=r["seq"],
        role=r["role"],
        provider=r["provider"],
        model=r["model"],
        model_id=r["model_id"],
        attempt=r["attempt"],
        status=r["status"],
        usage=Usage(**{k: r[k] for k in TOKEN_KINDS}),
        latency_s=r["latency_s"],
        latency_simulated=bool(r["latency_simulated"]),
        started_at=r["started_at"],
        request_id=r["request_id"],
        error_class=r["error_class"],
        error=r["error"],
        route=r["route"],
    )


def gate_result(r: dict[str, Any]) -> GateResult:
    """A GateResult from a row of `gates` (or `gate_attempts`)."""
    return GateResult(
        name=r["name"],
        kind=r["kind"],
        passed=bool(r["passed"]),
        exit_code=r["exit_code"],
        counts=json.loads(r["counts"]),
        duration_s=r["duration_s"],
        output_tail=r["output_tail"],
        details=r["details"],
    )
