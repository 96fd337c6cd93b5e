"""One trial: prepare a workspace, let the arm's agent work, judge, record.

Whatever happens inside, a trial ends as a TrialRecord: a provider failure is `infra_error`
with its class, a harness failure is `infra_error` of class `harness`, a cap is `limit` —
never silently a `fail`.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.agent.arms.context import ArmContext, ArmOutcome
from armbench.agent.arms.orchestrated import run_orchestrated
from armbench.agent.arms.routed import run_routed
from armbench.agent.arms.solo import run_solo
from armbench.agent.loop import AgentRun, Ledger, TrialClock
from armbench.checks import JUDGED_ENV
from armbench.config import OrchestratedArm, RoutedArm, RunConfig, SingleShotArm, SoloArm
from armbench.core import (
    DEFAULT_LIMITS,
    GateResult,
    Limits,
    Message,
    ModelError,
    ModelRequest,
    Redactor,
    Role,
    TextBlock,
    TrialRecord,
    TrialStatus,
    derive_seed,
)
from armbench.env import EnvironmentFactory
from armbench.judge.gates import changed_paths, judge
from armbench.judge.single_shot import score, wrap_prompt
from armbench.models.base import Model
from armbench.models.factory import ModelFactory, identity_of
from armbench.models.retry import RetryingCaller
from armbench.models.types import TaskBrief
from armbench.runner.plan import TrialPlan
from armbench.runner.templates import Templates
from armbench.store.rundir import RunDirectory
from armbench.tasks.prepare import Prepared
from armbench.tasks.single_shot import SingleShotTask, single_shot_brief
from armbench.tasks.spec import Task, TaskSpec

MAX_DIFF_CHARS = 200_000


@dataclass(frozen=True)
class TrialContext:
    config: RunConfig
    run_dir: RunDirectory
    templates: Templates
    python: str
    """Interpreter with the pinned checkers; the agent's `python` and the judge's."""
    models: ModelFactory
    redact: Redactor
    environments: EnvironmentFactory
    """Builds every Environment of the trial: the agent's, the judge's."""


def effective_limits(plan: TrialPlan, config: RunConfig) -> Limits:
    spec = plan.task.spec
    task = spec.limits if isinstance(spec, TaskSpec) else Limits()
    return plan.arm.limits.over(config.limits).over(task).over(DEFAULT_LIMITS)


def workspace_diff(workspace: Path, prepared: Prepared) -> str:
    """Unified diff of what the trial changed, for the transcript."""
    parts: list[str] = []
    for rel in changed_paths(workspace, prepared):
        before_path, after_path = prepared.template / rel, workspace / rel
        try:
            before = (
                before_path.read_text(encoding="utf-8").splitlines(keepends=True)
                if before_path.is_file()
                else []
            )
            after = (
                after_path.read_text(encoding="utf-8").splitlines(keepends=True)
                if after_path.is_file()
                else []
            )
        except UnicodeDecodeError:
            parts.append(f"Binary file {rel} changed\n")
            continue
        parts.extend(difflib.unified_diff(before, after, f"a/{rel}", f"b/{rel}"))
    text = "".join(parts)
    return (
        text
        if len(text) <= MAX_DIFF_CHARS
        else text[:MAX_DIFF_CHARS] + "\n[... diff truncated ...]\n"
    )


def _status(agent: AgentRun, gates: tuple[GateResult, ...]) -> TrialStatus:
    if agent.stop == "model_error":
        return "infra_error"
    if agent.stop in ("max_iterations", "wall_clock"):
        return "limit"
    return "pass" if gates and all(g.passed for g in gates) else "fail"


def run_trial(plan: TrialPlan, ctx: TrialContext) -> TrialRecord:
    started = time.time()
    work = ctx.run_dir.path / "work" / plan.trial_id
    base: dict[str, Any] = dict(
        trial_id=plan.trial_id,
        arm=plan.arm_name,
        arm_kind=plan.arm.kind,
        task=plan.task.id,
        replicate=plan.replicate,
        seed=plan.seed,
        simulated=True,
        started_at=started,
    )
    try:
        if isinstance(plan.task, SingleShotTask):
            record = _attempt_single_shot(plan, plan.task, ctx, work, base)
        else:
            record = _attempt(plan, ctx, work, base)
    except Exception as exc:  # a harness failure must not take the run down, nor pass as `fail`
        record = TrialRecord(
            **base,
            status="infra_error",
            stop_reason="harness_error",
            wall_s=time.time() - started,
            iterations=0,
            ended_at=time.time(),
            infra_class="harness",
            error=f"{type(exc).__name__}: {exc}",
            extra={"traceback": traceback.format_exc(limit=8)},
        )
    finally:
        if not ctx.config.keep_workspaces:
            shutil.rmtree(work, ignore_errors=True)
    return redacted(record, ctx.redact)


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


def _run_arm(plan: TrialPlan, ctx: TrialContext, arm_ctx: ArmContext) -> ArmOutcome:
    arm = plan.arm
    if isinstance(arm, SoloArm):
        return run_solo(arm, arm_ctx)
    if isinstance(arm, OrchestratedArm):
        return run_orchestrated(arm, arm_ctx)
    if isinstance(arm, RoutedArm):
        return run_routed(arm, arm_ctx)
    raise TypeError(f"{arm.kind} arms do not run on agentic tasks")


def _attempt(plan: TrialPlan, ctx: TrialContext, work: Path, base: dict[str, Any]) -> TrialRecord:
    assert isinstance(plan.task, Task)
    prepared = ctx.templates.get(plan.task, plan.inject_seed)
    shutil.rmtree(work, ignore_errors=True)  # left behind if a killed run was resumed
    workspace, home = work / "repo", work / "home"
    prepared.materialize(workspace)
    home.mkdir(parents=True)
    if prepared.mypy_cache is not None:
        shutil.copytree(prepared.mypy_cache, home / ".mypy_cache")
    limits = effective_limits(plan, ctx.config)
    env = ctx.environments(
        workspace,
        home=home,
        extra_env={
            **JUDGED_ENV,
            "MYPY_CACHE_DIR": str(home / ".mypy_cache"),
            "RUFF_CACHE_DIR": str(home / ".ruff_cache"),
        },
    )
    spec = plan.task.spec
    brief = TaskBrief(solution=prepared.solution, check_commands=spec.check_commands)
    builds = itertools.count()

    def build(key: str, role: Role, role_brief: TaskBrief | None = None, /) -> Model:
        seed = derive_seed(plan.seed, role, key, next(builds))
        return ctx.models.build(key, brief=role_brief or brief, seed=seed, role=role)

    def build_pair(local: str, cloud: str) -> tuple[Model, Model]:
        policy = ctx.models.shared_policy(local, cloud, brief=brief, seed=plan.seed)
        pair = (
            ctx.models.build(key, brief=brief, seed=plan.seed, role="solo", policy=policy)
            for key in (local, cloud)
        )
        return next(pair), next(pair)

    clock = TrialClock()
    ledger = Ledger(clock)
    outcome = _run_arm(
        plan,
        ctx,
        ArmContext(
            prompt=spec.prompt,
            env=env,
            limits=limits,
            check_commands=spec.check_commands,
            ledger=ledger,
            caller=RetryingCaller(ctx.config.retry),
            build=build,
            build_pair=build_pair,
        ),
    )
    agent = outcome.run
    wall_s = clock.elapsed()

    gates: tuple[GateResult, ...] = ()
    judge_s = 0.0
    if agent.stop != "model_error":
        judge_started = time.monotonic()
        gates = judge(workspace, prepared, python=ctx.python, environments=ctx.environments)
        judge_s = time.monotonic() - judge_started
    status = _status(agent, gates)
    simulated = ledger.simulated or any(
        identity_of(k, ctx.config.models[k]).simulated for k in plan.arm.model_keys().values()
    )
    payload = {
        "trial_id": plan.trial_id,
        "simulated": simulated,
        "arm": plan.arm_name,
        "arm_kind": plan.arm.kind,
        "task": plan.task.id,
        "replicate": plan.replicate,
        "seed": plan.seed,
        "inject_seed": prepared.inject_seed,
        "status": status,
        "stop_reason": agent.stop,
        "system": agent.system,
        "tools": [t.model_dump() for t in agent.tools],
        "messages": [m.model_dump() for m in agent.messages],
        "side_conversations": outcome.side_conversations,
        "gates": [dataclasses.asdict(g) for g in gates],
        "diff": workspace_diff(workspace, prepared),
        "injection": prepared.injection.model_dump(mode="json") if prepared.injection else None,
        **outcome.extra,
    }
    transcript = ctx.run_dir.write_transcript(
        plan.trial_id, ctx.redact(json.dumps(payload, indent=1))
    )
    return TrialRecord(
        **{**base, "simulated": simulated},
        status=status,
        stop_reason=agent.stop,
        wall_s=wall_s,
        iterations=sum(1 for c in ledger.rows if c.status == "ok"),
        ended_at=time.time(),
        infra_class=agent.error.infra_class if agent.error else None,
        error=str(agent.error) if agent.error else None,
        calls=tuple(ledger.rows),
        gates=gates,
        transcript=transcript,
        extra={
            "judge_s": round(judge_s, 3),
            "limits": limits.model_dump(),
            "main_iterations": agent.iterations,
            **outcome.extra,
        },
    )


def _attempt_single_shot(
    plan: TrialPlan, task: SingleShotTask, ctx: TrialContext, work: Path, base: dict[str, Any]
) -> TrialRecord:
    """One completion, no tools: its files are extracted and run, and scored by format and by
    execution (see armbench.judge.single_shot)."""
    arm = plan.arm
    assert isinstance(arm, SingleShotArm)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prompt = wrap_prompt(task.spec.prompt, task.files) if arm.contract else task.spec.prompt
    model = ctx.models.build(
        arm.model, brief=single_shot_brief(task), seed=plan.seed, role="single_shot"
    )
    clock = TrialClock()
    ledger = Ledger(clock)
    request = ModelRequest(system="", messages=(Message.user_text(prompt),))
    error: ModelError | None = None
    answer = ""
    try:
        response = RetryingCaller(ctx.config.retry).call(
            model, request, ledger.recorder(model, "single_shot")
        )
        answer = "\n".join(b.text for b in response.content if isinstance(b, TextBlock))
    except ModelError as exc:
        error = exc
    wall_s = clock.elapsed()
    scored = (
        None
        if error
        else score(
            task,
            answer,
            python=ctx.python,
            scratch=work / "score",
            environments=ctx.environments,
        )
    )
    status: TrialStatus = (
        "infra_error"
        if error
        else "pass"
        if scored is not None and scored.execution_score
        else "fail"
    )
    scores = (
        {
            "contract": arm.contract,
            "format_score": scored.format_score,
            "execution_score": scored.execution_score,
            "run_line": scored.run_line,
            "files_strict": scored.files_strict,
            "files_lenient": scored.files_lenient,
        }
        if scored is not None
        else {"contract": arm.contract}
    )
    gates = scored.gates if scored is not None else ()
    simulated = ledger.simulated or identity_of(arm.model, ctx.config.models[arm.model]).simulated
    payload = {
        "trial_id": plan.trial_id,
        "simulated": simulated,
        "arm": plan.arm_name,
        "arm_kind": arm.kind,
        "task": task.id,
        "replicate": plan.replicate,
        "seed": plan.seed,
        "status": status,
        "prompt": prompt,
        "answer": answer,
        "gates": [dataclasses.asdict(g) for g in gates],
        **scores,
    }
    transcript = ctx.run_dir.write_transcript(
        plan.trial_id, ctx.redact(json.dumps(payload, indent=1))
    )
    return TrialRecord(
        **{**base, "simulated": simulated},
        status=status,
        stop_reason="model_error" if error else "finished",
        wall_s=wall_s,
        iterations=sum(1 for c in ledger.rows if c.status == "ok"),
        ended_at=time.time(),
        infra_class=error.infra_class if error else None,
        error=str(error) if error else None,
        calls=tuple(ledger.rows),
        gates=gates,
        transcript=transcript,
        extra=scores,
    )
