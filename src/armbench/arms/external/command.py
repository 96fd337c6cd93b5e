"""`agent: command`: any agent, by a bash command the arm's config gives.

The command runs in the workspace, in the sandbox, with the task's prompt in `$ARMBENCH_PROMPT`
(and the file `$ARMBENCH_PROMPT_FILE`), and the gateway in `$ARMBENCH_BASE_URL`,
`$ARMBENCH_API_KEY` and `$ARMBENCH_MODEL`, also under the names the official SDKs read for the
arm's `wire` (`OPENAI_BASE_URL`/`OPENAI_API_KEY`, `ANTHROPIC_BASE_URL`/`ANTHROPIC_API_KEY`).
Nothing is installed: the command runs what the sandbox can see (the system, the pack's
toolchain) or what it brings in the workspace.
"""

from __future__ import annotations

from collections.abc import Mapping

from armbench.arms.external.adapter import Adapter, Launch, no_report


def _command(launch: Launch) -> str:
    assert launch.arm.command is not None  # the config requires it for this agent
    return launch.arm.command


def _environ(launch: Launch) -> Mapping[str, str]:
    if launch.arm.wire == "anthropic":
        return {"ANTHROPIC_BASE_URL": launch.base_url, "ANTHROPIC_API_KEY": launch.key}
    return {"OPENAI_BASE_URL": launch.base_url, "OPENAI_API_KEY": launch.key}


COMMAND = Adapter("command", "none", "", "", _command, _environ, no_report)
