"""Where commands run and files are read: the Environment protocol, its backends (bubblewrap
sandboxes, plain processes), the factory that alone builds them, and the limits every command
runs under.

Everything armbench runs on a trial's behalf goes through an Environment built by an
`EnvironmentFactory`; `LOCAL` is the plain-process backend.
"""

from armbench.core import DEFAULT_COMMAND_LIMITS, CommandLimits
from armbench.env.base import (
    DEFAULT_OUTPUT_CAP,
    CommandResult,
    Environment,
    FileKind,
    OutsideWorkspace,
)
from armbench.env.bwrap import SandboxError, SandboxMounts
from armbench.env.factory import (
    BACKENDS,
    BY_CONVENTION,
    LOCAL,
    EnvironmentFactory,
    SandboxChoice,
    SandboxUnavailable,
    UnknownBackend,
    choose_backend,
)
from armbench.env.limits import die_with_parent
from armbench.env.local import scrubbed_environ

__all__ = [
    "BACKENDS",
    "BY_CONVENTION",
    "DEFAULT_COMMAND_LIMITS",
    "DEFAULT_OUTPUT_CAP",
    "LOCAL",
    "CommandLimits",
    "CommandResult",
    "Environment",
    "EnvironmentFactory",
    "FileKind",
    "OutsideWorkspace",
    "SandboxChoice",
    "SandboxError",
    "SandboxMounts",
    "SandboxUnavailable",
    "UnknownBackend",
    "choose_backend",
    "die_with_parent",
    "scrubbed_environ",
]
