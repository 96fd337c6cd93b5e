"""The single-shot judge: an answer scored by format (strict FILE blocks) and by execution
(lenient extraction, run in a copy of the fixture), with a gate per file, run step and check."""

from armbench.judge.single_shot.execution import RUN_OUTPUT_CAP
from armbench.judge.single_shot.scoring import SingleShotScore, format_score, score

__all__ = ["RUN_OUTPUT_CAP", "SingleShotScore", "format_score", "score"]
