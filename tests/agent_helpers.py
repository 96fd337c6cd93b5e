"""Running one agent alone in tests, the way a solo arm does."""

from __future__ import annotations

from dataclasses import dataclass

from armbench.agent import loop
from armbench.agent.loop import Ledger, TrialClock, always
from armbench.agent.tools import Toolbox
from armbench.config import RetryPolicy
from armbench.core import CallRecord, Message, ModelError, Role
from armbench.models.base import Model
from armbench.models.retry import RetryingCaller
from armbench.prompts import AGENT_SYSTEM, PromptSet


@dataclass
class SoloRun:
    """One agent's run and the ledger rows it left."""

    stop: str
    messages: list[Message]
    iterations: int
    error: ModelError | None
    calls: list[CallRecord]


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
) -> SoloRun:
    """One model working alone, as a solo arm runs it."""
    ledger = Ledger(clock)
    run = loop.run_agent(
        always(model, role),
        toolbox,
        prompt=prompt,
        max_iterations=max_iterations,
        wall_s=wall_s,
        ledger=ledger,
        caller=caller,
        system=PromptSet().render(AGENT_SYSTEM),
    )
    return SoloRun(run.stop, run.messages, run.iterations, run.error, ledger.rows)


def no_wait() -> RetryingCaller:
    """A fresh per-trial caller that retries without sleeping."""
    return RetryingCaller(RetryPolicy(max_attempts=3), sleep=lambda _s: None)
