"""One trial: prepare a workspace, let the arm's agent work, judge, record.

Whatever happens inside, a trial ends as a TrialRecord: a provider failure is `infra_error`
with its class, a harness failure is `infra_error` of class `harness`, a cap is `limit` —
never silently a `fail`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.agent.loop import SYSTEM_PROMPT, AgentRun, TrialClock, run_agent
from armbench.agent.tools import Toolbox
from armbench.config import DEFAULT_LIMITS, Limits, RunConfig
from armbench.env.local import LocalEnvironment
from armbench.judge.gates import changed_paths, judge
from armbench.models.factory import ModelFactory
from armbench.models.retry import RetryingCaller
from armbench.models.types import TaskBrief
from armbench.runner.plan import TrialPlan
from armbench.runner.templates import Templates
from armbench.secrets import Redactor
from armbench.store.records import GateResult, TrialRecord, TrialStatus
from armbench.store.rundir import RunDirectory
from armbench.tasks.prepare import Prepared

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


def effective_limits(plan: TrialPlan, config: RunConfig) -> Limits:
    task = Limits(**plan.task.spec.limits.model_dump())
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


def _attempt(plan: TrialPlan, ctx: TrialContext, work: Path, base: dict[str, Any]) -> TrialRecord:
    prepared = ctx.templates.get(plan.task, plan.inject_seed)
    shutil.rmtree(work, ignore_errors=True)  # left behind if a killed run was resumed
    workspace, home = work / "repo", work / "home"
    prepared.materialize(workspace)
    home.mkdir(parents=True)
    limits = effective_limits(plan, ctx.config)
    assert limits.max_iterations is not None and limits.wall_s is not None
    assert limits.bash_timeout_s is not None

    env = LocalEnvironment(
        workspace,
        home=home,
        extra_env={
            "MYPY_CACHE_DIR": str(home / ".mypy_cache"),
            "RUFF_CACHE_DIR": str(home / ".ruff_cache"),
        },
    )
    toolbox = Toolbox(env, bash_timeout_s=limits.bash_timeout_s)
    brief = TaskBrief(solution=prepared.solution, check_commands=plan.task.spec.check_commands)
    model = ctx.models.build(plan.arm.model, brief=brief, seed=plan.seed)
    clock = TrialClock()
    agent = run_agent(
        model,
        toolbox,
        prompt=plan.task.spec.prompt,
        role="solo",
        max_iterations=limits.max_iterations,
        wall_s=limits.wall_s,
        clock=clock,
        caller=RetryingCaller(ctx.config.retry),
    )
    wall_s = clock.elapsed()

    gates: tuple[GateResult, ...] = ()
    judge_s = 0.0
    if agent.stop != "model_error":
        judge_started = time.monotonic()
        gates = judge(workspace, prepared, python=ctx.python)
        judge_s = time.monotonic() - judge_started
    status = _status(agent, gates)
    payload = {
        "trial_id": plan.trial_id,
        "simulated": model.identity.simulated or agent.simulated,
        "arm": plan.arm_name,
        "task": plan.task.id,
        "replicate": plan.replicate,
        "seed": plan.seed,
        "inject_seed": prepared.inject_seed,
        "status": status,
        "stop_reason": agent.stop,
        "system": SYSTEM_PROMPT,
        "tools": [t.model_dump() for t in toolbox.specs],
        "messages": [m.model_dump() for m in agent.messages],
        "gates": [dataclasses.asdict(g) for g in gates],
        "diff": workspace_diff(workspace, prepared),
        "injection": prepared.injection.model_dump(mode="json") if prepared.injection else None,
    }
    transcript = ctx.run_dir.write_transcript(
        plan.trial_id, ctx.redact(json.dumps(payload, indent=1))
    )
    return TrialRecord(
        **{**base, "simulated": model.identity.simulated or agent.simulated},
        status=status,
        stop_reason=agent.stop,
        wall_s=wall_s,
        iterations=agent.iterations,
        ended_at=time.time(),
        infra_class=agent.error.infra_class if agent.error else None,
        error=str(agent.error) if agent.error else None,
        calls=tuple(agent.calls),
        gates=gates,
        transcript=transcript,
        extra={"judge_s": round(judge_s, 3), "limits": limits.model_dump()},
    )
