"""The run configuration (YAML): which tasks, which arms on which models, how many times.

A bad config is refused before anything runs, with each problem named by its dotted field path
and the file it is in. A `sweep:` is expanded into arms before the arms are validated
(armbench.config.sweep).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from armbench.config.arms import ARM_SETTINGS, ArmConfig, ExternalArm, RoutedArm
from armbench.config.base import ConfigError, ConfigModel
from armbench.config.models import MODEL_CONFIGS, ModelConfig, RetryPolicy, ScriptModelConfig
from armbench.config.sweep import Expansion, expand
from armbench.core import DEFAULT_COMMAND_LIMITS, CommandLimits, EndpointLimits, Limits
from armbench.prompts import PromptError, override


class RunConfig(ConfigModel):
    """One experiment: which tasks, which arms, how many replicates.

    A config file may also hold `sweep:`, a list of `SweepEntry` (armbench.config.sweep) that
    loading expands into `arms`: what is validated, hashed and recorded is the arms it made.
    """

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
    """Trials run at once. Trials mostly wait for models, so this can be well above the CPU
    count: checkers are bounded by `judge_concurrency`, model calls by `rate_limits`."""
    judge_concurrency: int | None = Field(None, ge=1)
    """Checker runs at once across the run — the judge's gates and the preparation of task
    templates, both CPU-bound — apart from `concurrency`. None: the machine's CPU count."""
    budget_usd: float | None = Field(None, ge=0)
    """Dollars the run may spend on model calls, at its rate card. Each call first reserves its
    worst case (armbench.models.budget) and is refused if that would cross the budget, so the
    spend never exceeds it. Once a call is refused, trials under way end as `limit` (reason
    `budget`) at their next call and no new trial starts; a resumed run counts what its
    recorded trials spent. None: no budget."""
    rate_limits: dict[str, EndpointLimits] = Field(default_factory=dict)
    """How fast model endpoints may be called, by provider name (each endpoint of the provider)
    or model key (that model's endpoint, over its provider's entry), e.g. `{anthropic:
    {max_connections: 8, rpm: 50}}`. Endpoints without an entry: `concurrency` calls in flight,
    no rpm limit; calls in flight adapt to 429/529 on every endpoint."""
    retry: RetryPolicy = RetryPolicy()
    keep_workspaces: bool = False
    """Keep each trial's workspace after judging, in the run directory's `work/` (the
    transcript always keeps the final diff)."""
    sandbox: Literal["auto", "bwrap", "local"] = "auto"
    """Where commands run: `bwrap`, a bubblewrap sandbox per command (no network, nothing
    outside the workspace but a read-only system and toolchain); `local`, plain processes
    (isolation by convention); `auto`, bwrap wherever it works. Asking for `bwrap` where it
    does not work is an error before anything runs."""
    command_limits: CommandLimits = DEFAULT_COMMAND_LIMITS
    """Caps on every command a trial runs (processes, memory, file size, open files, CPU)."""
    models: dict[str, ModelConfig] = Field(min_length=1)
    arms: dict[str, ArmConfig] = Field(min_length=1)

    @property
    def packs(self) -> tuple[str, ...]:
        return (self.pack,) if isinstance(self.pack, str) else self.pack

    def model_name(self, key: str) -> str:
        """The pricing name of model `key`: its `model` field, else the key itself."""
        return self.models[key].model or key

    @model_serializer(mode="wrap")
    def _without_later_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave out fields added after the first release while they hold their defaults, so
        configs written before them keep their canonical hash and their manifests."""
        data = handler(self)
        if isinstance(data, dict):
            later = ("sandbox", "command_limits", "judge_concurrency", "budget_usd", "rate_limits")
            for name in later:
                default = type(self).model_fields[name].get_default(call_default_factory=True)
                if getattr(self, name) == default:
                    data.pop(name, None)
        return data

    @model_validator(mode="after")
    def _rate_limits_name_providers_or_models(self) -> RunConfig:
        providers = {get_args(c.model_fields["provider"].annotation)[0] for c in MODEL_CONFIGS}
        unknown = sorted(set(self.rate_limits) - providers - set(self.models))
        if unknown:
            raise ValueError(
                f"rate_limits: {', '.join(unknown)} is neither a provider "
                f"({', '.join(sorted(providers))}) nor a model key ({', '.join(self.models)})"
            )
        return self

    def canonical_hash(self) -> str:
        """sha256 of the validated config, independent of YAML formatting and key order."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


_UNION_TAGS = frozenset(
    get_args(cls.model_fields[field].annotation)[0]
    for classes, field in ((MODEL_CONFIGS, "provider"), (ARM_SETTINGS, "kind"))
    for cls in classes
)
"""Discriminator values, which pydantic puts in error paths and users never wrote."""


_ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+=-]*")


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.sub=value` overrides to a raw config mapping, in order. The value is YAML
    (`[1, 2]` is a list, `{provider: sim}` a mapping); a number in the key indexes a list, and
    a key the mapping already has whole, dots and all, is used whole
    (`sweep.0.grid.returns.max_chars=[1000, 4000]`); missing mappings are made."""
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.split(".")
        if not sep or "" in parts:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. replicates=5")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"--set {item!r}: the value is not valid YAML: {problem}") from exc
        node: Any = raw
        n = 0
        while True:
            where, step = ".".join(parts[:n]), 1
            if isinstance(node, list):
                if not parts[n].isdigit() or int(parts[n]) >= len(node):
                    raise ConfigError(
                        f"--set {item!r}: {where!r} is a list of {len(node)}: "
                        f"index it with 0 to {len(node) - 1}"
                    )
                index: int | str = int(parts[n])
            elif isinstance(node, dict):  # a key holding dots (`returns.max_chars`) whole
                step = next(
                    (k for k in range(len(parts) - n, 1, -1) if ".".join(parts[n : n + k]) in node),
                    1,
                )
                index = ".".join(parts[n : n + step])
            else:
                raise ConfigError(f"--set {item!r}: {where!r} is not a mapping")
            n += step
            if n == len(parts):
                node[index] = value
                break
            node = node.setdefault(index, {}) if isinstance(node, dict) else node[index]
    return raw


def parse_config(raw: Any, *, source: str, base_dir: Path) -> RunConfig:
    """Validate a raw mapping; relative paths in it resolve against `base_dir`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        raw, swept = expand(raw)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {swept.explain(exc, _UNION_TAGS)}") from exc
    problems = [
        f"{swept.where(name, ())}: arm names are letters, digits and . _ + = - (they name files)"
        for name in config.arms
        if not _ARM_NAME.fullmatch(name)
    ]
    known = ", ".join(sorted(config.models))
    for arm_name, arm in config.arms.items():
        for field, key in arm.model_keys().items():
            if key not in config.models:
                where = swept.where(arm_name, field.split("."))
                problems.append(f"{where}: unknown model {key!r} (known: {known})")
        if isinstance(arm, ExternalArm):
            for field, key in arm.model_keys().items():
                if field.endswith("classifier"):  # asked by armbench itself, not the agent
                    continue
                problem = _external_model_problem(arm, key, config.models.get(key))
                if problem:
                    problems.append(f"{swept.where(arm_name, field.split('.'))}: {problem}")
        at: tuple[str, ...] = ()
        strategy = arm.strategy if isinstance(arm, RoutedArm) else None
        if isinstance(arm, ExternalArm) and arm.routing is not None:
            strategy, at = arm.routing.strategy, ("routing",)
        if strategy is not None and strategy.name == "classifier" and not strategy.classifier:
            where = swept.where(arm_name, (*at, "strategy", "classifier"))
            problems.append(f"{where}: the classifier needs a model")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(dict.fromkeys(problems)))
    config = _resolve_paths(config, base_dir)
    problems = _prompt_problems(config, swept)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(dict.fromkeys(problems)))
    return config


def _external_model_problem(arm: ExternalArm, key: str, model: ModelConfig | None) -> str | None:
    """Why model `key` cannot serve the external agent of `arm` (None: it can, or it is not
    a model, which is said apart). The gateway does not translate between API formats, so an
    API model must speak the agent's; a sim speaks both; a script has no server."""
    if model is None:
        return None
    if model.provider == "script":
        return f"{key!r} is a script model; an external agent needs an api or sim model"
    if model.provider in ("anthropic", "openai") and model.provider != arm.speaks:
        return (
            f"{arm.agent} speaks the {arm.speaks} API but {key!r} is an {model.provider} "
            f"model; the gateway does not translate between them"
        )
    return None


def _prompt_problems(config: RunConfig, swept: Expansion) -> list[str]:
    """Each override must be readable UTF-8, valid Jinja, and use only its prompt's variables."""
    problems = []
    for arm_name, arm in config.arms.items():
        for prompt_id, replacement in arm.prompts.items():
            where = swept.where(arm_name, ("prompts", prompt_id))
            try:
                override(prompt_id, replacement.template(), source=where)
            except OSError as exc:
                problems.append(f"{where}.file: cannot read {replacement.file}: {exc.strerror}")
            except UnicodeDecodeError as exc:
                problems.append(f"{where}.file: {replacement.file}: {_not_utf8(exc)}")
            except PromptError as exc:
                problems.append(str(exc))
    return problems


def _not_utf8(exc: UnicodeDecodeError) -> str:
    return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"


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
    arms = {name: _with_prompt_files(arm, absolute) for name, arm in config.arms.items()}
    update = {"models": models, "pack": pack, "rate_card": card, "arms": arms}
    return config.model_copy(update=update)


def _with_prompt_files(arm: ArmConfig, absolute: Callable[[Path], Path]) -> ArmConfig:
    if not any(p.file is not None for p in arm.prompts.values()):
        return arm
    prompts = {
        prompt_id: p.model_copy(update={"file": absolute(p.file)}) if p.file is not None else p
        for prompt_id, p in arm.prompts.items()
    }
    return arm.model_copy(update={"prompts": prompts})


def load_config(path: Path, overrides: list[str] | None = None) -> RunConfig:
    """The config in the YAML file `path`, with `--set`-style `overrides` applied."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {_not_utf8(exc)}; save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if overrides and isinstance(raw, dict):
        raw = apply_overrides(raw, overrides)
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)
