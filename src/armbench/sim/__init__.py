"""The simulated coder: a deterministic model that plays a task's reference solution through
the real tools, in every role (solo, orchestrator, executor, router, single-shot), billed
through a prompt-cache model. Everything it produces is labelled simulated.

`SimPolicy` decides (a pure function of the seed, the brief and the tool results so far, so
serve-sim can replay any conversation), `SimAccounting` bills, `SimModel` is the Model.
"""

from armbench.sim.accounting import SimAccounting, cut_to_max_tokens
from armbench.sim.answers import reference_answer, route_answer, single_shot_answer
from armbench.sim.brief import TaskBrief, prepared_brief, single_shot_brief, task_brief
from armbench.sim.instructions import parse_instruction, render_instruction
from armbench.sim.model import SimModel, can_edit, first_user_text
from armbench.sim.policy import (
    Observation,
    SimAction,
    SimPolicy,
    SimRole,
    maybe_wrong,
    observations,
    plan_edits,
    render,
    replay,
    unnumber,
)

__all__ = [
    "Observation",
    "SimAccounting",
    "SimAction",
    "SimModel",
    "SimPolicy",
    "SimRole",
    "TaskBrief",
    "can_edit",
    "cut_to_max_tokens",
    "first_user_text",
    "maybe_wrong",
    "observations",
    "parse_instruction",
    "plan_edits",
    "prepared_brief",
    "reference_answer",
    "render",
    "render_instruction",
    "replay",
    "route_answer",
    "single_shot_answer",
    "single_shot_brief",
    "task_brief",
    "unnumber",
]
