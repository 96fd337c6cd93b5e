"""The two tools of the published experiment, as offered to models and as executed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from armbench.agent.editor import EditorError, FileEditor
from armbench.core import UNPARSED_ARGUMENTS, ToolResultBlock, ToolSpec, ToolUseBlock, exit_line
from armbench.env import Environment

BASH = "bash"
EDITOR = "editor"
DELEGATE = "delegate_to_executor"
"""The orchestrated arm's third tool (see armbench.arms.orchestrated)."""

BASH_SPEC = ToolSpec(
    name=BASH,
    description=(
        "Run a bash command in the repository root and return its combined output and exit "
        "code. Each call starts a fresh shell; long outputs lose their middle."
    ),
    input_schema={
        "type": "object",
        "properties": {"command": {"type": "string", "description": "The command to run."}},
        "required": ["command"],
    },
)

EDITOR_SPEC = ToolSpec(
    name=EDITOR,
    description=(
        "View and edit files in the repository. `view` shows a file with line numbers (or lists "
        "a directory); `create` writes a new file; `str_replace` replaces the one exact "
        "occurrence of old_str with new_str; `insert` adds new_str after line insert_line "
        "(0 = top). Paths are relative to the repository root."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"]},
            "path": {"type": "string"},
            "file_text": {"type": "string", "description": "create: the file's content."},
            "old_str": {"type": "string", "description": "str_replace: exact text to replace."},
            "new_str": {"type": "string", "description": "str_replace / insert: new text."},
            "insert_line": {"type": "integer", "description": "insert: line to insert after."},
            "view_range": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "view: [first, last] line, last -1 for the end.",
            },
        },
        "required": ["command", "path"],
    },
)


EDITOR_VIEW_SPEC = ToolSpec(
    name=EDITOR,
    description=(
        "View files in the repository: `view` shows a file with line numbers (or lists a "
        "directory). Changes are not yours to make here: delegate them."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "command": {"type": "string", "enum": ["view"]},
            "path": {"type": "string"},
            "view_range": EDITOR_SPEC.input_schema["properties"]["view_range"],
        },
        "required": ["command", "path"],
    },
)
"""The editor of an orchestrator that may not edit (the published setup)."""

Handler = Callable[[Mapping[str, Any], float], str]
"""A tool's implementation: its arguments and the seconds left in the trial → the result text."""


@dataclass(frozen=True)
class ExtraTool:
    """A tool an arm adds to the editor and bash (e.g. `delegate_to_executor`)."""

    spec: ToolSpec
    run: Handler


class ToolInputError(Exception):
    """The model called a tool with arguments that do not fit its schema."""


def _str(args: Mapping[str, Any], key: str, *, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise ToolInputError(f"`{key}` must be a string")
    return value


class Toolbox:
    """Executes tool calls against one workspace: editor directly, bash through the Environment."""

    def __init__(
        self,
        env: Environment,
        *,
        bash_timeout_s: float,
        output_cap: int = 30_000,
        read_only: bool = False,
        extra: tuple[ExtraTool, ...] = (),
    ) -> None:
        self.env = env
        self.editor = FileEditor(env)
        self.bash_timeout_s = bash_timeout_s
        self.output_cap = output_cap
        self.read_only = read_only
        """The editor only views; changes must come from elsewhere (an executor)."""
        editor = EDITOR_VIEW_SPEC if read_only else EDITOR_SPEC
        self._specs: tuple[ToolSpec, ...] = (editor, BASH_SPEC, *(tool.spec for tool in extra))
        self._handlers: dict[str, Handler] = {BASH: self._bash, EDITOR: self._edit}
        self._handlers.update({tool.spec.name: tool.run for tool in extra})

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return self._specs

    def execute(self, call: ToolUseBlock, *, time_left_s: float) -> ToolResultBlock:
        handler = self._handlers.get(call.name)
        try:
            if UNPARSED_ARGUMENTS in call.input:
                raise ToolInputError(
                    f"the arguments are not a JSON object: {call.input[UNPARSED_ARGUMENTS]!r}"
                )
            if handler is None:
                raise ToolInputError(
                    f"unknown tool {call.name!r}; the tools are {sorted(self._handlers)}"
                )
            text, is_error = handler(call.input, time_left_s), False
        except (ToolInputError, EditorError) as exc:
            text, is_error = f"error: {exc}", True
        except (OSError, ValueError) as exc:  # e.g. a path through a file, a NUL in a name
            text, is_error = f"error: {type(exc).__name__}: {exc}", True
        return ToolResultBlock(tool_use_id=call.id, content=text, is_error=is_error)

    def _bash(self, args: Mapping[str, Any], time_left_s: float) -> str:
        command = _str(args, "command")
        timeout = max(min(self.bash_timeout_s, time_left_s), 1.0)
        result = self.env.run(command, timeout_s=timeout, output_cap=self.output_cap)
        ending = exit_line(result.exit_code, timed_out=result.timed_out)
        return f"{result.output.rstrip()}\n{ending}".lstrip("\n")

    def _edit(self, args: Mapping[str, Any], time_left_s: float) -> str:
        command = _str(args, "command")
        path = _str(args, "path")
        if self.read_only and command != "view":
            raise ToolInputError(f"`{command}` is not allowed here: only `view`; delegate changes")
        if command == "view":
            raw = args.get("view_range")
            view_range = None
            if raw is not None:
                if not (
                    isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int) for v in raw)
                ):
                    raise ToolInputError("`view_range` must be [first, last]")
                view_range = (raw[0], raw[1])
            return self.editor.view(path, view_range)
        if command == "create":
            return self.editor.create(path, _str(args, "file_text"))
        if command == "str_replace":
            return self.editor.str_replace(
                path, _str(args, "old_str"), _str(args, "new_str", default="")
            )
        if command == "insert":
            line = args.get("insert_line")
            if not isinstance(line, int):
                raise ToolInputError("`insert_line` must be an integer")
            return self.editor.insert(path, line, _str(args, "new_str"))
        raise ToolInputError(f"unknown editor command {command!r}")
