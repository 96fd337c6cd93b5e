"""What the arm tests share: scripted models, a recording model, a trial's models over fixed
factories, and an ArmContext on a scratch repository."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from armbench.agent.loop import Ledger, TrialClock
from armbench.arms.base import ArmContext
from armbench.config import (
    RetryPolicy,
)
from armbench.core import (
    Limits,
    Message,
    ModelRequest,
    ModelResponse,
    Role,
    ToolResultBlock,
    ToolUseBlock,
)
from armbench.env.local import LocalEnvironment
from armbench.models.base import Model, ModelIdentity
from armbench.models.retry import RetryingCaller
from armbench.models.script import ScriptedTurn, ScriptModel
from armbench.prompts import (
    PromptSet,
)

LIMITS = Limits(max_iterations=12, wall_s=600, bash_timeout_s=30)
PROMPTS = PromptSet()


def script(name: str, *turns: dict[str, Any]) -> ScriptModel:
    return ScriptModel(name, [ScriptedTurn.model_validate(t) for t in turns])


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "input": arguments}


class Recording:
    """A model that keeps every request it is sent."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner
        self.requests: list[ModelRequest] = []

    @property
    def identity(self) -> ModelIdentity:
        return self.inner.identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return self.inner.complete(request)


Factory = Callable[[Role], Model]


@dataclass
class Builds:
    """A trial's models (`arms.ModelSeats`) over fixed factories, with a log of what was built."""

    factories: dict[str, Factory]
    routed: tuple[Model, Model] | None = None
    log: list[tuple[str, Role]] = field(default_factory=list)

    def model(self, key: str, role: Role) -> Model:
        self.log.append((key, role))
        return self.factories[key](role)

    def pair(self, local: str, cloud: str) -> tuple[Model, Model]:
        assert self.routed is not None
        return self.routed


def fixed(model: Model) -> Factory:
    return lambda _role: model


def queue(*models: Model) -> Factory:
    """A factory handing out `models` in order (one executor per delegation)."""
    pending = list(models)
    return lambda _role: pending.pop(0)


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


def context(
    root: Path,
    builds: Builds,
    *,
    checks: tuple[str, ...] = (),
    limits: Limits = LIMITS,
    env: LocalEnvironment | None = None,
) -> ArmContext:
    return ArmContext(
        task=None,  # type: ignore[arg-type]  # agentic arms never read it
        prompt="Do the task.",
        env=env or LocalEnvironment(root, home=root.parent),
        limits=limits,
        check_commands=checks,
        ledger=Ledger(TrialClock()),
        caller=RetryingCaller(RetryPolicy(), sleep=lambda _s: None),
        models=builds,
        prompts=PROMPTS,
    )


def results(messages: Sequence[Message]) -> list[ToolResultBlock]:
    return [b for m in messages for b in m.content if isinstance(b, ToolResultBlock)]


def calls_of(messages: Sequence[Message]) -> list[ToolUseBlock]:
    return [c for m in messages for c in m.tool_uses]
