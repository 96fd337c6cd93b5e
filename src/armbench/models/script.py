"""`script`: plays back a file of assistant turns — for tests and exact replays.

The file is a YAML (or JSON) list; each turn is
`{text: str, tool_calls: [{name, input}], usage: {input, output, ...}, error: <infra class>}`,
all keys optional. A turn with `error` raises that infra error instead of answering. Turns without
`usage` are counted with the approximate tokenizer and no cache. Running out of turns is a
harness error, not a silent finish.
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


def load_script(path: Path) -> list[ScriptedTurn]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the script: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a script is a list of turns")
    try:
        turns = [ScriptedTurn.model_validate(item) for item in raw]
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from exc
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
        return None, False

    def client(self, settings: ScriptModelConfig, api_key: str | None) -> None:
        return None

    def model(self, name: str, settings: ScriptModelConfig, client: None) -> ScriptModel:
        return ScriptModel(name, load_script(settings.path))


PROVIDER = _Provider()
