"""Prompts as data: templates in YAML files beside this module, loaded by id, rendered with
Jinja, recorded in every run's manifest by sha256, replaceable per arm from its config."""

from armbench.prompts.registry import (
    BUILTIN,
    Prompt,
    PromptError,
    PromptSet,
    builtin_prompts,
    load_prompt_file,
    override,
)

AGENT_SYSTEM = "agent.system"
"""A model working alone: solo arms and both models of a routed arm."""
ORCHESTRATOR_SYSTEM = "orchestrator.system"
EXECUTOR_SYSTEM = "executor.system"
ROUTER_SYSTEM = "router.system"
"""A routed arm's classifier."""
CONTRACT = "single_shot.contract"
"""The single-shot execution contract, wrapped around a task's prompt."""

__all__ = [
    "AGENT_SYSTEM",
    "BUILTIN",
    "CONTRACT",
    "EXECUTOR_SYSTEM",
    "ORCHESTRATOR_SYSTEM",
    "ROUTER_SYSTEM",
    "Prompt",
    "PromptError",
    "PromptSet",
    "builtin_prompts",
    "load_prompt_file",
    "override",
]
