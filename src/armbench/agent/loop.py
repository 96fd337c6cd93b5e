"""The agent loop: ask the model, run the tools it calls, repeat — readable in one sitting.

It stops when the model answers without calling a tool (finished), when the iteration cap or
the wall-clock cap is reached (the trial becomes `limit`), or when a model call fails for good
after the retry policy (the trial becomes `infra_error`: a provider's failure is never the
agent's failure). Every attempt of every call becomes a ledger row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from armbench.agent.tools import Toolbox
from armbench.models.retry import Attempt, RetryingCaller
from armbench.models.types import (
    CacheBreakpoint,
    Message,
    Model,
    ModelError,
    ModelIdentity,
    ModelRequest,
    Role,
)
from armbench.store.records import CallRecord, StopReason

SYSTEM_PROMPT = """\
You are a software engineer working in a Python repository; the current directory is its root.
Use the `editor` tool to view and change files and the `bash` tool to run commands. Work in
small steps and check your work with the commands the task names. When the task is done, reply
with a short summary and no tool call."""


class TrialClock:
    """Wall time of a trial: real elapsed time plus simulated model latency (simulated models do
    not sleep, so their latency is added here instead)."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._simulated = 0.0

    def add_simulated(self, seconds: float) -> None:
        self._simulated += seconds

    def elapsed(self) -> float:
        return time.monotonic() - self._start + self._simulated


@dataclass
class AgentRun:
    stop: StopReason
    messages: list[Message]
    calls: list[CallRecord] = field(default_factory=list)
    error: ModelError | None = None
    simulated: bool = False
    """Some answer came from a simulated model (even through a real provider's SDK)."""

    @property
    def iterations(self) -> int:
        return sum(1 for c in self.calls if c.status == "ok")


def default_breakpoints(messages: list[Message]) -> tuple[CacheBreakpoint, ...]:
    """The published experiment's placement: the tool definitions, the system prompt, and the
    last block of the latest user message."""
    points = [CacheBreakpoint(where="tools"), CacheBreakpoint(where="system")]
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            last = len(messages[index].content) - 1
            points.append(CacheBreakpoint(where="message", message_index=index, block_index=last))
            break
    return tuple(points)


def ledger_row(attempt: Attempt, *, seq: int, role: Role, identity: ModelIdentity) -> CallRecord:
    """The ledger row of one attempt, failed or not."""
    response, error = attempt.response, attempt.error
    if response is not None:
        return CallRecord(
            seq=seq,
            role=role,
            provider=identity.provider,
            model=identity.model,
            model_id=response.model_id,
            attempt=attempt.number,
            status="ok",
            usage=response.usage,
            latency_s=response.latency_s,
            latency_simulated=response.latency_simulated,
            started_at=attempt.started_at,
            request_id=response.request_id,
        )
    assert error is not None
    return CallRecord(
        seq=seq,
        role=role,
        provider=identity.provider,
        model=identity.model,
        model_id="",
        attempt=attempt.number,
        status="error",
        usage=error.usage,
        latency_s=attempt.elapsed_s,
        latency_simulated=False,
        started_at=attempt.started_at,
        request_id=error.request_id,
        error_class=error.infra_class,
        error=str(error),
    )


def run_agent(
    model: Model,
    toolbox: Toolbox,
    *,
    prompt: str,
    role: Role,
    max_iterations: int,
    wall_s: float,
    clock: TrialClock,
    caller: RetryingCaller,
    system: str = SYSTEM_PROMPT,
) -> AgentRun:
    run = AgentRun(stop="finished", messages=[Message.user_text(prompt)])
    identity = model.identity

    def record(attempt: Attempt) -> None:
        row = ledger_row(attempt, seq=len(run.calls) + 1, role=role, identity=identity)
        if row.latency_simulated:
            clock.add_simulated(row.latency_s)
        run.calls.append(row)

    while True:
        if run.iterations >= max_iterations:
            run.stop = "max_iterations"
            return run
        if clock.elapsed() >= wall_s:
            run.stop = "wall_clock"
            return run
        request = ModelRequest(
            system=system,
            messages=tuple(run.messages),
            tools=toolbox.specs,
            cache_breakpoints=default_breakpoints(run.messages),
        )
        try:
            response = caller.call(model, request, record)
        except ModelError as exc:
            run.stop, run.error = "model_error", exc
            return run
        run.simulated = run.simulated or response.simulated
        run.messages.append(Message(role="assistant", content=response.content))
        if not response.tool_uses:
            return run
        results = tuple(
            toolbox.execute(call, time_left_s=wall_s - clock.elapsed())
            for call in response.tool_uses
        )
        run.messages.append(Message(role="user", content=results))
