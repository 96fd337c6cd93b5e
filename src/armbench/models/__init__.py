"""Models: the protocol every backend implements, the providers (Anthropic, OpenAI-compatible,
script) registered by name, the factory that builds them per trial, retries, what a call must
pass before it is sent (a trial's caps, the run's budget, each endpoint's limiter), and the
prompt-cache simulator and tokenizer that simulated models are billed with."""

from armbench.models.base import Model, ModelIdentity
from armbench.models.budget import Budget, BudgetState
from armbench.models.factory import MissingKeyError, ModelFactory, identity_of
from armbench.models.guard import CallGuard
from armbench.models.limiter import EndpointLimiter, Limiters, LimiterState
from armbench.models.providers import PROVIDERS, Provider, provider
from armbench.models.retry import Attempt, OnAttempt, RetryingCaller
from armbench.models.worst_case import prompt_bound, worst_case_usd

__all__ = [
    "PROVIDERS",
    "Attempt",
    "Budget",
    "BudgetState",
    "CallGuard",
    "EndpointLimiter",
    "LimiterState",
    "Limiters",
    "MissingKeyError",
    "Model",
    "ModelFactory",
    "ModelIdentity",
    "OnAttempt",
    "Provider",
    "RetryingCaller",
    "identity_of",
    "prompt_bound",
    "provider",
    "worst_case_usd",
]
