"""One trial: set up its task, let the arm work, judge, record — the same path for every arm.

Whatever happens inside, a trial ends as a TrialRecord: a provider failure is `infra_error`
with its class, a harness failure is `infra_error` of class `harness`, a cap is `limit` —
never silently a `fail`. The arm kind (armbench.arms) decides what the models do; the task kind
(armbench.runner.attempts) decides the workspace and the judge; everything else is here.

Every model call passes the trial's guard (armbench.models.guard): its caps on dollars, call
attempts and tokens, the run's budget and its endpoint's limiter. A trial stopped by a cap is
judged like one stopped by `max_iterations` (its record keeps its calls, gates and transcript),
except one the budget stopped before its first call: it spent nothing and did nothing, so it is
not recorded at all (`run_trial` returns None) and a resume with a larger budget runs it.
`wall_s` is the agent's time: it stops before the judge (and its wait for a CPU slot) and
leaves out the time calls queued for an endpoint behind other trials.

A trial never writes the run directory: it hands its record and its transcript's text back
(`TrialResult`) and the one process that owns the run directory writes both (the transcript
just before the record's transaction, armbench.runner.run). On Ray the trial runs on another
machine, where the run directory does not exist; on the local pool it takes the same path.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.agent.loop import AgentRun, Ledger, TrialClock
from armbench.arms import ArmContext, ArmOutcome, arm_kind
from armbench.config import RunConfig
from armbench.core import (
    DEFAULT_LIMITS,
    LIMIT_STOPS,
    InfraClass,
    Limits,
    Redactor,
    TrialRecord,
    TrialStatus,
)
from armbench.env import EnvironmentFactory, SandboxError
from armbench.models import CallGuard, ModelFactory, RetryingCaller, identity_of
from armbench.prompts import PromptSet
from armbench.runner.attempts import AgenticAttempt, Attempt, SingleShotAttempt, Verdict
from armbench.runner.capacity import Capacity
from armbench.runner.plan import TrialPlan
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.trial_models import TrialModels
from armbench.tasks import SingleShotTask, TaskSpec


@dataclass(frozen=True)
class TrialResult:
    """What a trial hands back to the process that records it."""

    record: TrialRecord
    """Its `transcript` field is empty: the recorder fills in where it wrote the text."""
    transcript: str | None
    """The transcript, JSON text already redacted; None when the trial ended before it had
    one (a harness failure)."""


@dataclass(frozen=True)
class TrialContext:
    config: RunConfig
    work_root: Path
    """Where trials work: a scratch folder outside the run directory, so nothing a trial runs
    can reach the run's records through `..`."""
    prepared: PreparedCache
    python: str
    """Interpreter with the pinned checkers; the agent's `python` and the judge's."""
    models: ModelFactory
    redact: Redactor
    environments: EnvironmentFactory
    """Builds every Environment of the trial: the agent's, the judge's."""
    prompts: Mapping[str, PromptSet]
    """Each arm's prompts (its config's overrides in place), by arm name."""
    capacity: Capacity | None = None
    """What the run's trials share: budget, endpoint limiters, CPU slots. None: none of them
    (a trial run on its own, in tests); a per-trial `max_cost_usd` then cannot be priced."""
    keep: Path | None = None
    """Where each trial's workspace is moved when it ends (`<keep>/<trial id>`: the run
    directory's `work`, with `keep_workspaces`); None: it is removed."""


def effective_limits(plan: TrialPlan, config: RunConfig) -> Limits:
    spec = plan.task.spec
    task = spec.limits if isinstance(spec, TaskSpec) else Limits()
    return plan.arm.limits.over(config.limits).over(task).over(DEFAULT_LIMITS)


def status_of(run: AgentRun, verdict: Verdict) -> TrialStatus:
    if run.stop == "model_error":
        return "infra_error"
    if run.stop in LIMIT_STOPS:
        return "limit"
    return "pass" if verdict.passed else "fail"


def _base(plan: TrialPlan, started: float) -> dict[str, Any]:
    return dict(
        trial_id=plan.trial_id,
        arm=plan.arm_name,
        arm_kind=plan.arm.kind,
        task=plan.task.id,
        replicate=plan.replicate,
        seed=plan.seed,
        simulated=True,
        started_at=started,
    )


def infra_failure(
    plan: TrialPlan,
    infra_class: InfraClass,
    error: str,
    started: float,
    extra: dict[str, Any] | None = None,
) -> TrialRecord:
    """The record of a trial the harness could not run to its end (a failure of armbench, its
    sandbox, or the worker that ran it): `infra_error`, never a verdict on the work. Not
    redacted: the caller passes it through its redactor."""
    return TrialRecord(
        **_base(plan, started),
        status="infra_error",
        stop_reason="harness_error",
        wall_s=time.time() - started,
        iterations=0,
        ended_at=time.time(),
        infra_class=infra_class,
        error=error,
        extra=extra or {},
    )


