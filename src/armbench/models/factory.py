"""Building each trial's models from the config: API models on SDK clients shared by the whole
run (they pool connections and are thread-safe), script models fresh per trial.

Every API key is looked up when the factory is made, so a missing key is refused before
anything runs. Providers are found by name (armbench.models.providers).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from armbench.config import ModelConfig
from armbench.core import SIMULATED_PROVIDERS, process_environ
from armbench.models.base import Model, ModelIdentity
from armbench.models.providers import provider


class MissingKeyError(ValueError):
    """A model's API key is not in the environment."""


def identity_of(key: str, config: ModelConfig) -> ModelIdentity:
    """Provider and pricing name of a configured model, without building it."""
    return ModelIdentity(
        provider=config.provider,
        model=config.model or key,
        simulated=config.provider in SIMULATED_PROVIDERS,
    )


class ModelFactory:
    """Checks every API key up front; builds a model per trial; closes clients at the end.

    Simulated (`sim`) models are not built here: see armbench.models.providers.
    """

    def __init__(
        self, models: Mapping[str, ModelConfig], environ: Mapping[str, str] | None = None
    ) -> None:
        env = process_environ() if environ is None else environ
        self._configs = dict(models)
        self._keys = {k: self._api_key(k, c, env) for k, c in self._configs.items()}
        self.key_variables = sorted(
            {v for c in self._configs.values() if (v := self._variable(c)) is not None}
        )
        """The environment variables the keys were read from (withdrawn once a run starts)."""
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        """Trials build models from many threads at once: one client per model, made once."""

    @staticmethod
    def _variable(config: ModelConfig) -> str | None:
        return (
            None if config.provider == "sim" else provider(config.provider).key_variable(config)[0]
        )

    @staticmethod
    def _api_key(key: str, config: ModelConfig, environ: Mapping[str, str]) -> str | None:
        if config.provider == "sim":
            return None
        variable, required = provider(config.provider).key_variable(config)
        value = environ.get(variable) if variable else None
        if required and not value:
            raise MissingKeyError(
                f"models.{key}: the environment variable {variable} is not set; armbench reads "
                f"API keys only from the environment (export {variable}=...)"
            )
        return value or None

    @property
    def secrets(self) -> list[str]:
        """The key values in use, for redaction."""
        return [v for v in self._keys.values() if v]

    def build(self, key: str) -> Model:
        """A model for one trial; per-trial state starts empty, clients are shared."""
        config = self._configs[key]
        if config.provider == "sim":
            raise ValueError(f"models.{key}: simulated models are built by the runner")
        backend = provider(config.provider)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = backend.client(config, self._keys[key])
            client = self._clients[key]
        return backend.model(config.model or key, config, client)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            if client is not None:
                client.close()
