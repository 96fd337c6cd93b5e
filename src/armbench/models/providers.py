"""Model providers by the name a config's `provider:` uses, each in a module of its own.

A provider module defines `PROVIDER`, an object with the three methods of `Provider`. Modules
are named here and imported only when a config uses them, so the SDKs (over a second of
imports) load only for runs that call an API. The simulated coder (`provider: sim`) is not a
provider the factory can build alone: it must be told the task's reference solution, which
only the runner knows, so the runner builds it (armbench.runner.trial_models).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from armbench.models.base import Model

PROVIDERS: Mapping[str, str] = {
    "anthropic": "armbench.models.anthropic_messages",
    "openai": "armbench.models.openai_chat",
    "script": "armbench.models.script",
}
"""Provider name → the module defining its `PROVIDER`."""


class Provider(Protocol):
    """How one provider's models are reached. `settings` is that provider's config model."""

    def key_variable(self, settings: Any) -> tuple[str | None, bool]:
        """The environment variable holding the API key, and whether a missing key is an
        error (None: the provider needs no key)."""
        ...

    def client(self, settings: Any, api_key: str | None) -> Any:
        """A client shared by the whole run (None for providers that need none)."""
        ...

    def model(self, name: str, settings: Any, client: Any) -> Model:
        """A model for one trial: `name` is its pricing name."""
        ...


def provider(name: str) -> Provider:
    """The provider registered as `name` (KeyError naming the known ones otherwise)."""
    if name not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise KeyError(f"no model provider {name!r} is registered (known: {known})")
    found: Provider = importlib.import_module(PROVIDERS[name]).PROVIDER
    return found