def run_trial(plan: TrialPlan, ctx: TrialContext) -> TrialResult | None:
    """The trial's record and transcript; None if the run's budget was exhausted before its
    first call."""
    started = time.time()
    work = ctx.work_root / plan.trial_id
    base = _base(plan, started)
    transcript: str | None = None
    try:
        ended = _attempt(plan, ctx, _set_up(plan, ctx, work), base)
        record, transcript = ended if ended is not None else (None, None)
    except Exception as exc:  # a harness failure must not take the run down, nor pass as `fail`
        record = infra_failure(
            plan,
            "sandbox" if isinstance(exc, SandboxError) else "harness",
            f"{type(exc).__name__}: {exc}",
            started,
            extra={"traceback": traceback.format_exc(limit=8)},
        )
    finally:
        if ctx.keep is not None and work.exists():
            kept = ctx.keep / plan.trial_id
            shutil.rmtree(kept, ignore_errors=True)
            kept.parent.mkdir(exist_ok=True)
            shutil.move(work, kept)
        shutil.rmtree(work, ignore_errors=True)
    if record is None:
        return None
    return TrialResult(redacted(record, ctx.redact), transcript)


def _set_up(plan: TrialPlan, ctx: TrialContext, work: Path) -> Attempt:
    cpu = ctx.capacity.cpu if ctx.capacity is not None else None
    if isinstance(plan.task, SingleShotTask):
        return SingleShotAttempt(
            plan.task, work, environments=ctx.environments, python=ctx.python, cpu=cpu
        )
    return AgenticAttempt(
        plan.task,
        plan,
        work,
        prepared=ctx.prepared,
        environments=ctx.environments,
        python=ctx.python,
        cpu=cpu,
    )


def redacted(record: TrialRecord, redact: Redactor) -> TrialRecord:
    """The record with every free text passed through the redactor."""
    return dataclasses.replace(
        record,
        error=redact(record.error) if record.error else record.error,
        extra=json.loads(redact(json.dumps(record.extra))),
        calls=tuple(
            dataclasses.replace(c, error=redact(c.error)) if c.error else c for c in record.calls
        ),
        gates=tuple(
            dataclasses.replace(g, output_tail=redact(g.output_tail), details=redact(g.details))
            for g in record.gates
        ),
    )


def _attempt(
    plan: TrialPlan, ctx: TrialContext, attempt: Attempt, base: dict[str, Any]
) -> tuple[TrialRecord, str] | None:
    limits = effective_limits(plan, ctx.config)
    prompts = ctx.prompts[plan.arm_name]
    task = plan.task
    clock = TrialClock()
    ledger = Ledger(clock)
    shared = ctx.capacity
    guard = CallGuard(
        limits,
        budget=shared.budget if shared is not None else None,
        card=shared.card if shared is not None else None,
        limiters=shared.limiters if shared is not None else None,
        on_queue=clock.add_queued,
    )
    check_commands = () if isinstance(task, SingleShotTask) else task.spec.check_commands
    arm_ctx = ArmContext(
        task=task,
        prompt=task.spec.prompt,
        env=attempt.env,
        limits=limits,
        check_commands=check_commands,
        ledger=ledger,
        caller=RetryingCaller(ctx.config.retry, guard=guard),
        models=TrialModels(
            ctx.config,
            ctx.models,
            brief=attempt.brief,
            seed=plan.seed,
            prompts=prompts,
            guard=guard,
            trial_id=plan.trial_id,
            scratch=ctx.work_root / plan.trial_id,
            confined=ctx.environments.confined,
        ),
        prompts=prompts,
        environment=attempt.environment if isinstance(attempt, AgenticAttempt) else None,
    )
    outcome: ArmOutcome = arm_kind(plan.arm.kind).run(plan.arm, arm_ctx)
    wall_s = clock.elapsed()
    if outcome.run.stop == "budget" and not ledger.rows:
        return None  # never started: the budget was gone before its first call
    verdict = Verdict() if outcome.run.stop == "model_error" else attempt.judge(outcome)
    return _record(plan, ctx, base, attempt, outcome, verdict, ledger, wall_s, limits)


def _record(
    plan: TrialPlan,
    ctx: TrialContext,
    base: dict[str, Any],
    attempt: Attempt,
    outcome: ArmOutcome,
    verdict: Verdict,
    ledger: Ledger,
    wall_s: float,
    limits: Limits,
) -> tuple[TrialRecord, str]:
    """The one ending every trial shares: status, transcript, record."""
    run = outcome.run
    status = status_of(run, verdict)
    simulated = ledger.simulated or any(
        identity_of(k, ctx.config.models[k]).simulated for k in plan.arm.model_keys().values()
    )
    head = {
        "trial_id": plan.trial_id,
        "simulated": simulated,
        "arm": plan.arm_name,
        "arm_kind": plan.arm.kind,
        "task": plan.task.id,
        "replicate": plan.replicate,
        "seed": plan.seed,
    }
    payload = attempt.transcript(head, status, outcome, verdict)
    transcript = ctx.redact(json.dumps(payload, indent=1))
    record = TrialRecord(
        **{**base, "simulated": simulated},
        status=status,
        stop_reason=run.stop,
        wall_s=wall_s,
        iterations=sum(1 for c in ledger.rows if c.status == "ok"),
        ended_at=time.time(),
        infra_class=run.error.infra_class if run.error else None,
        error=str(run.error) if run.error else None,
        calls=tuple(ledger.rows),
        gates=verdict.gates,
        extra={
            **attempt.record_extra(outcome, verdict, limits),
            **({"limit": str(run.limit)} if run.limit is not None else {}),
            **({"queued_s": queued} if (queued := round(ledger.clock.queued_s, 3)) else {}),
        },
    )
    return record, transcript
