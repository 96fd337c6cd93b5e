"""The orchestrated arm: a strong model plans and verifies, an executor model does the work.

The orchestrator has the editor (view-only when it may not edit), bash, and
`delegate_to_executor(instruction)`. Each delegation runs the executor's own tool loop in the
same workspace, under its own iteration cap, and sends back what the return policy allows:
its final text (`free`, head kept), the first and last characters of it (`tail`), or a status
line plus the unified diff of what it changed (`structured`). That returned text stays in the
orchestrator's context — the delegation tax (see tax.py) is what re-reading it costs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from armbench.agent.arms.context import ArmContext, ArmOutcome, conversation
from armbench.agent.arms.tax import DelegationTax
from armbench.agent.instructions import parse_instruction
from armbench.agent.loop import AgentAbort, AgentRun, Pick, always, run_agent
from armbench.agent.tools import DELEGATE, ExtraTool, ToolInputError
from armbench.config import OrchestratedArm, ReturnPolicy
from armbench.core import ModelRequest, ModelResponse, ToolSpec, exited_zero, iter_files

ORCHESTRATOR_SYSTEM = """\
You lead the work on a Python repository; the current directory is its root. You have an
executor: another model with the same editor and bash tools in the same repository. Hand it
self-contained pieces of work with `delegate_to_executor`: say exactly which files to change and
how (you may give a file's whole new content as a `FILE: <path>` line followed by a fenced
block) and which checks to run; it reports back when done. Verify the work with the commands
the task names. When the task is done, reply with a short summary and no tool call."""

VIEW_ONLY_NOTE = "\nYour editor can only view files: every change goes through the executor."

EXECUTOR_SYSTEM = """\
You are an executor working in a Python repository; the current directory is its root. Use the
`editor` tool to view and change files and the `bash` tool to run commands. Carry out the
instruction you are given, exactly and nothing more. When you are done, reply with a short
report of what you changed and whether the checks pass, and no tool call."""

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


def _texts(root: Path) -> dict[str, str]:
    """The text files of a workspace (for the diff a structured return reports)."""
    texts = {}
    for rel in iter_files(root):
        try:
            texts[rel] = (root / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return texts


def _head(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not returned ...]"


def _head_and_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    omitted = len(text) - 2 * half
    return text[:half] + f"\n[... {omitted} characters not returned ...]\n" + text[-half:]


def _last_check(run: AgentRun) -> str:
    """How the executor's last bash command ended: the checks' status, as far as it shows."""
    for message in reversed(run.messages):
        for block in message.content:
            if block.type == "tool_result" and (passed := exited_zero(block.content)) is not None:
                return "passed" if passed else "failed"
    return "not run"


def shape_return(
    policy: ReturnPolicy, run: AgentRun, before: Mapping[str, str], after: Mapping[str, str]
) -> str:
    """What the orchestrator gets back from one delegation."""
    if policy.policy == "free":
        return _head(run.final_text, policy.max_chars)
    if policy.policy == "tail":
        return _head_and_tail(run.final_text, policy.max_chars)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    status = {"finished": "done", "max_iterations": "stopped at its iteration cap"}.get(
        run.stop, f"stopped ({run.stop})"
    )
    head = (
        f"status: {status}; iterations: {run.iterations}; last command: {_last_check(run)}; "
        f"changed: {', '.join(changed) or 'nothing'}\n"
    )
    diff = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for path in changed
        for line in difflib.unified_diff(
            before.get(path, "").splitlines(keepends=True),
            after.get(path, "").splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    )
    return _head(head + diff, policy.max_chars)


def run_orchestrated(arm: OrchestratedArm, ctx: ArmContext) -> ArmOutcome:
    orchestrator = ctx.build(arm.orchestrator, "orchestrator")
    tax = DelegationTax(orchestrator.identity.price_key)
    returned: set[str] = set()  # ids of delegate calls: their results are executor content
    delegations: list[dict[str, Any]] = []
    executor_runs: list[dict[str, Any]] = []
    executor_limits = arm.executor_limits.over(ctx.limits)

    def delegate(args: Mapping[str, Any], time_left_s: float) -> str:
        instruction = args.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise ToolInputError("`instruction` must be a non-empty string")
        before = _texts(ctx.env.workdir)
        executor = ctx.build(arm.executor, "executor", parse_instruction(instruction))
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
            system=EXECUTOR_SYSTEM,
        )
        executor_runs.append({"stop": run.stop, "messages": conversation(run.messages)})
        if run.stop == "model_error" and run.error is not None:
            raise AgentAbort(run.error)
        text = shape_return(arm.returns, run, before, _texts(ctx.env.workdir))
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

    system = ORCHESTRATOR_SYSTEM + ("" if arm.orchestrator_may_edit else VIEW_ONLY_NOTE)
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
