"""The sim's one-completion answers: a single-shot answer and a routing classifier's verdict.

Both are pure functions of the request, the brief, the skill and a seeded generator, so the
in-process sim and serve-sim answer alike.
"""

from __future__ import annotations

import random

from armbench.arms.routing import digest_signals
from armbench.core import ModelRequest, render_answer
from armbench.sim.brief import TaskBrief
from armbench.sim.policy import maybe_wrong

REFERENCE_FAILED_CHECKS = 2
"""Failed checks in a row at which a sensible classifier calls for the cloud."""
REFERENCE_CONTEXT_CHARS = 100_000
"""Context size at which a sensible classifier calls for the cloud."""


def reference_answer(request: ModelRequest) -> str:
    """What a sensible classifier answers to `classifier_request`: CLOUD when the last checks
    failed `REFERENCE_FAILED_CHECKS` times in a row, a tool call was malformed, or the context
    reached `REFERENCE_CONTEXT_CHARS`; otherwise LOCAL. An unreadable request gets CLOUD, as an
    unreadable answer does. A pure function of the request text, so the simulated router is
    reproducible."""
    values = digest_signals(request)
    if values is None:
        return "CLOUD"
    try:
        failures = int(values["consecutive_failed_checks"])
        context = int(values["context_chars"])
    except ValueError:
        return "CLOUD"
    stuck = (
        failures >= REFERENCE_FAILED_CHECKS
        or values["malformed_tool_call"] == "yes"
        or context >= REFERENCE_CONTEXT_CHARS
    )
    return "CLOUD" if stuck else "LOCAL"


def single_shot_answer(
    brief: TaskBrief, *, contract: bool, skill: float, rng: random.Random
) -> str:
    """A one-completion answer: the reference files (each garbled with probability 1 - skill),
    in the contract's format with probability `skill` when the contract asks for it — and
    rarely otherwise, when the sim writes prose around plain code blocks."""
    files = {p: maybe_wrong(c, skill, rng) for p, c in brief.solution.items() if c is not None}
    run = brief.check_commands[0] if brief.check_commands else None
    follows_format = rng.random() < (skill if contract else 0.15)
    return render_answer(files, run, contract=follows_format)


def route_answer(request: ModelRequest, skill: float, rng: random.Random) -> str:
    """A classifier's answer: the sensible one, or with probability 1 - skill the other."""
    answer = reference_answer(request)
    if rng.random() >= skill:
        answer = "LOCAL" if answer == "CLOUD" else "CLOUD"
    return answer
