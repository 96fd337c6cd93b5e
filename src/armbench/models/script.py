"""`script`: plays back a file of assistant turns — for tests and exact replays.

The file is a YAML (or JSON) list; each turn is
`{text: str, tool_calls: [{name, input}], usage: {input, output, ...}, error: <infra class>}`,
all keys optional. A turn with `error` raises that infra error instead of answering. Turns without
`usage` are counted with the approximate tokenizer and no cache. Running out of turns is a
harness error, not a silent finish.

The file is read and checked when the run's models are set up, before any run directory
exists: a script that cannot be played is bad input (exit 2), not an infra error in every trial.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from armbench.config import ScriptModelConfig
from armbench.core import (
    Block,
    InfraClass,
    ModelError,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolUseBlock,
    Usage,
    format_validation_error,
)
from armbench.models.base import ModelIdentity
from armbench.models.prompt_cache import linearize, uncached_usage
from armbench.models.tokenizer import BLOCK_OVERHEAD, count_tokens


class ScriptedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class ScriptedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = ""
    tool_calls: list[ScriptedCall] = Field(default_factory=list)
    usage: Usage | None = None
    error: InfraClass | None = None
    """Raise this infra error instead of answering."""
    latency_s: float = 0.0


FIX = "a script is a YAML list of turns `{text, tool_calls: [{name, input}], usage, error}`"


def load_script(path: Path) -> list[ScriptedTurn]:
    """The turns of a script file; ValueError in one line naming the file (and the turn and
    field) otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the script ({exc.strerror}); {FIX}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the script is not UTF-8 text; save it as UTF-8") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
        raise ValueError(f"{path}: not valid YAML{where}: {exc.problem}; {FIX}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc}); {FIX}") from exc
    if not isinstance(raw, list) or not raw:
        found = "an empty list" if raw == [] else f"a YAML {type(raw).__name__}"
        raise ValueError(f"{path}: {found}; {FIX}")
    turns = []
    for number, item in enumerate(raw, 1):
        try:
            turns.append(ScriptedTurn.model_validate(item))
        except ValidationError as exc:
            raise ValueError(f"{path}: turn {number}: {format_validation_error(exc)}") from exc
    return turns


class ScriptModel:
    def __init__(self, name: str, turns: list[ScriptedTurn]) -> None:
        self._identity = ModelIdentity(provider="script", model=name, simulated=True)
        self._turns = iter(turns)
        self._calls = 0

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        turn = next(self._turns, None)
        self._calls += 1
        if turn is None:
            raise ModelError("script: no turns left to play", "harness")
        if turn.error is not None:
            raise ModelError(f"script: scripted {turn.error} error", turn.error)
        content: tuple[Block, ...] = (TextBlock(text=turn.text),) if turn.text else ()
        output = count_tokens(turn.text) + BLOCK_OVERHEAD
        for index, call in enumerate(turn.tool_calls):
            content += (
                ToolUseBlock(
                    id=f"toolu_script_{self._calls}_{index}", name=call.name, input=call.input
                ),
            )
            output += (
                count_tokens(call.name + json.dumps(call.input, sort_keys=True)) + BLOCK_OVERHEAD
            )
        usage = turn.usage
        if usage is None:
            usage = uncached_usage(linearize(request)[0]).model_copy(update={"output": output})
        return ModelResponse(
            content=content,
            stop_reason="tool_use" if turn.tool_calls else "end_turn",
            usage=usage,
            latency_s=turn.latency_s,
            latency_simulated=True,
            model_id=f"script-{self._identity.model}",
            request_id=f"script-{self._calls}",
            simulated=True,
        )


class _Provider:
    def key_variable(self, settings: ScriptModelConfig) -> tuple[str | None, bool]:
        """No key. But this is asked of every model a run uses when its model factory is made,
        in preflight, so the script is read and checked here: a script that cannot be played
        fails the run before it starts (ValueError), not every trial as it runs."""
        load_script(settings.path)
        return None, False

    def client(self, settings: ScriptModelConfig, api_key: str | None) -> None:
        return None

    def model(self, name: str, settings: ScriptModelConfig, client: None) -> ScriptModel:
        return ScriptModel(name, load_script(settings.path))


PROVIDER = _Provider()
