"""The single-shot arm: one completion per task, no tools, no workspace.

With `contract: true` the task's prompt is wrapped in the execution contract (the
`single_shot.contract` prompt): FILE blocks and a RUN line. The answer is scored by the judge
(armbench.judge.single_shot), by format and by execution.
"""

from __future__ import annotations

from armbench.agent.loop import AgentRun
from armbench.arms.base import ArmContext, ArmKind, ArmOutcome
from armbench.config import SingleShotArm
from armbench.core import LimitReached, Message, ModelError, ModelRequest, TextBlock
from armbench.prompts import CONTRACT
from armbench.tasks import SingleShotTask


def run_single_shot(arm: SingleShotArm, ctx: ArmContext) -> ArmOutcome:
    task = ctx.task
    assert isinstance(task, SingleShotTask)
    prompt = (
        ctx.prompts.render(CONTRACT, prompt=task.spec.prompt, files=list(task.files))
        if arm.contract
        else task.spec.prompt
    )
    model = ctx.models.model(arm.model, "single_shot")
    asked = Message.user_text(prompt)
    run = AgentRun("finished", [asked])
    answer = ""
    try:
        response = ctx.caller.call(
            model,
            ModelRequest(system="", messages=(asked,)),
            ctx.ledger.recorder(model, "single_shot"),
        )
    except ModelError as exc:
        run.stop, run.error = "model_error", exc
    except LimitReached as cap:
        run.stop, run.limit = cap.stop, cap
    else:
        run.iterations = 1
        run.messages.append(Message(role="assistant", content=response.content))
        answer = "\n".join(b.text for b in response.content if isinstance(b, TextBlock))
    return ArmOutcome(run, {"contract": arm.contract}, answer=answer)


SINGLE_SHOT = ArmKind("single_shot", SingleShotArm, "single_shot", run_single_shot)
