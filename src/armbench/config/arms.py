"""Arm configs, one per kind (`kind:` picks it). Each kind's code is in armbench.arms.

Every arm may replace any of the prompts its kind renders (`prompts:`), by id: the published
free-executor study's orchestrator was told never to edit, and that instruction is a prompt an
experiment can now vary like any other parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from armbench.config.base import ConfigModel
from armbench.core import Limits, looks_secret
from armbench.prompts import (
    AGENT_SYSTEM,
    CONTRACT,
    EXECUTOR_SYSTEM,
    ORCHESTRATOR_SYSTEM,
    ROUTER_SYSTEM,
)


class PromptOverride(ConfigModel):
    """A replacement for one of an arm's prompts: a Jinja template with the same variables as
    the prompt it replaces (armbench/prompts/<id>.yaml lists them), inline or in a file."""

    text: str | None = None
    """The template itself."""
    file: Path | None = None
    """A UTF-8 file holding the template, relative to the config file."""

    @model_validator(mode="after")
    def _exactly_one(self) -> PromptOverride:
        if (self.text is None) == (self.file is None):
            raise ValueError("give the template as `text` or as a `file`, not both or neither")
        return self

    def template(self) -> str:
        """The template text (read from `file` when it is one; OSError when unreadable)."""
        if self.text is not None:
            return self.text
        assert self.file is not None
        return self.file.read_text(encoding="utf-8")


class SweepPoint(ConfigModel):
    """Where an arm made by a sweep (armbench.config.sweep) sits in it, so reports can group
    the arms of one sweep by the values they were given."""

    base: str
    """The name of the arm it was made from."""
    values: dict[str, Any]
    """Each field the sweep set, by its dotted path relative to the arm (`returns.max_chars`),
    → the value it has in this arm."""


class ArmSettings(ConfigModel):
    """What every arm kind's config has besides its own fields (each also has `kind`, `limits`
    and the models it names): the prompts it may replace, and its place in a sweep."""

    PROMPTS: ClassVar[tuple[str, ...]] = ()
    """The ids of the prompts this kind renders, which `prompts` may replace."""

    prompts: dict[str, PromptOverride] = Field(default_factory=dict)
    """Prompt id → its replacement for this arm (ids: see `PROMPTS` of the kind)."""
    sweep: SweepPoint | None = None
    """Written by the expansion of the config's `sweep:` on each arm it makes (and kept in the
    manifest): the arm it came from and the values it was given. None for an arm written by
    hand."""

    @field_validator("prompts")
    @classmethod
    def _known_prompts(cls, prompts: dict[str, PromptOverride]) -> dict[str, PromptOverride]:
        unknown = sorted(set(prompts) - set(cls.PROMPTS))
        if unknown:
            allowed = ", ".join(cls.PROMPTS)
            raise ValueError(
                f"{', '.join(unknown)}: not a prompt of this kind of arm (its prompts: {allowed})"
            )
        return prompts

    @model_serializer(mode="wrap")
    def _without_later_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave `prompts` and `sweep` out while unset, so configs written before they existed
        keep their canonical hash and their manifests."""
        data = handler(self)
        if isinstance(data, dict):
            if not self.prompts:
                data.pop("prompts", None)
            if self.sweep is None:
                data.pop("sweep", None)
        return data

    def model_keys(self) -> dict[str, str]:
        """The config field naming each model the arm uses → that model's key in `models`."""
        raise NotImplementedError


class SoloArm(ArmSettings):
    """One model does the whole task with the editor and bash tools."""

    PROMPTS = (AGENT_SYSTEM,)

    kind: Literal["solo"]
    model: str
    """Key into `models`."""
    limits: Limits = Limits()
    """Overrides the run's limits for this arm."""

    def model_keys(self) -> dict[str, str]:
        return {"model": self.model}


