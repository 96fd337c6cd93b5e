"""Building each trial's models from the config: offline ones fresh per trial, API ones on SDK
clients shared by the whole run (they pool connections and are thread-safe).

The provider modules (and so the SDKs, over a second of imports) load only when a config uses
an API model: a simulated run, and every CLI verb, start without them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from armbench.config import (
    AnthropicModelConfig,
    ModelConfig,
    OpenAIModelConfig,
    ScriptModelConfig,
    SimModelConfig,
)
from armbench.core import SIMULATED_PROVIDERS, Role
from armbench.models.base import Model, ModelIdentity
from armbench.models.script import ScriptModel, load_script
from armbench.models.sim import SimModel, SimPolicy
from armbench.models.types import TaskBrief


class MissingKeyError(ValueError):
    """A model's API key is not in the environment."""


def identity_of(key: str, config: ModelConfig) -> ModelIdentity:
    """Provider and pricing name of a configured model, without building it."""
    return ModelIdentity(
        provider=config.provider,
        model=config.model or key,
        simulated=config.provider in SIMULATED_PROVIDERS,
    )


def _api_key(key: str, config: ModelConfig, environ: Mapping[str, str]) -> str | None:
    if isinstance(config, AnthropicModelConfig):
        variable: str | None = config.api_key_env
        required = True
    elif isinstance(config, OpenAIModelConfig):
        from armbench.models.openai_chat import needs_key

        variable, required = config.api_key_env, needs_key(config)
    else:
        return None
    value = environ.get(variable) if variable else None
    if required and not value:
        raise MissingKeyError(
            f"models.{key}: the environment variable {variable} is not set; armbench reads API "
            f"keys only from the environment (export {variable}=...)"
        )
    return value or None


class ModelFactory:
    """Checks every API key up front; builds a model per trial; closes clients at the end."""

    def __init__(
        self, models: Mapping[str, ModelConfig], environ: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        self._configs = dict(models)
        self._keys = {k: _api_key(k, c, env) for k, c in self._configs.items()}
        self._clients: dict[str, Any] = {}

    @property
    def secrets(self) -> list[str]:
        """The key values in use, for redaction."""
        return [v for v in self._keys.values() if v]

    def _client(self, key: str) -> Any:
        if key not in self._clients:
            config = self._configs[key]
            if isinstance(config, AnthropicModelConfig):
                from armbench.models import anthropic_messages

                self._clients[key] = anthropic_messages.make_client(config, self._keys[key] or "")
            elif isinstance(config, OpenAIModelConfig):
                from armbench.models import openai_chat

                self._clients[key] = openai_chat.make_client(config, self._keys[key])
        return self._clients[key]

    def build(
        self,
        key: str,
        *,
        brief: TaskBrief,
        seed: int,
        role: Role = "solo",
        policy: SimPolicy | None = None,
    ) -> Model:
        """A model for one role of one trial; per-trial state (a sim's prompt cache) starts
        empty. A sim plays `role`; `policy` lets sims share one coder's decisions."""
        config = self._configs[key]
        name = config.model or key
        if isinstance(config, SimModelConfig):
            return SimModel(name, config, brief, seed, role=role, policy=policy)
        if isinstance(config, ScriptModelConfig):
            return ScriptModel(name, load_script(config.path))
        if isinstance(config, AnthropicModelConfig):
            from armbench.models.anthropic_messages import AnthropicMessagesModel

            return AnthropicMessagesModel(config, self._client(key))
        from armbench.models.openai_chat import OpenAIChatModel

        return OpenAIChatModel(config, self._client(key))

    def shared_policy(
        self, local: str, cloud: str, *, brief: TaskBrief, seed: int
    ) -> SimPolicy | None:
        """One policy for a routed arm's two sims (None unless both are sims): they play one
        coder, each call at the skill of the model that answers it."""
        local_config, cloud_config = self._configs[local], self._configs[cloud]
        if isinstance(local_config, SimModelConfig) and isinstance(cloud_config, SimModelConfig):
            return SimPolicy(cloud_config, brief, seed)
        return None

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
