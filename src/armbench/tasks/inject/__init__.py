"""The breakage injector: exact, verified, reversible mistakes in a green Python repository.

`inject` breaks a repository with mutations from the catalogue (see `catalogue`), each checked
by the real mypy, ruff and pytest to add exactly one error of its kind; `restore` undoes it from
the manifest; `plan` is the pure, checker-free site selection both build on.
"""

from armbench.tasks.inject.catalogue import CATALOGUE, OPERATORS, Kind, Operator, Site
from armbench.tasks.inject.engine import (
    MAX_ROUNDS,
    Checkers,
    Plan,
    Scope,
    discover_scope,
    inject,
    plan,
    read_sources,
    require_green,
    restore,
)
from armbench.tasks.inject.manifest import (
    ExpectedFinding,
    FileDigest,
    InjectionError,
    InjectionManifest,
    InjectionRequest,
    MutationRecord,
    RequestedCounts,
    TextEdit,
)

__all__ = [
    "CATALOGUE",
    "MAX_ROUNDS",
    "OPERATORS",
    "Checkers",
    "ExpectedFinding",
    "FileDigest",
    "InjectionError",
    "InjectionManifest",
    "InjectionRequest",
    "Kind",
    "MutationRecord",
    "Operator",
    "Plan",
    "RequestedCounts",
    "Scope",
    "Site",
    "TextEdit",
    "discover_scope",
    "inject",
    "plan",
    "read_sources",
    "require_green",
    "restore",
]