class ReturnPolicy(ConfigModel):
    """What the orchestrator gets back from a delegation — and then re-reads on every later call."""

    policy: Literal["free", "tail", "structured"] = "free"
    """`free`: the executor's final text, its first `max_chars` kept (as published);
    `tail`: the first and last `max_chars / 2` characters of that text;
    `structured`: a status line plus the unified diff of what the executor changed, capped."""
    max_chars: int = Field(1500, ge=100)


class OrchestratedArm(ArmSettings):
    """A strong model plans and verifies; it hands work to an executor model through a
    `delegate_to_executor(instruction)` tool. The executor runs its own tool loop in the same
    workspace and answers according to `returns`."""

    PROMPTS = (ORCHESTRATOR_SYSTEM, EXECUTOR_SYSTEM)

    kind: Literal["orchestrated"]
    orchestrator: str
    executor: str
    returns: ReturnPolicy = ReturnPolicy()
    orchestrator_may_edit: bool = True
    """False reproduces the published setup: the orchestrator may view files and run commands,
    but every change must go through the executor."""
    limits: Limits = Limits()
    """The orchestrator's limits (its iterations; the trial's wall clock)."""
    executor_limits: Limits = Limits(max_iterations=20)
    """Each delegation's limits (its iterations and bash timeout)."""

    def model_keys(self) -> dict[str, str]:
        return {"orchestrator": self.orchestrator, "executor": self.executor}


class RoutingStrategy(ConfigModel):
    """How each call of a routed arm picks the local or the cloud model (see
    armbench.arms.routing for the signals and the strategies, documented there)."""

    name: Literal["always-cloud", "always-local", "heuristic", "cascade", "classifier"]
    threshold: float = Field(0.5, ge=0)
    """heuristic: the score at or above which a call goes to the cloud; cascade: failing check
    runs in a row (rounded) that escalate to the cloud."""
    deescalate: bool = False
    """cascade: go back to the local model once a check run passes on the cloud."""
    no_progress_calls: int = Field(6, ge=1)
    """cascade: calls without a successful edit that count as no progress and escalate."""
    classifier: str | None = None
    """classifier: key into `models` of the cheap model asked where each call should go (its
    calls are charged to role `router`)."""


class RoutedArm(ArmSettings):
    """Each model call goes to a `local` or a `cloud` model, as a strategy decides; both see
    the same conversation and the same tools."""

    PROMPTS = (AGENT_SYSTEM, ROUTER_SYSTEM)

    kind: Literal["routed"]
    local: str
    cloud: str
    strategy: RoutingStrategy
    limits: Limits = Limits()

    def model_keys(self) -> dict[str, str]:
        keys = {"local": self.local, "cloud": self.cloud}
        if self.strategy.classifier is not None:
            keys["strategy.classifier"] = self.strategy.classifier
        return keys


class SingleShotArm(ArmSettings):
    """One completion per task, no tools: files are extracted from the answer and executed.
    Scored by format (strict FILE blocks) and by execution (lenient extraction)."""

    PROMPTS = (CONTRACT,)

    kind: Literal["single_shot"]
    model: str
    contract: bool = False
    """Wrap the prompt in the execution contract: answer with FILE blocks and a RUN line."""
    limits: Limits = Limits()
    """Only `wall_s` applies: the one completion's time."""

    def model_keys(self) -> dict[str, str]:
        return {"model": self.model}


ExternalAgent = Literal["aider", "mini-swe-agent", "claude-code", "command"]
AGENT_WIRES: dict[str, Literal["openai", "anthropic"]] = {
    "aider": "openai",
    "mini-swe-agent": "openai",
    "claude-code": "anthropic",
}
"""The API format each packaged agent speaks (a `command` says its own)."""


class ExternalRouting(ConfigModel):
    """An external agent's calls routed per call between two models at the gateway, as the
    routed arm routes armbench's own (the signals are read from the agent's conversation)."""

    local: str
    """Key into `models`."""
    cloud: str
    """Key into `models`."""
    strategy: RoutingStrategy
    """As for the routed arm; a `classifier`'s own calls are charged to role `router`."""


