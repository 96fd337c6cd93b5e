"""The agent loop: ask a model, run the tools it calls, repeat — readable in one sitting.

It stops when the model answers without calling a tool (finished), when the iteration cap or
the wall-clock cap is reached or a trial-wide cap refuses the next call (LimitReached: its
dollars, attempts or tokens, or the run's budget; the trial becomes `limit`), or when a model
call fails for good after the retry policy (the trial becomes `infra_error`: a provider's
failure is never the agent's failure). Before each call a `Chooser` picks the model (always
the same one, except in a routed arm); every attempt of every call becomes a row of the
trial's ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from armbench.agent.tools import Toolbox
from armbench.core import (
    CacheBreakpoint,
    CallRecord,
    LimitReached,
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    Role,
    Route,
    StopReason,
    ToolSpec,
)
from armbench.models.base import Model, ModelIdentity
from armbench.models.retry import Attempt, OnAttempt, RetryingCaller


class TrialClock:
    """Wall time of a trial: real elapsed time plus simulated model latency (simulated models do
    not sleep, so their latency is added here instead), less the time its calls queued for the
    run's shared endpoint limiters (waiting behind other trials is not this trial's work)."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._simulated = 0.0
        self.queued_s = 0.0

    def add_simulated(self, seconds: float) -> None:
        self._simulated += seconds

    def add_queued(self, seconds: float) -> None:
        self.queued_s += seconds

    def elapsed(self) -> float:
        return time.monotonic() - self._start + self._simulated - self.queued_s


def ledger_row(
    attempt: Attempt, *, seq: int, role: Role, identity: ModelIdentity, route: Route | None = None
) -> CallRecord:
    """The ledger row of one attempt, failed or not (its usage and latency are what the guard
    settled the budget with: armbench.models.retry.Attempt)."""
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
            usage=attempt.usage,
            latency_s=attempt.latency_s,
            latency_simulated=response.latency_simulated,
            started_at=attempt.started_at,
            request_id=response.request_id,
            route=route,
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
        usage=attempt.usage,
        latency_s=attempt.latency_s,
        latency_simulated=False,
        started_at=attempt.started_at,
        request_id=error.request_id,
        error_class=error.infra_class,
        error=str(error),
        route=route,
    )


class Ledger:
    """The ledger rows of one trial, from every agent in it (orchestrator, executors, router),
    in the order the attempts happened."""

    def __init__(self, clock: TrialClock) -> None:
        self.rows: list[CallRecord] = []
        self.clock = clock
        self.simulated = False
        """Some answer came from a simulated model (even through a real provider's SDK)."""

    def recorder(self, model: Model, role: Role, route: Route | None = None) -> OnAttempt:
        identity = model.identity

        def record(attempt: Attempt) -> None:
            row = ledger_row(
                attempt, seq=len(self.rows) + 1, role=role, identity=identity, route=route
            )
            if row.latency_simulated:
                self.clock.add_simulated(row.latency_s)
            if attempt.response is not None and attempt.response.simulated:
                self.simulated = True
            self.rows.append(row)

        return record


class AgentAbort(Exception):
    """Raised by a tool to end the agent's loop because a model call failed for good inside it
    (an executor's provider failure ends the orchestrator's trial as infra_error too)."""

    def __init__(self, error: ModelError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class Pick:
    """Which model answers the next call, and how its rows are labelled."""

    model: Model
    role: Role
    route: Route | None = None
    reason: str = ""
    """Why this model, for routed arms: recorded with the decision."""


Chooser = Callable[[Sequence[Message]], Pick]
Observer = Callable[[ModelRequest, ModelResponse, Pick], None]


def always(model: Model, role: Role) -> Chooser:
    """The chooser of every arm but the routed one."""
    pick = Pick(model, role)
    return lambda _messages: pick


@dataclass
class AgentRun:
    stop: StopReason
    messages: list[Message]
    system: str = ""
    tools: tuple[ToolSpec, ...] = ()
    iterations: int = 0
    """Model calls that were answered (retried attempts count once)."""
    error: ModelError | None = None
    limit: LimitReached | None = None
    """The trial-wide cap that refused the next call, when one did (`stop` names it)."""
    decisions: list[dict[str, object]] = field(default_factory=list)
    """Routed arms: for each call, where it went and why."""

    @property
    def final_text(self) -> str:
        """The text of the last assistant turn (an executor's report, a model's summary)."""
        for message in reversed(self.messages):
            if message.role == "assistant":
                return message.text
        return ""


def default_breakpoints(messages: Sequence[Message]) -> tuple[CacheBreakpoint, ...]:
    """The published experiment's placement: the tool definitions, the system prompt, and the
    last block of the latest user message."""
    points = [CacheBreakpoint(where="tools"), CacheBreakpoint(where="system")]
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            last = len(messages[index].content) - 1
            points.append(CacheBreakpoint(where="message", message_index=index, block_index=last))
            break
    return tuple(points)


def run_agent(
    choose: Chooser,
    toolbox: Toolbox,
    *,
    prompt: str,
    max_iterations: int,
    wall_s: float,
    ledger: Ledger,
    caller: RetryingCaller,
    system: str,
    observe: Observer | None = None,
) -> AgentRun:
    run = AgentRun("finished", [Message.user_text(prompt)], system=system, tools=toolbox.specs)
    clock = ledger.clock
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
            pick = choose(run.messages)  # a classifier router may call a model, and fail
            if pick.route is not None:
                run.decisions.append(
                    {"call": run.iterations + 1, "route": pick.route, "reason": pick.reason}
                )
            response = caller.call(pick.model, request, ledger.recorder(*_labels(pick)))
        except ModelError as exc:
            run.stop, run.error = "model_error", exc
            return run
        except LimitReached as cap:
            run.stop, run.limit = cap.stop, cap
            return run
        run.iterations += 1
        if observe is not None:
            observe(request, response, pick)
        run.messages.append(Message(role="assistant", content=response.content))
        if not response.tool_uses:
            return run
        try:
            results = tuple(
                toolbox.execute(call, time_left_s=wall_s - clock.elapsed())
                for call in response.tool_uses
            )
        except AgentAbort as abort:
            run.stop, run.error = "model_error", abort.error
            return run
        run.messages.append(Message(role="user", content=results))


def _labels(pick: Pick) -> tuple[Model, Role, Route | None]:
    return pick.model, pick.role, pick.route
