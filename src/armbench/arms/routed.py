"""The routed arm: every model call goes to a local or a cloud model, as a strategy decides.

Both models see the same conversation and tools; each keeps its own prompt cache, so switching
models mid-conversation shows in the ledger as cache writes and uncached input. Every decision
is recorded with its reason; a classifier strategy's own calls are charged to role `router`.
"""

from __future__ import annotations

from collections.abc import Sequence

from armbench.agent.loop import Pick, run_agent
from armbench.arms.base import ArmContext, ArmKind, ArmOutcome
from armbench.arms.routing import make_router
from armbench.config import RoutedArm
from armbench.core import Message, ModelRequest, ModelResponse
from armbench.prompts import AGENT_SYSTEM, ROUTER_SYSTEM


def run_routed(arm: RoutedArm, ctx: ArmContext) -> ArmOutcome:
    local, cloud = ctx.models.pair(arm.local, arm.cloud)
    classify = None
    if arm.strategy.name == "classifier":
        assert arm.strategy.classifier is not None
        classifier = ctx.models.model(arm.strategy.classifier, "router")
        record = ctx.ledger.recorder(classifier, "router")

        def classify(request: ModelRequest) -> ModelResponse:
            return ctx.caller.call(classifier, request, record)

    router = make_router(
        arm.strategy,
        check_commands=ctx.check_commands,
        classify=classify,
        classifier_system=ctx.prompts.render(ROUTER_SYSTEM),
    )

    def choose(messages: Sequence[Message]) -> Pick:
        decision = router.decide(messages)
        model = local if decision.target == "local" else cloud
        return Pick(model, "solo", route=decision.target, reason=decision.reason)

    run = run_agent(
        choose,
        ctx.toolbox(),
        prompt=ctx.prompt,
        max_iterations=ctx.max_iterations,
        wall_s=ctx.wall_s,
        ledger=ctx.ledger,
        caller=ctx.caller,
        system=ctx.prompts.render(AGENT_SYSTEM),
    )
    return ArmOutcome(run, {"routing": run.decisions, "strategy": arm.strategy.model_dump()})


ROUTED = ArmKind("routed", RoutedArm, "agentic", run_routed)
