"""Building an armbench trial from a hybrid-coding-eval row: its status and gate, one ledger row
per route side it used, and their latencies.

- A route (R1, R2, …) is an arm of kind `routed`; the task is `task_id`, its category kept in
  `extra` and in the config's task table.
- Status: a row whose `error` names a provider failure is `infra_error` with the class read
  from the text; otherwise `quality.functional_pass` decides pass or fail, and a row with an
  error but no verdict is a fail.
- Tokens: one ledger row per route side per trial (route `local`, `cloud`) — the data has
  per-side totals, not calls. `cached` and `reasoning` are the cloud side's: only the cloud
  API reports them, and the study's cost formula prices cached tokens at the cloud model's
  cache-read rate. Cached tokens are part of the prompt, so the cloud row's `input` is
  `cloud_prompt - cached`; reasoning is part of output and never priced twice.
- Latency: per side from `per_call_ms` where it lines up with the backends; the whole wall
  time when only one side was used; otherwise unknown (0 on the ledger rows, said in `extra`).
"""

from __future__ import annotations

from typing import Any

from armbench.core import ROUTES as SIDES  # the study's ROUTES (armbench.importers.hce): R1…R5
from armbench.core import CallRecord, GateResult, InfraClass, Route, TrialRecord, TrialStatus, Usage
from armbench.importers.common import classify_provider_failure, safe_id
from armbench.importers.hce.models import Model, Models
from armbench.importers.hce.rows import HceRow


def _side_usage(row: HceRow, side: Route) -> Usage:
    t = row.tokens
    if side == "local":
        return Usage(input=t["local_prompt"], output=t["local_completion"])
    return Usage(
        input=t["cloud_prompt"] - t["cached"],
        output=t["cloud_completion"],
        cache_read=t["cached"],
        reasoning=t["reasoning"],
    )


def _latencies(row: HceRow, used: list[Route]) -> tuple[dict[Route, float], str]:
    if row.backends and len(row.per_call_s) == len(row.backends):
        per_side: dict[Route, float] = dict.fromkeys(SIDES, 0.0)
        for (side, _), seconds in zip(row.backends, row.per_call_s, strict=True):
            per_side[side] += seconds
        return per_side, "per_call"
    if len(used) == 1:
        return {used[0]: row.wall_s}, "one_side"
    return {}, "unknown" if used else "no_tokens"


def _status(row: HceRow) -> tuple[TrialStatus, InfraClass | None]:
    infra = classify_provider_failure(row.error) if row.error else None
    if infra is not None:
        return "infra_error", infra
    if row.functional_pass is None:
        return "fail", None  # only rows with an error get here (the others are skipped)
    return ("pass" if row.functional_pass else "fail"), None


def build_trial(row: HceRow, replicate: int, models: Models) -> tuple[TrialRecord, set[Model]]:
    used = [s for s in SIDES if _side_usage(row, s) != Usage()]
    latency, latency_split = _latencies(row, used)
    extra: dict[str, Any] = {
        "source": row.at,
        "category": row.category,
        "routing": {
            "total_calls": row.total_calls,
            **{f"{s}_calls": n for s, n in row.calls_by_side.items()},
        },
        "latency_split": latency_split,
        # The ledger has one summed row per side: the study's own call counts give the cloud
        # fraction of calls (armbench.analysis.arms.counted_calls).
        "calls_by_route": dict(row.calls_by_side),
        **row.judged,
    }
    if not row.split:
        extra["unsplit_tokens"] = "no local/cloud split: counted on the side the backends name"
    unmeasured = [s for s in SIDES if row.calls_by_side[s] and s not in used]
    if unmeasured:
        extra["unmeasured_routes"] = unmeasured
    calls = []
    priced: set[Model] = set()
    inferred = []
    for seq, side in enumerate(used, 1):
        model, model_id = models.resolve(row, side)
        priced.add(model)
        if not model_id:
            inferred.append(f"{side}: {model.name}")
        calls.append(
            CallRecord(
                seq=seq,
                role="solo",
                provider=model.provider,
                model=model.name,
                model_id=model_id,
                attempt=1,
                status="ok",
                usage=_side_usage(row, side),
                latency_s=latency.get(side, 0.0),
                latency_simulated=False,
                started_at=row.started_at,
                route=side,
            )
        )
    if inferred:
        extra["models_inferred"] = inferred
    status, infra_class = _status(row)
    gates: tuple[GateResult, ...] = ()
    if row.functional_pass is not None and status != "infra_error":
        tests = f"{row.tests.get('tests_passed', '?')}/{row.tests.get('tests_total', '?')}"
        gates = (
            GateResult(
                name="functional",
                kind="published",
                passed=row.functional_pass,
                exit_code=None,
                counts=dict(row.tests),
                duration_s=0.0,
                details=""
                if row.functional_pass
                else f"published functional tests: {tests} passed",
            ),
        )
    trial = TrialRecord(
        trial_id=f"{safe_id(row.route)}.{safe_id(row.task)}.r{replicate}",
        arm=row.route,
        arm_kind="routed",
        task=row.task,
        replicate=replicate,
        seed=row.seed,
        status=status,
        stop_reason="model_error" if status == "infra_error" else "finished",
        wall_s=row.wall_s,
        iterations=row.total_calls,
        simulated=False,
        started_at=row.started_at,
        ended_at=row.ended_at,
        infra_class=infra_class,
        error=row.error,
        calls=tuple(calls),
        gates=gates,
        extra=extra,
    )
    return trial, priced
