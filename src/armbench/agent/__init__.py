"""The agent: the tool loop (ask a model, run the tools it calls, repeat) and its two tools,
the editor and bash, both working through the trial's Environment."""

from armbench.agent.editor import EditorError, FileEditor
from armbench.agent.loop import (
    AgentAbort,
    AgentRun,
    Chooser,
    Ledger,
    Pick,
    TrialClock,
    always,
    default_breakpoints,
    ledger_row,
    run_agent,
)
from armbench.agent.tools import (
    BASH,
    DELEGATE,
    EDITOR,
    ExtraTool,
    Toolbox,
    ToolInputError,
)

__all__ = [
    "BASH",
    "DELEGATE",
    "EDITOR",
    "AgentAbort",
    "AgentRun",
    "Chooser",
    "EditorError",
    "ExtraTool",
    "FileEditor",
    "Ledger",
    "Pick",
    "ToolInputError",
    "Toolbox",
    "TrialClock",
    "always",
    "default_breakpoints",
    "ledger_row",
    "run_agent",
]
