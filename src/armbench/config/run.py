"""The run configuration (YAML): which tasks, which arms on which models, how many times.

A bad config is refused before anything runs, with each problem named by its dotted field path
and the file it is in.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import Field, SerializerFunctionWrapHandler, ValidationError, model_serializer

from armbench.config.arms import ARM_SETTINGS, ArmConfig, RoutedArm
from armbench.config.base import ConfigModel
from armbench.config.models import MODEL_CONFIGS, ModelConfig, RetryPolicy, ScriptModelConfig
from armbench.core import DEFAULT_COMMAND_LIMITS, CommandLimits, Limits, format_validation_error
from armbench.prompts import PromptError, override


class RunConfig(ConfigModel):
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
            for name in ("sandbox", "command_limits"):
                if getattr(self, name) == type(self).model_fields[name].default:
                    data.pop(name, None)
        return data

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


_ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


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
        for field, key in arm.model_keys().items():
            if key not in config.models:
                problems.append(f"arms.{arm_name}.{field}: unknown model {key!r} (known: {known})")
        strategy = arm.strategy if isinstance(arm, RoutedArm) else None
        if strategy is not None and strategy.name == "classifier" and not strategy.classifier:
            problems.append(f"arms.{arm_name}.strategy.classifier: the classifier needs a model")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    config = _resolve_paths(config, base_dir)
    problems = _prompt_problems(config)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return config


def _prompt_problems(config: RunConfig) -> list[str]:
    """Each override must be readable, valid Jinja, and use only its prompt's variables."""
    problems = []
    for arm_name, arm in config.arms.items():
        for prompt_id, replacement in arm.prompts.items():
            where = f"arms.{arm_name}.prompts.{prompt_id}"
            try:
                override(prompt_id, replacement.template(), source=where)
            except OSError as exc:
                problems.append(f"{where}.file: cannot read {replacement.file}: {exc.strerror}")
            except PromptError as exc:
                problems.append(str(exc))
    return problems


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
