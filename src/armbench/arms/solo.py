"""The solo arm: one model, the editor and bash, the whole task."""

from __future__ import annotations

from armbench.agent.loop import always, run_agent
from armbench.arms.base import ArmContext, ArmKind, ArmOutcome
from armbench.config import SoloArm
from armbench.prompts import AGENT_SYSTEM


def run_solo(arm: SoloArm, ctx: ArmContext) -> ArmOutcome:
    model = ctx.models.model(arm.model, "solo")
    run = run_agent(
        always(model, "solo"),
        ctx.toolbox(),
        prompt=ctx.prompt,
        max_iterations=ctx.max_iterations,
        wall_s=ctx.wall_s,
        ledger=ctx.ledger,
        caller=ctx.caller,
        system=ctx.prompts.render(AGENT_SYSTEM),
    )
    return ArmOutcome(run)


SOLO = ArmKind("solo", SoloArm, "agentic", run_solo)
