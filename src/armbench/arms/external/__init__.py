"""The `external` arm kind: someone else's coding agent, measured like armbench's own.

An adapter per agent (`ADAPTERS`, one module each) says how to install it, launch it headless
and read its own account; `run.run_external` does the rest for all of them: the sandbox, the
metering gateway, the ledger. `install.ensure` installs an agent before a run starts.
"""

from __future__ import annotations

from collections.abc import Mapping

from armbench.arms.base import ArmContext, ArmKind, ArmOutcome
from armbench.arms.external.adapter import Adapter, Launch, OwnReport
from armbench.arms.external.aider import AIDER
from armbench.arms.external.claude_code import CLAUDE_CODE
from armbench.arms.external.command import COMMAND
from armbench.arms.external.install import AgentInstallError, ensure, installed
from armbench.arms.external.mini_swe_agent import MINI_SWE_AGENT
from armbench.arms.external.run import run_external
from armbench.config import ExternalArm

ADAPTERS: Mapping[str, Adapter] = {a.name: a for a in (AIDER, MINI_SWE_AGENT, CLAUDE_CODE, COMMAND)}


def adapter_for(arm: ExternalArm) -> Adapter:
    try:
        return ADAPTERS[arm.agent]
    except KeyError:
        raise NotImplementedError(f"no adapter for agent {arm.agent!r} yet") from None


def _run(arm: ExternalArm, ctx: ArmContext) -> ArmOutcome:
    return run_external(arm, ctx, adapter_for(arm))


EXTERNAL = ArmKind("external", ExternalArm, "agentic", _run)

__all__ = [
    "ADAPTERS",
    "EXTERNAL",
    "Adapter",
    "AgentInstallError",
    "Launch",
    "OwnReport",
    "adapter_for",
    "ensure",
    "installed",
]
