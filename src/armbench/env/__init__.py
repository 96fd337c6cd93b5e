"""Where commands run: the Environment protocol and its backends."""

from armbench.env.base import CommandResult, Environment
from armbench.env.local import LocalEnvironment, scrubbed_environ

__all__ = ["CommandResult", "Environment", "LocalEnvironment", "scrubbed_environ"]
