"""What the execution contract did to a model's single-shot answers: more working code, or
only answers that look right?"""

from __future__ import annotations

from typing import Literal

ContractEffect = Literal["format_only", "execution_gain", "regression", "no_effect"]


def classify_contract_effect(
    without: tuple[float, float], with_: tuple[float, float], *, tolerance: float = 0.0
) -> ContractEffect:
    """What the contract did, from (format, execution) scores — or rates — without and with it.

    - `execution_gain`: execution went up (the contract made more answers work);
    - `regression`: execution went down;
    - `format_only`: execution unchanged, format up — the contract changed how answers look,
      not whether they work (what a format-only judge would mistake for a gain);
    - `no_effect`: neither changed, or only format went down.

    Differences no larger than `tolerance` count as unchanged (0 for 0/1 scores; a margin
    such as a confidence half-width for rates).
    """
    (format_without, exec_without), (format_with, exec_with) = without, with_
    if exec_with - exec_without > tolerance:
        return "execution_gain"
    if exec_without - exec_with > tolerance:
        return "regression"
    if format_with - format_without > tolerance:
        return "format_only"
    return "no_effect"
