"""What every arm needs to run one trial, and what it hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from armbench.agent.loop import AgentRun, Ledger
from armbench.agent.tools import ExtraTool, Toolbox
from armbench.core import Limits, Message, Role
from armbench.env import Environment
from armbench.models.base import Model
from armbench.models.retry import RetryingCaller
from armbench.models.types import TaskBrief


class ModelBuilder(Protocol):
    """Builds a model of the arm for one role of this trial (sims get the brief they play)."""

    def __call__(self, key: str, role: Role, brief: TaskBrief | None = None, /) -> Model: ...


@dataclass(frozen=True)
class ArmContext:
    prompt: str
    env: Environment
    """The trial's workspace."""
    limits: Limits
    """The main agent's resolved limits (every field set)."""
    check_commands: tuple[str, ...]
    ledger: Ledger
    caller: RetryingCaller
    build: ModelBuilder
    build_pair: Callable[[str, str], tuple[Model, Model]]
    """A routed arm's (local, cloud) models; two sims share one coder's decisions."""

    @property
    def max_iterations(self) -> int:
        assert self.limits.max_iterations is not None
        return self.limits.max_iterations

    @property
    def wall_s(self) -> float:
        assert self.limits.wall_s is not None
        return self.limits.wall_s

    def toolbox(
        self,
        *,
        read_only: bool = False,
        extra: tuple[ExtraTool, ...] = (),
        bash_timeout_s: float | None = None,
    ) -> Toolbox:
        """Tools on the trial's workspace; `bash_timeout_s` overrides the main agent's."""
        timeout = bash_timeout_s or self.limits.bash_timeout_s
        assert timeout is not None
        return Toolbox(self.env, bash_timeout_s=timeout, read_only=read_only, extra=extra)


@dataclass
class ArmOutcome:
    run: AgentRun
    """The main agent's run: its stop reason and conversation decide and document the trial."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Arm-specific records for the trial (delegations, routing decisions, delegation tax)."""
    side_conversations: list[dict[str, Any]] = field(default_factory=list)
    """Other agents' conversations (each executor's), for the transcript."""


def conversation(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.model_dump() for m in messages]
