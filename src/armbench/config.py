"""The run configuration (YAML), as pydantic models whose every field says what it is for.

A bad config is refused before anything runs, with each problem named by its dotted field path.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from armbench.core import Limits, format_validation_error


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SimModelConfig(_Config):
    """A deterministic simulated coder that plays the task's reference solution through the
    real tools. Results from it are always labelled simulated."""

    provider: Literal["sim"]
    model: str | None = None
    """Name used for pricing (`sim/<model>` in the rate card); defaults to the config key."""
    skill: float = Field(0.9, ge=0, le=1)
    """Chance that an edit is right the first time and that a repair succeeds; also how
    persistent the model is. Low skill makes wrong edits it must notice from check output."""
    verbosity: float = Field(0.5, ge=0, le=1)
    """How much prose accompanies each action (0: a short line; 1: a paragraph)."""
    cache: bool = True
    """Apply the prompt-cache model (Anthropic's rules) to the requests it receives."""
    cache_ttl: Literal["5m", "1h"] = "5m"
    min_cacheable_tokens: int = Field(1024, ge=0)
    """Shortest prefix the cache model will store, as on the real API."""
    output_tokens_per_s: float = Field(60.0, gt=0)
    """Simulated decoding speed, for the simulated latency."""
    input_tokens_per_s: float = Field(5000.0, gt=0)
    """Simulated prefill speed for uncached input (cache reads are ten times faster)."""
    first_token_s: float = Field(0.5, ge=0)
    """Simulated fixed latency per call."""
    reasoning_tokens_per_call: int = Field(0, ge=0)
    """Hidden reasoning tokens each answer costs (counted in output and reported as reasoning)."""


class ScriptModelConfig(_Config):
    """Plays back a file of assistant turns — for tests and exact replays."""

    provider: Literal["script"]
    path: Path
    """YAML or JSON list of turns: `{text, tool_calls: [{name, input}], usage}` (relative to the
    config file)."""
    model: str | None = None
    """Name used for pricing (`script/<model>`); defaults to the config key."""


class _ApiModelConfig(_Config):
    """Settings shared by the models armbench reaches over HTTP through an official SDK."""

    model: str
    """The provider's model id, e.g. `claude-opus-4-7` or `qwen3.5:9b`; also the pricing name."""
    base_url: str | None = None
    """API endpoint; None means the provider's official one (environment variables such as
    ANTHROPIC_BASE_URL are deliberately ignored, so a config means the same on every machine)."""
    max_tokens: int = Field(8192, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    timeout_s: float = Field(600, gt=0)
    """Seconds one HTTP attempt may take before it counts as a `timeout` infra error."""


class AnthropicModelConfig(_ApiModelConfig):
    """A model behind Anthropic's Messages API (official `anthropic` SDK), with prompt caching."""

    provider: Literal["anthropic"]
    api_key_env: str = "ANTHROPIC_API_KEY"
    """Environment variable holding the key; keys are never read from files."""
    cache: bool = True
    """Mark cache breakpoints (`cache_control`) on requests."""
    cache_ttl: Literal["5m", "1h"] = "5m"
    cache_breakpoints: tuple[Literal["tools", "system", "last_user"], ...] = (
        "tools",
        "system",
        "last_user",
    )
    """Where breakpoints go; the default mirrors the published experiment: the last tool
    definition, the system block, and the last block of the latest user message."""


class OpenAIModelConfig(_ApiModelConfig):
    """A model behind any OpenAI-compatible Chat Completions API (OpenAI, OpenRouter, Ollama,
    vLLM, LM Studio), through the official `openai` SDK."""

    provider: Literal["openai"]
    api_key_env: str | None = "OPENAI_API_KEY"
    """Environment variable holding the key. Local servers need none: a missing key is fine
    when `local` is set or `base_url` is a loopback address."""
    local: bool = False
    """A model you run yourself: priced at $0 unless a rate card prices its time."""
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """OpenAI's reasoning models need `max_completion_tokens`; most servers take `max_tokens`."""


ModelConfig = Annotated[
    SimModelConfig | ScriptModelConfig | AnthropicModelConfig | OpenAIModelConfig,
    Field(discriminator="provider"),
]


class RetryPolicy(_Config):
    """How failed model calls are retried. Every attempt, failed or not, is a ledger row."""

    max_attempts: int = Field(6, ge=1)
    """Attempts per model call (rate limits, overload, 5xx, timeouts, dropped connections)."""
    base_delay_s: float = Field(1.0, ge=0)
    """First backoff; it doubles per attempt, with full jitter."""
    max_delay_s: float = Field(30.0, ge=0)
    retry_after_cap_s: float = Field(60.0, ge=0)
    """A server's `retry-after` is honoured up to this many seconds, never an hour."""
    max_identical_failures: int = Field(10, ge=1)
    """Consecutive failures of one class within a trial before it is given up as infra_error."""


class SoloArm(_Config):
    """One model does the whole task with the editor and bash tools."""

    kind: Literal["solo"]
    model: str
    """Key into `models`."""
    limits: Limits = Limits()
    """Overrides the run's limits for this arm."""

    def model_keys(self) -> dict[str, str]:
        """Role → model key, for validation and pricing."""
        return {"solo": self.model}


class ReturnPolicy(_Config):
    """What the orchestrator gets back from a delegation — and then re-reads on every later call."""

    policy: Literal["free", "tail", "structured"] = "free"
    """`free`: the executor's final text, its first `max_chars` kept (as published);
    `tail`: the first and last `max_chars / 2` characters of that text;
    `structured`: a status line plus the unified diff of what the executor changed, capped."""
    max_chars: int = Field(1500, ge=100)


class OrchestratedArm(_Config):
    """A strong model plans and verifies; it hands work to an executor model through a
    `delegate_to_executor(instruction)` tool. The executor runs its own tool loop in the same
    workspace and answers according to `returns`."""

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


class RoutingStrategy(_Config):
    """How each call of a routed arm picks the local or the cloud model (see
    armbench.agent.routing for the features and signals, documented there)."""

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


class RoutedArm(_Config):
    """Each model call goes to a `local` or a `cloud` model, as a strategy decides; both see
    the same conversation and the same tools."""

    kind: Literal["routed"]
    local: str
    cloud: str
    strategy: RoutingStrategy
    limits: Limits = Limits()

    def model_keys(self) -> dict[str, str]:
        keys = {"local": self.local, "cloud": self.cloud}
        if self.strategy.classifier is not None:
            keys["router"] = self.strategy.classifier
        return keys


class SingleShotArm(_Config):
    """One completion per task, no tools: files are extracted from the answer and executed.
    Scored by format (strict FILE blocks) and by execution (lenient extraction)."""

    kind: Literal["single_shot"]
    model: str
    contract: bool = False
    """Wrap the prompt in the execution contract: answer with FILE blocks and a RUN line."""
    limits: Limits = Limits()
    """Only `wall_s` applies: the one completion's time."""

    def model_keys(self) -> dict[str, str]:
        return {"single_shot": self.model}


ArmConfig = Annotated[
    SoloArm | OrchestratedArm | RoutedArm | SingleShotArm, Field(discriminator="kind")
]


class RunConfig(_Config):
    """One experiment: which tasks, which arms, how many replicates."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Names the run directory."""
    pack: str | tuple[str, ...]
    """A built-in pack name or a path to a pack folder (relative to the config file), or a
    list of them. Each arm runs on the tasks of its kind: single-shot arms on single-shot
    tasks, the others on agentic ones."""
    tasks: tuple[str, ...] | None = None
    """Subset of the pack's task ids; all tasks when absent."""
    replicates: int = Field(1, ge=1)
    seed: int = 0
    """Root of every trial's seed; the same seed reproduces the same simulated run."""
    rate_card: Path | None = None
    """TOML rate card ($ per million tokens per kind), relative to the config file."""
    limits: Limits = Limits()
    concurrency: int = Field(2, ge=1)
    """Trials run at once."""
    retry: RetryPolicy = RetryPolicy()
    keep_workspaces: bool = False
    """Keep each trial's workspace after judging (the transcript always keeps the final diff)."""
    models: dict[str, ModelConfig] = Field(min_length=1)
    arms: dict[str, ArmConfig] = Field(min_length=1)

    @property
    def packs(self) -> tuple[str, ...]:
        return (self.pack,) if isinstance(self.pack, str) else self.pack

    def model_name(self, key: str) -> str:
        """The pricing name of model `key`: its `model` field, else the key itself."""
        return self.models[key].model or key

    def canonical_hash(self) -> str:
        """sha256 of the validated config, independent of YAML formatting and key order."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


_UNION_TAGS = frozenset(
    get_args(cls.model_fields[field].annotation)[0]
    for cls, field in (
        (SimModelConfig, "provider"),
        (ScriptModelConfig, "provider"),
        (AnthropicModelConfig, "provider"),
        (OpenAIModelConfig, "provider"),
        (SoloArm, "kind"),
        (OrchestratedArm, "kind"),
        (RoutedArm, "kind"),
        (SingleShotArm, "kind"),
    )
)
"""Discriminator values, which pydantic puts in error paths and users never wrote."""


_ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_ROLE_FIELDS = {"solo": "model", "single_shot": "model", "router": "strategy.classifier"}
"""The config field that names the model of each role."""


class ConfigError(ValueError):
    """A config that cannot run; the message names the file, the field and the problem."""


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.sub=value` overrides (values parsed as YAML scalars) to a raw config mapping."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. replicates=5")
        node: dict[str, Any] = raw
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a mapping")
            node = child
        node[parts[-1]] = yaml.safe_load(value)
    return raw


def parse_config(raw: Any, *, source: str, base_dir: Path) -> RunConfig:
    """Validate a raw mapping; relative paths in it resolve against `base_dir`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{source}: {format_validation_error(exc, union_tags=_UNION_TAGS)}"
        ) from exc
    problems = [
        f"arms.{name}: arm names are letters, digits and . _ + - (they name files)"
        for name in config.arms
        if not _ARM_NAME.fullmatch(name)
    ]
    known = ", ".join(sorted(config.models))
    for arm_name, arm in config.arms.items():
        for role, key in arm.model_keys().items():
            if key not in config.models:
                field = _ROLE_FIELDS.get(role, role)
                problems.append(f"arms.{arm_name}.{field}: unknown model {key!r} (known: {known})")
        strategy = arm.strategy if isinstance(arm, RoutedArm) else None
        if strategy is not None and strategy.name == "classifier" and not strategy.classifier:
            problems.append(f"arms.{arm_name}.strategy.classifier: the classifier needs a model")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return _resolve_paths(config, base_dir)


def _resolve_paths(config: RunConfig, base_dir: Path) -> RunConfig:
    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else (base_dir / path).resolve()

    models: dict[str, ModelConfig] = {
        key: m.model_copy(update={"path": absolute(m.path)})
        if isinstance(m, ScriptModelConfig)
        else m
        for key, m in config.models.items()
    }

    def pack_path(pack: str) -> str:
        return str(absolute(Path(pack))) if "/" in pack or pack.startswith(".") else pack

    pack: str | tuple[str, ...] = (
        pack_path(config.pack)
        if isinstance(config.pack, str)
        else tuple(pack_path(p) for p in config.pack)
    )
    card = absolute(config.rate_card) if config.rate_card is not None else None
    return config.model_copy(update={"models": models, "pack": pack, "rate_card": card})


def load_config(path: Path, overrides: list[str] | None = None) -> RunConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    raw = (
        apply_overrides(raw if isinstance(raw, dict) else {}, overrides or []) if overrides else raw
    )
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)
