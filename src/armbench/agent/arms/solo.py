"""The solo arm: one model, the editor and bash, the whole task."""

from __future__ import annotations

from armbench.agent.arms.context import ArmContext, ArmOutcome
from armbench.agent.loop import always, run_agent
from armbench.config import SoloArm


def run_solo(arm: SoloArm, ctx: ArmContext) -> ArmOutcome:
    model = ctx.build(arm.model, "solo")
    run = run_agent(
        always(model, "solo"),
        ctx.toolbox(),
        prompt=ctx.prompt,
        max_iterations=ctx.max_iterations,
        wall_s=ctx.wall_s,
        ledger=ctx.ledger,
        caller=ctx.caller,
    )
    return ArmOutcome(run)