class ExternalArm(ArmSettings):
    """Someone else's coding agent (aider, mini-swe-agent, Claude Code, or any command) runs
    the task headless in the sandbox, its model calls metered through armbench's gateway (see
    armbench.arms.external). Judged like every other arm."""

    PROMPTS = (ROUTER_SYSTEM,)
    """The agent brings its own prompts; armbench renders only its classifier's, when its
    `routing` uses one."""

    kind: Literal["external"]
    agent: ExternalAgent
    """Which adapter launches it; `command` runs the `command` template below."""
    model: str | None = None
    """Key into `models` (an anthropic, openai or sim model) the agent's calls go to; or
    `routing`, not both."""
    routing: ExternalRouting | None = None
    """Route each call between two models instead of sending all to `model`."""
    version: str | None = None
    """The agent's version, installed once into its own cached environment; None: the
    version armbench pins for the adapter (`armbench agents` lists them)."""
    edit_format: Literal["whole", "diff"] | None = None
    """aider only: the edit format it is told to use (None: aider's own choice for the model)."""
    command: str | None = None
    """`agent: command` only: a bash command run in the workspace. It finds the task's prompt
    in `$ARMBENCH_PROMPT` (and the file `$ARMBENCH_PROMPT_FILE`), the gateway in
    `$ARMBENCH_BASE_URL` with the key `$ARMBENCH_API_KEY` and the model name `$ARMBENCH_MODEL`
    (also as `OPENAI_BASE_URL`/`OPENAI_API_KEY` or `ANTHROPIC_BASE_URL`/`ANTHROPIC_API_KEY`)."""
    wire: Literal["openai", "anthropic"] = "openai"
    """`agent: command` only: the API format the command speaks."""
    env: dict[str, str] = Field(default_factory=dict)
    """Variables the agent's command also gets, over the adapter's (its own settings, e.g.
    `MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT: "2"`); never a credential: a name that looks like
    one is refused, and the agent's only key is the gateway's."""
    limits: Limits = Limits()
    """Only `wall_s` (the agent's whole run) and the call caps apply: the agent's own loop
    decides its iterations."""

    @model_validator(mode="after")
    def _command_only_for_command(self) -> ExternalArm:
        if (self.agent == "command") != (self.command is not None):
            raise ValueError("`command` is required for `agent: command` and only for it")
        if self.edit_format is not None and self.agent != "aider":
            raise ValueError("`edit_format` is an aider setting")
        if (self.model is None) == (self.routing is None):
            raise ValueError("give the agent a `model` or a `routing`, not both or neither")
        secret = sorted(name for name in self.env if looks_secret(name))
        if secret:
            raise ValueError(f"env: {', '.join(secret)} looks like a credential; none is passed")
        return self

    @property
    def speaks(self) -> Literal["openai", "anthropic"]:
        """The API format the agent's calls arrive in at the gateway."""
        return AGENT_WIRES.get(self.agent, self.wire)

    def model_keys(self) -> dict[str, str]:
        if self.routing is not None:
            keys = {"routing.local": self.routing.local, "routing.cloud": self.routing.cloud}
            if self.routing.strategy.classifier is not None:
                keys["routing.strategy.classifier"] = self.routing.strategy.classifier
            return keys
        assert self.model is not None
        return {"model": self.model}


ArmConfig = Annotated[
    SoloArm | OrchestratedArm | RoutedArm | SingleShotArm | ExternalArm,
    Field(discriminator="kind"),
]


ARM_SETTINGS: tuple[type[ArmSettings], ...] = get_args(get_args(ArmConfig)[0])
"""Every arm kind's config model, read off the union (which lists them once); the registry of
arm kinds (armbench.arms.registry) must name the same kinds."""
