"""Model configs, one per provider (`provider:` picks it), and the retry policy of model calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from armbench.config.base import ConfigModel
from armbench.config.faults import parse_fault


class SimModelConfig(ConfigModel):
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
    faults: tuple[str, ...] = ()
    """Failures to inject when this sim answers an external agent over HTTP (an `external`
    arm's serve-sim), each in `armbench serve-sim --fault` syntax, e.g. `status=401` or
    `status=529,retry_after=0.2,times=2`. armbench's own arms call the sim in process and
    ignore them."""

    @field_validator("faults")
    @classmethod
    def _faults_parse(cls, faults: tuple[str, ...]) -> tuple[str, ...]:
        for spec in faults:
            parse_fault(spec)  # ValueError naming the rule and the problem
        return faults

    @model_serializer(mode="wrap")
    def _without_later_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave `faults` out while empty, so configs written before it existed keep their
        canonical hash."""
        data = handler(self)
        if isinstance(data, dict) and not self.faults:
            data.pop("faults", None)
        return data


class ScriptModelConfig(ConfigModel):
    """Plays back a file of assistant turns — for tests and exact replays."""

    provider: Literal["script"]
    path: Path
    """YAML or JSON list of turns: `{text, tool_calls: [{name, input}], usage}` (relative to the
    config file)."""
    model: str | None = None
    """Name used for pricing (`script/<model>`); defaults to the config key."""


class _ApiModelConfig(ConfigModel):
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


class RetryPolicy(ConfigModel):
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


MODEL_CONFIGS: tuple[type[ConfigModel], ...] = get_args(get_args(ModelConfig)[0])
"""Every provider's config model, read off the union (which lists them once)."""
