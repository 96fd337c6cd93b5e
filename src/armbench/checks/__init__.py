"""The checkers a verdict rests on: mypy, ruff and pytest runners that read machine-readable
reports, and the pinned toolchain the judge refuses to judge without."""

from armbench.checks.pytest_guard import GuardedRun, GuardFinding, GuardReport
from armbench.checks.runners import (
    COLLECTION,
    DEFAULT_CHECK_ARGS,
    JUDGED_ENV,
    CheckArgs,
    CheckReport,
    Finding,
    parse_junit,
    run_mypy,
    run_pytest,
    run_ruff,
)
from armbench.checks.suppressions import (
    Suppressions,
    count_suppressions,
    file_suppressions,
    find_suppressions,
    new_suppressions,
)
from armbench.checks.toolchain import (
    CHECKERS,
    ToolchainError,
    installed_versions,
    package_versions,
    pinned_versions,
    verify_toolchain,
)

__all__ = [
    "CHECKERS",
    "COLLECTION",
    "DEFAULT_CHECK_ARGS",
    "JUDGED_ENV",
    "CheckArgs",
    "CheckReport",
    "Finding",
    "GuardFinding",
    "GuardReport",
    "GuardedRun",
    "Suppressions",
    "ToolchainError",
    "count_suppressions",
    "file_suppressions",
    "find_suppressions",
    "installed_versions",
    "new_suppressions",
    "package_versions",
    "parse_junit",
    "pinned_versions",
    "run_mypy",
    "run_pytest",
    "run_ruff",
    "verify_toolchain",
]
