"""Where commands run and files are read: the Environment protocol, its backends, the factory.

Everything armbench runs on a trial's behalf goes through an Environment built by an
`EnvironmentFactory`; `LOCAL` is the plain-process backend.
"""

from armbench.env.base import (
    DEFAULT_OUTPUT_CAP,
    CommandResult,
    Environment,
    FileKind,
    OutsideWorkspace,
)
from armbench.env.factory import BACKENDS, LOCAL, EnvironmentFactory, UnknownBackend
from armbench.env.local import scrubbed_environ

__all__ = [
    "BACKENDS",
    "DEFAULT_OUTPUT_CAP",
    "LOCAL",
    "CommandResult",
    "Environment",
    "EnvironmentFactory",
    "FileKind",
    "OutsideWorkspace",
    "UnknownBackend",
    "scrubbed_environ",
]
