"""Models: the protocol every backend implements, the providers (Anthropic, OpenAI-compatible,
script) registered by name, the factory that builds them per trial, retries, and the
prompt-cache simulator and tokenizer that simulated models are billed with."""

from armbench.models.base import Model, ModelIdentity
from armbench.models.factory import MissingKeyError, ModelFactory, identity_of
from armbench.models.providers import PROVIDERS, Provider, provider
from armbench.models.retry import Attempt, OnAttempt, RetryingCaller

__all__ = [
    "PROVIDERS",
    "Attempt",
    "MissingKeyError",
    "Model",
    "ModelFactory",
    "ModelIdentity",
    "OnAttempt",
    "Provider",
    "RetryingCaller",
    "identity_of",
    "provider",
]
