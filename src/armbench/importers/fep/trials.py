"""Building an armbench trial from a free-executor-paradox row: its status and `verify` gate,
and one ledger row per model that spent tokens, in the role the arm gives that model.

- No trial is `limit`: the data does not say whether a trial stopped at its iteration cap (the
  caps varied between runs), and `blocked` is the model's own "BLOCKED" declaration in its last
  message, not a cap. Both are kept in `extra`.
- Tokens: one ledger row per model per trial (the data has totals, not calls), priced as the
  data was: `cache_creation_input_tokens` are 5-minute cache writes (input × 1.25),
  `cache_read_input_tokens` cache reads (input × 0.10).
- The local Qwen executor's tokens were never recorded (zeros, or `qwen_present` in the CSV).
  A zero-token ledger row would read as a measured $0, so there is none: the trial lists the
  role in `extra.unmeasured_roles`, and a manifest note says its cost is unknown, not $0.
"""

from __future__ import annotations

from typing import Any

from armbench.core import CallRecord, GateResult, Role, TrialRecord, TrialStatus
from armbench.importers.common import ImportDataError
from armbench.importers.fep.rows import ARMS, PROVIDERS, FepRow, family_of, verify_counts

ROLE_ORDER: tuple[Role, ...] = ("solo", "orchestrator", "executor")


def role_of(row: FepRow, model_id: str) -> Role:
    family = family_of(model_id, row.at)
    role = ARMS[row.arm].roles.get(family)
    if role is None:
        raise ImportDataError(
            f"{row.at}: arm {row.arm} ({ARMS[row.arm].description}) has no {family} model, "
            f"but the row lists {model_id}"
        )
    return role


def _calls(row: FepRow) -> tuple[CallRecord, ...]:
    entries = [(role_of(row, m), m, usage) for m, usage in row.usage.items()]
    entries.sort(key=lambda e: (ROLE_ORDER.index(e[0]), e[1]))
    return tuple(
        CallRecord(
            seq=seq,
            role=role,
            provider=PROVIDERS[family_of(model_id, row.at)],
            model=model_id,
            model_id=model_id,
            attempt=1,
            status="ok",
            usage=usage,
            latency_s=0.0,
            latency_simulated=False,
            started_at=0.0,
        )
        for seq, (role, model_id, usage) in enumerate(entries, 1)
    )


def build_trial(row: FepRow, replicate: int) -> TrialRecord:
    arm = ARMS[row.arm]
    status: TrialStatus
    gates: tuple[GateResult, ...] = ()
    if row.infra_class is not None:
        status = "infra_error"
    else:
        status = "pass" if row.success else "fail"
        gates = (
            GateResult(
                name="verify",
                kind="published",
                passed=row.success,
                exit_code=row.verify_exit,
                counts=verify_counts(row.verify_summary),
                duration_s=0.0,
                output_tail=row.verify_summary or "",
                details=""
                if row.success
                else f"published verification failed: "
                f"{row.verify_summary or f'exit code {row.verify_exit}'}",
            ),
        )
    extra: dict[str, Any] = {
        "source": row.at,
        "source_trial": row.trial,
        "blocked": row.blocked,
        "published_cost_usd": row.published_cost,
        "verify_exit": row.verify_exit,
    }
    unmeasured_roles = sorted({role_of(row, m) for m in row.unmeasured})
    if unmeasured_roles:
        extra["unmeasured_roles"] = unmeasured_roles
        extra["unmeasured_models"] = sorted(row.unmeasured)
    return TrialRecord(
        trial_id=f"{row.arm}.{row.task}.r{replicate}",
        arm=row.arm,
        arm_kind=arm.kind,
        task=row.task,
        replicate=replicate,
        seed=0,
        status=status,
        stop_reason="model_error" if status == "infra_error" else "finished",
        wall_s=row.wall_s,
        iterations=row.iterations,
        simulated=False,
        started_at=0.0,
        ended_at=0.0,
        infra_class=row.infra_class,
        error=row.error,
        calls=_calls(row),
        gates=gates,
        extra=extra,
    )
