"""Building a model for one trial from its config entry."""

from __future__ import annotations

from armbench.config import ModelConfig, ScriptModelConfig, SimModelConfig
from armbench.models.script import ScriptModel, load_script
from armbench.models.sim import SimModel
from armbench.models.types import Model, ModelIdentity, TaskBrief

SIMULATED_PROVIDERS = frozenset({"sim", "script"})


def identity_of(key: str, config: ModelConfig) -> ModelIdentity:
    """Provider and pricing name of a configured model, without building it."""
    return ModelIdentity(
        provider=config.provider,
        model=config.model or key,
        simulated=config.provider in SIMULATED_PROVIDERS,
    )


def build_model(key: str, config: ModelConfig, *, brief: TaskBrief, seed: int) -> Model:
    """A fresh model instance for one trial; per-trial state (a prompt cache) starts empty."""
    name = config.model or key
    if isinstance(config, SimModelConfig):
        return SimModel(name, config, brief, seed)
    if isinstance(config, ScriptModelConfig):
        return ScriptModel(name, load_script(config.path))
    raise TypeError(f"no provider for {config!r}")  # unreachable: the config union is closed
