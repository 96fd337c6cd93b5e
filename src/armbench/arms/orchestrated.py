"""The orchestrated arm: a strong model plans and verifies, an executor model does the work.

The orchestrator has the editor (view-only when it may not edit), bash, and
`delegate_to_executor(instruction)`. Each delegation runs the executor's own tool loop in the
same workspace, under its own iteration cap, and sends back what the return policy allows:
its final text (`free`, head kept), the first and last characters of it (`tail`), or a status
line plus the unified diff of what it changed (`structured`). That returned text stays in the
orchestrator's context — the delegation tax (see tax.py) is what re-reading it costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from armbench.agent.loop import AgentAbort, Pick, always, run_agent
from armbench.agent.tools import DELEGATE, ExtraTool, ToolInputError
from armbench.arms.base import ArmContext, ArmKind, ArmOutcome, conversation
from armbench.arms.returns import shape_return, workspace_texts
from armbench.arms.tax import DelegationTax
from armbench.config import OrchestratedArm
from armbench.core import ModelRequest, ModelResponse, ToolSpec
from armbench.prompts import EXECUTOR_SYSTEM, ORCHESTRATOR_SYSTEM

DELEGATE_SPEC = ToolSpec(
    name=DELEGATE,
    description=(
        "Hand a self-contained piece of work to the executor, which works in the same "
        "repository with the editor and bash tools, and return its report when it is done."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "instruction": {
                "type": "string",
                "description": "What to do: the files, the changes, the checks to run.",
            }
        },
        "required": ["instruction"],
    },
)


def run_orchestrated(arm: OrchestratedArm, ctx: ArmContext) -> ArmOutcome:
    orchestrator = ctx.models.model(arm.orchestrator, "orchestrator")
    tax = DelegationTax(orchestrator.identity.price_key)
    returned: set[str] = set()  # ids of delegate calls: their results are executor content
    delegations: list[dict[str, Any]] = []
    executor_runs: list[dict[str, Any]] = []
    executor_limits = arm.executor_limits.over(ctx.limits)
    assert ctx.env is not None
    workdir = ctx.env.workdir

    def delegate(args: Mapping[str, Any], time_left_s: float) -> str:
        instruction = args.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise ToolInputError("`instruction` must be a non-empty string")
        before = workspace_texts(workdir)
        executor = ctx.models.model(arm.executor, "executor")
        assert executor_limits.max_iterations is not None
        assert executor_limits.bash_timeout_s is not None
        run = run_agent(
            always(executor, "executor"),
            ctx.toolbox(bash_timeout_s=executor_limits.bash_timeout_s),
            prompt=instruction,
            max_iterations=executor_limits.max_iterations,
            wall_s=ctx.wall_s,
            ledger=ctx.ledger,
            caller=ctx.caller,
            system=ctx.prompts.render(EXECUTOR_SYSTEM),
        )
        executor_runs.append({"stop": run.stop, "messages": conversation(run.messages)})
        if run.stop == "model_error" and run.error is not None:
            raise AgentAbort(run.error)
        text = shape_return(arm.returns, run, before, workspace_texts(workdir))
        delegations.append(
            {
                "executor_iterations": run.iterations,
                "executor_stop": run.stop,
                "instruction_chars": len(instruction),
                "report_chars": len(run.final_text),
                "returned_chars": len(text),
            }
        )
        return text

    def observe(request: ModelRequest, response: ModelResponse, pick: Pick) -> None:
        tax.add(request, response, returned)
        returned.update(c.id for c in response.tool_uses if c.name == DELEGATE)

    system = ctx.prompts.render(ORCHESTRATOR_SYSTEM, may_edit=arm.orchestrator_may_edit)
    toolbox = ctx.toolbox(
        read_only=not arm.orchestrator_may_edit, extra=(ExtraTool(DELEGATE_SPEC, delegate),)
    )
    run = run_agent(
        always(orchestrator, "orchestrator"),
        toolbox,
        prompt=ctx.prompt,
        max_iterations=ctx.max_iterations,
        wall_s=ctx.wall_s,
        ledger=ctx.ledger,
        caller=ctx.caller,
        system=system,
        observe=observe,
    )
    extra = {
        "returns": arm.returns.model_dump(),
        "delegations": delegations,
        "delegation_tax": tax.record(),
        "orchestrator_iterations": run.iterations,
    }
    return ArmOutcome(run, extra, side_conversations=executor_runs)


ORCHESTRATED = ArmKind("orchestrated", OrchestratedArm, "agentic", run_orchestrated)
