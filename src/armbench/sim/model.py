"""`SimModel`: the sim as a Model, one per role of one trial.

It answers each request as its role does — a coder (solo, orchestrator or executor) by its
policy, a routing classifier and a single-shot model by `answers` — and bills the answer through
its own prompt cache. Everything it returns is labelled simulated.
"""

from __future__ import annotations

import random
import time

from armbench.agent.tools import EDITOR
from armbench.config import SimModelConfig
from armbench.core import (
    ModelError,
    ModelRequest,
    ModelResponse,
    Role,
    ToolResultBlock,
    ToolUseBlock,
)
from armbench.models.base import ModelIdentity
from armbench.prompts import CONTRACT, PromptSet
from armbench.sim.accounting import SimAccounting, cut_to_max_tokens
from armbench.sim.answers import route_answer, single_shot_answer
from armbench.sim.brief import TaskBrief
from armbench.sim.instructions import parse_instruction
from armbench.sim.policy import Observation, SimAction, SimPolicy, SimRole, render


class SimModel:
    """A simulated model for one trial: a policy plus a prompt cache of its own.

    Models may share one policy (a routed arm's local and cloud sims play one coder whose
    skill is that of whichever model answers); each keeps its own cache, as real providers do.
    """

    def __init__(
        self,
        name: str,
        settings: SimModelConfig,
        brief: TaskBrief,
        seed: int,
        *,
        role: Role = "solo",
        policy: SimPolicy | None = None,
        prompts: PromptSet | None = None,
    ) -> None:
        """`brief` is what it knows of the task (an executor learns its brief from the
        instruction it is given instead); `policy` lets sims share one coder's decisions;
        `prompts` are the arm's, by which it recognises the execution contract."""
        self._identity = ModelIdentity(provider="sim", model=name, simulated=True)
        self._settings = settings
        self._role = role
        self._brief = brief
        self._seed = seed
        self._rng = random.Random(seed + 2)  # one-shot answers (router, single-shot)
        self._policy = policy
        self._prompts = prompts or PromptSet()
        self._accounting = SimAccounting(settings)
        self._calls = 0
        self._started = time.monotonic()
        self._simulated_s = 0.0

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def complete(self, request: ModelRequest) -> ModelResponse:
        skill = self._settings.skill
        if self._role == "router":
            action = SimAction(route_answer(request, skill, self._rng))
        elif self._role == "single_shot":
            asked = self._prompts.identify(first_user_text(request))
            contract = asked is not None and asked.id == CONTRACT
            action = SimAction(
                single_shot_answer(self._brief, contract=contract, skill=skill, rng=self._rng)
            )
        else:
            coder = self._coder(request)
            coder.skill = self._settings.skill
            coder.can_edit = can_edit(request)
            coder.max_output_tokens = request.max_tokens
            action = coder.step(_latest_observation(request))
        self._calls += 1
        content = render(action, call_id=f"toolu_sim_{self._identity.model}_{self._calls:04d}")
        content, cut = cut_to_max_tokens(content, request.max_tokens, self._settings)
        calls = [b for b in content if isinstance(b, ToolUseBlock)]
        now = time.monotonic() - self._started + self._simulated_s
        usage, latency, blocks = self._accounting.bill(request, content, now)
        self._simulated_s += latency
        return ModelResponse(
            content=content,
            stop_reason="max_tokens" if cut else "tool_use" if calls else "end_turn",
            usage=usage,
            latency_s=latency,
            latency_simulated=True,
            model_id=f"sim-{self._identity.model}",
            request_id=f"sim-{self._calls}",
            simulated=True,
            block_usage=blocks,
        )

    def _coder(self, request: ModelRequest) -> SimPolicy:
        """The policy, made at the first call: an executor's brief is the instruction that
        opens its conversation (it applies what it is told, and nothing it was not told)."""
        if self._policy is None:
            role: SimRole = self._role if self._role in ("orchestrator", "executor") else "solo"
            brief = self._brief
            if role == "executor":
                brief = parse_instruction(first_user_text(request))
            self._policy = SimPolicy(self._settings, brief, self._seed, role=role)
        return self._policy


def first_user_text(request: ModelRequest) -> str:
    """The text of the request's first user message: the task prompt, or an instruction."""
    for message in request.messages:
        if message.role == "user":
            return message.text
    return ""


def _latest_observation(request: ModelRequest) -> Observation | None:
    """The result of the conversation's latest tool call; None before the first one."""
    messages = request.messages
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role != "assistant":
            continue
        calls = messages[index].tool_uses
        if not calls:
            return None
        for message in messages[index + 1 :]:
            for block in message.content:
                if isinstance(block, ToolResultBlock) and block.tool_use_id == calls[0].id:
                    return block.content, block.is_error
        raise ModelError(
            f"sim: the request carries no result for tool call {calls[0].id}", "harness"
        )
    return None


def can_edit(request: ModelRequest) -> bool:
    """Whether the editor offered can change files (an orchestrator's may only view)."""
    for tool in request.tools:
        if tool.name == EDITOR:
            command = tool.input_schema.get("properties", {}).get("command", {})
            return "str_replace" in command.get("enum", ["str_replace"])
    return False
