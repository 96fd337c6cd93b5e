"""What an arm is: a kind registered by name, the context it runs a trial in, what it returns.

An arm kind is a config model (armbench.config.arms) plus a `run` function here in `arms`; the
registry (armbench.arms.registry) pairs them by kind. `run` does the arm's model work only: the
runner prepares the workspace before it and judges and records the trial after it, the same way
for every kind, from the `ArmOutcome` it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from armbench.agent.loop import AgentRun, Ledger
from armbench.agent.tools import ExtraTool, Toolbox
from armbench.config import ArmSettings, ExternalArm
from armbench.core import (
    CallRecord,
    LimitReached,
    Limits,
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    Role,
)
from armbench.env import Environment
from armbench.models.base import Model
from armbench.models.retry import RetryingCaller
from armbench.prompts import PromptSet
from armbench.tasks import AnyTask, TaskKind


class ModelSeats(Protocol):
    """The trial's models, built on demand for the role each one plays."""

    def model(self, key: str, role: Role) -> Model:
        """A fresh model for `key` (a key of the config's `models`) in `role`."""
        ...

    def pair(self, local: str, cloud: str) -> tuple[Model, Model]:
        """A routed arm's two models; two sims share one coder's decisions."""
        ...

    def gateway(
        self,
        arm: ExternalArm,
        role: Role,
        classify: Callable[[ModelRequest], ModelResponse] | None = None,
        classifier_system: str = "",
    ) -> AbstractContextManager[GatewaySeat]:
        """A metering gateway for an external agent's calls (to its `model`, or routed per
        call by its `routing`; a classifier strategy asks `classify`, with its prompt),
        open for the duration of the block."""
        ...


class GatewaySeat(Protocol):
    """How an external agent reaches its model: the gateway's address as the agent's
    commands see it, and the key that attributes its calls to this trial."""

    @property
    def base_url(self) -> str:
        """What to give the agent as its API base URL (the SDK's convention for the wire)."""
        ...

    @property
    def key(self) -> str:
        """The key the agent presents (a gateway key for this trial, never a real one)."""
        ...

    @property
    def model(self) -> str:
        """The model name the agent asks for."""
        ...

    @property
    def prelude(self) -> str:
        """Bash to run before the agent in the same command (starts the sandbox's relay to
        the gateway; empty when the agent can reach it directly)."""
        ...

    @property
    def readable(self) -> tuple[Path, ...]:
        """Folders the agent's commands must be able to read (the gateway's socket)."""
        ...

    def records(self) -> list[CallRecord]:
        """The trial's calls through the gateway, once every one under way has ended."""
        ...

    @property
    def limit(self) -> LimitReached | None:
        """The trial cap (or the run's budget) that refused one of its calls, if one did."""
        ...

    @property
    def failure(self) -> ModelError | None:
        """A failure of armbench's own call that routing needed (its classifier's), if one
        ended the agent's calls."""
        ...

    @property
    def decisions(self) -> list[dict[str, object]]:
        """Routed: where each call went and why, in the order they came."""
        ...

    def served(self) -> dict[str, int] | None:
        """The tokens the upstream counted itself, by kind, where it says (a simulated model's
        server); None for a real API, which tells each call only."""
        ...


@dataclass(frozen=True)
class ArmContext:
    task: AnyTask
    prompt: str
    """The task's prompt."""
    env: Environment | None
    """The trial's workspace (None for single-shot tasks, which have no tools)."""
    limits: Limits
    """The main agent's resolved limits (every field set)."""
    check_commands: tuple[str, ...]
    ledger: Ledger
    caller: RetryingCaller
    models: ModelSeats
    prompts: PromptSet
    """The arm's prompts: the built-in ones with its config's overrides in their place."""
    environment: Callable[[Sequence[Path]], Environment] | None = None
    """Another Environment on the trial's workspace whose commands may also read the given
    folders (an external agent's installation); None for single-shot tasks."""

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
        assert self.env is not None, "tools need a workspace"
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
    answer: str | None = None
    """A single-shot arm's answer, which the judge scores."""


RunArm = Callable[[Any, ArmContext], ArmOutcome]


@dataclass(frozen=True)
class ArmKind:
    """One registered kind of arm."""

    kind: str
    """The config's `kind:` value."""
    settings: type[ArmSettings]
    """Its config model (armbench.config.arms)."""
    tasks: TaskKind
    """The tasks it runs on."""
    run: RunArm
    """Runs one trial of an arm of this kind; takes its settings and the trial's context."""


def conversation(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.model_dump() for m in messages]
