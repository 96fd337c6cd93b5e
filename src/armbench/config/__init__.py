"""The run configuration: pydantic models of the YAML config, every field documented where it
is declared (the field's docstring), and the loader that refuses a bad config before anything
runs, naming the file, the field and the problem."""

from armbench.config.arms import (
    ARM_SETTINGS,
    ArmConfig,
    ArmSettings,
    ExternalArm,
    OrchestratedArm,
    PromptOverride,
    ReturnPolicy,
    RoutedArm,
    RoutingStrategy,
    SingleShotArm,
    SoloArm,
    SweepPoint,
)
from armbench.config.base import ConfigError, ConfigModel
from armbench.config.models import (
    MODEL_CONFIGS,
    AnthropicModelConfig,
    ModelConfig,
    OpenAIModelConfig,
    RetryPolicy,
    ScriptModelConfig,
    SimModelConfig,
)
from armbench.config.run import (
    RunConfig,
    apply_overrides,
    load_config,
    parse_config,
)
from armbench.config.sweep import SweepEntry

__all__ = [
    "ARM_SETTINGS",
    "MODEL_CONFIGS",
    "AnthropicModelConfig",
    "ArmConfig",
    "ArmSettings",
    "ConfigError",
    "ConfigModel",
    "ExternalArm",
    "ModelConfig",
    "OpenAIModelConfig",
    "OrchestratedArm",
    "PromptOverride",
    "RetryPolicy",
    "ReturnPolicy",
    "RoutedArm",
    "RoutingStrategy",
    "RunConfig",
    "ScriptModelConfig",
    "SimModelConfig",
    "SingleShotArm",
    "SoloArm",
    "SweepEntry",
    "SweepPoint",
    "apply_overrides",
    "load_config",
    "parse_config",
]
