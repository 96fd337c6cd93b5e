"""The judge: gates that execute checks and read their machine-readable output (by kind, from a
registry), the file gates, structural verifiers, the single-shot scorer, and task validation."""

from armbench.judge.file_gates import (
    HARNESS_FILES,
    changed_paths,
    file_gates,
    harness_gate,
    protected_gate,
    scope_gate,
    suppressions_gate,
)
from armbench.judge.gates import GATES, GateContext, GateRunner, judge, judged_copy
from armbench.judge.single_shot import RUN_OUTPUT_CAP, SingleShotScore, format_score, score
from armbench.judge.structural import verify_moved_function

__all__ = [
    "GATES",
    "HARNESS_FILES",
    "RUN_OUTPUT_CAP",
    "GateContext",
    "GateRunner",
    "SingleShotScore",
    "changed_paths",
    "file_gates",
    "format_score",
    "harness_gate",
    "judge",
    "judged_copy",
    "protected_gate",
    "scope_gate",
    "score",
    "suppressions_gate",
    "verify_moved_function",
]
