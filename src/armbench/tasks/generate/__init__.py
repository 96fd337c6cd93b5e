"""Task generation from a user's green repository: the candidates and reference solutions of
move-refactor and implement tasks, computed from the AST (`armbench tasks make` validates
them with the judge and writes the pack: armbench.judge.make_pack)."""

from armbench.tasks.generate.implement import (
    ImplementCandidate,
    implement_candidates,
    remove_body,
)
from armbench.tasks.generate.move import MoveCandidate, move_candidates, move_function

__all__ = [
    "ImplementCandidate",
    "MoveCandidate",
    "implement_candidates",
    "move_candidates",
    "move_function",
    "remove_body",
]
