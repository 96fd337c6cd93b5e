"""One trial of an external agent: installed, launched headless in the sandbox against a
gateway of its own, metered call by call, and handed to the same judge as every arm.

The agent is one command in the trial's Environment (the sandbox, when the run has one), run
until it exits or the trial's wall clock ends it. Its calls are the gateway's rows, added to the
trial's ledger as they were recorded; its own account of what it spent (where it gives one) is
kept beside them with the difference, never instead of them.

How it ends: a cap of the trial or the run's budget refused a call (the gateway admits each
through the trial's guard, as armbench's own calls are) → `limit` naming the cap; the wall
clock → `wall_clock` (limit); its last model call failed (the gateway's
last row is an error, whatever the agent's exit status: aider reports a failed call and exits
0) → `model_error`, an infra error of that call's class, never a verdict on work the agent
could not finish; an agent that exited non-zero before any call (it did not start) → a harness
failure; otherwise `finished`, and the judge decides.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from armbench.agent.loop import AgentRun
from armbench.arms.base import ArmContext, ArmOutcome
from armbench.arms.external.adapter import Adapter, Launch, OwnReport
from armbench.arms.external.install import installed
from armbench.config import ExternalArm
from armbench.core import (
    TOKEN_KINDS,
    CallRecord,
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextBlock,
    Usage,
)
from armbench.prompts import ROUTER_SYSTEM

OUTPUT_CAP = 60_000
"""Bytes of the agent's output kept for its transcript (head and tail)."""
MAX_FILES = 40
"""Agents told their files (aider) are told at most this many; beyond, none (aider then reads
the repository's map and asks for the files it wants)."""


def editable_files(workdir: Path, patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The workspace's files the task lets the agent change (hidden ones skipped)."""
    found = {
        str(p.relative_to(workdir))
        for pattern in patterns
        for p in workdir.glob(pattern)
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(workdir).parts)
        and "__pycache__" not in p.parts
    }
    files = tuple(sorted(found))
    return files if len(files) <= MAX_FILES else ()


def run_external(arm: ExternalArm, ctx: ArmContext, adapter: Adapter) -> ArmOutcome:
    version = arm.version or adapter.version
    install = installed(adapter, version)
    assert ctx.env is not None and ctx.environment is not None  # agentic tasks only
    task = ctx.task
    patterns = getattr(task.spec, "editable", ("**",))
    files = editable_files(ctx.env.workdir, tuple(patterns))
    classify, classifier_system = _classifier(arm, ctx)
    with ctx.models.gateway(arm, "solo", classify, classifier_system) as seat:
        readable = (install,) if adapter.installer != "none" else ()
        env = ctx.environment((*readable, *seat.readable))
        home = env.environ["HOME"]
        launch = Launch(
            arm, seat.base_url, seat.key, seat.model, install, home, files, ctx.check_commands
        )
        variables = {
            "ARMBENCH_PROMPT": ctx.prompt,
            "ARMBENCH_PROMPT_FILE": launch.prompt_file,
            "ARMBENCH_BASE_URL": seat.base_url,
            "ARMBENCH_API_KEY": seat.key,
            "ARMBENCH_MODEL": seat.model,
            **adapter.environ(launch),
            **arm.env,
        }
        script = (
            seat.prelude
            + f'printf "%s" "$ARMBENCH_PROMPT" > {shlex.quote(launch.prompt_file)}\n'
            + adapter.command(launch)
        )
        result = env.run(script, timeout_s=ctx.wall_s, extra_env=variables, output_cap=OUTPUT_CAP)
        rows = seat.records()
        served = seat.served()
        limit = seat.limit
        failure = seat.failure
        routed = list(seat.decisions)
    # The classifier's calls were recorded as they happened, the agent's come now: one ledger
    # in the order the calls started.
    merged = sorted([*ctx.ledger.rows, *rows], key=lambda row: row.started_at)
    ctx.ledger.rows[:] = [dataclasses.replace(row, seq=i + 1) for i, row in enumerate(merged)]
    stop: StopReason = "finished"
    error: ModelError | None = None
    if limit is not None:
        stop = limit.stop
    elif failure is not None:
        stop, error = "model_error", failure
    elif result.timed_out:
        stop = "wall_clock"
    elif rows and rows[-1].status == "error":
        last = rows[-1]
        assert last.error_class is not None
        stop, error = "model_error", ModelError(last.error or "", last.error_class)
    elif not rows and not result.ok:
        raise RuntimeError(
            f"{adapter.name} exited {result.exit_code} before any model call: "
            + result.output[-1500:]
        )
    own = adapter.own_report(result.output, Path(home))
    run = AgentRun(
        stop=stop,
        messages=[
            Message.user_text(ctx.prompt),
            Message(role="assistant", content=(TextBlock(text=result.output),)),
        ],
        iterations=sum(1 for r in rows if r.status == "ok"),
        error=error,
        limit=limit,
    )
    extra: dict[str, Any] = {
        "agent": {
            "name": adapter.name,
            "version": version,
            "exit_code": result.exit_code,
            "timed_out": result.timed_out,
            "duration_s": round(result.duration_s, 3),
        },
        "agent_report": _compared(own, rows),
        **({"upstream_served": served} if served is not None else {}),
    }
    if arm.routing is not None:
        extra["routing"] = routed
        extra["strategy"] = arm.routing.strategy.model_dump()
    return ArmOutcome(run, extra=extra)


def _classifier(
    arm: ExternalArm, ctx: ArmContext
) -> tuple[Callable[[ModelRequest], ModelResponse] | None, str]:
    """A classifier strategy's call, recorded as armbench's own (role `router`), and its
    prompt; (None, "") for the other strategies."""
    strategy = arm.routing.strategy if arm.routing is not None else None
    if strategy is None or strategy.name != "classifier":
        return None, ""
    assert strategy.classifier is not None  # the config requires it
    classifier = ctx.models.model(strategy.classifier, "router")
    record = ctx.ledger.recorder(classifier, "router")

    def classify(request: ModelRequest) -> ModelResponse:
        return ctx.caller.call(classifier, request, record)

    return classify, ctx.prompts.render(ROUTER_SYSTEM)


def _compared(own: OwnReport | None, rows: list[CallRecord]) -> dict[str, Any] | None:
    """The agent's own account beside the ledger's, and where they differ."""
    if own is None:
        return None
    ledger = sum((r.usage for r in rows), Usage())
    billed = [r for r in rows if r.status == "ok"]
    report: dict[str, Any] = {
        "source": own.source,
        "tokens": own.tokens,
        "cost_usd": own.cost_usd,
        "calls": own.calls,
        "ledger_tokens": {k: getattr(ledger, k) for k in TOKEN_KINDS},
        "ledger_calls": len(billed),
    }
    if own.usage is not None:
        report["difference"] = {k: getattr(own.usage, k) - getattr(ledger, k) for k in TOKEN_KINDS}
    return report
