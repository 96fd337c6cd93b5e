"""An external agent's way to its model: a metering gateway for one trial (`arms.GatewaySeat`).

Each external trial gets a gateway of its own, started before its agent and stopped after it,
with one key issued for the trial. The gateway forwards to the model the arm names: an API
model's real endpoint (its key read from the environment as each call is forwarded, never
handed to the agent), or, for a sim, a serve-sim of the agent's API format started beside the
gateway for this trial and told the trial's task (an agent wraps the task's prompt in its own).

A sandboxed agent has no network: the gateway then also listens on a Unix socket in a folder
the sandbox may read, and the agent's command first starts a relay there
(`armbench.serve.relay`) on the sandbox's own loopback. Without a sandbox the agent is given
the gateway's loopback URL directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.config import ModelConfig, SimModelConfig
from armbench.core import TOKEN_KINDS, CallRecord, LimitReached, Role
from armbench.models import CallGuard, Model
from armbench.models.worst_case import API_FRAMING_TOKENS
from armbench.serve import Gateway, SimServer, Upstream, parse_fault
from armbench.serve import relay as relay_module
from armbench.serve.gateway_ledger import Admit, CallOutcome, Settle
from armbench.sim import TaskBrief

Wire = Literal["openai", "anthropic"]
OFFICIAL = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}
"""The API models' endpoints when their config gives no `base_url` (the SDKs' defaults)."""
SDK_PATH = {"anthropic": "", "openai": "/v1"}
RELAY_PORT = 8808
"""Where the relay listens on a sandbox's own loopback (each sandbox has its own)."""
SETTLE_S = 30.0
DEFAULT_OUTPUT_BOUND = 32_000
"""The output a call that sets no `max_tokens` is bounded by: what serve-sim then allows. A
real API allows a model's own limit, which may be higher: give such models a `max_tokens`
(the gateway does not rewrite requests), or keep a margin in the budget."""


@dataclass(frozen=True)
class Seat:
    base_url: str
    key: str
    model: str
    prelude: str
    readable: tuple[Path, ...]
    gateway: Gateway
    trial_id: str
    sim: SimServer | None = None
    refusals: list[LimitReached] = field(default_factory=list)

    @property
    def limit(self) -> LimitReached | None:
        """The cap that refused a call, if one did (the trial then ends as `limit`)."""
        return self.refusals[0] if self.refusals else None

    def records(self) -> list[CallRecord]:
        self.gateway.settle(self.trial_id, SETTLE_S)
        return self.gateway.records(self.trial_id)

    def served(self) -> dict[str, int] | None:
        """The tokens the sim upstream counted itself, by kind (None: a real API)."""
        if self.sim is None:
            return None
        models = self.sim.stats()["models"]
        counts = models.get(self.model, {})
        return {kind: int(counts.get(kind, 0)) for kind in TOKEN_KINDS}


def relay_prelude(folder: Path) -> str:
    """Bash that starts the relay in the background and waits until it listens."""
    ready = "/tmp/.armbench-relay-ready"
    return (
        f"python3 {folder / 'relay.py'} {folder / 'gateway.sock'} {RELAY_PORT} {ready} $$ "
        ">/dev/null 2>&1 &\n"
        f"for _ in $(seq 1200); do [ -e {ready} ] && break; sleep 0.025; done\n"
    )


def guarded(guard: CallGuard, model: Model) -> Admit:
    """The gateway's admission for `model`'s calls: each passes the trial's guard (its caps,
    the run's budget, the endpoint's limiter) before it is forwarded, bounded by its body's
    size (no prompt holds more tokens than its request has bytes) and the output it asks for
    (the server's default cap when it asks none), and settles at what it was billed."""

    def admit(body: bytes, request: Any) -> Settle:
        asked = (
            request.get("max_completion_tokens", request.get("max_tokens"))
            if isinstance(request, dict)
            else None
        )
        output = asked if isinstance(asked, int) and asked > 0 else DEFAULT_OUTPUT_BOUND
        ticket = guard.admit_bounded(model, API_FRAMING_TOKENS + len(body), output)

        def settle(outcome: CallOutcome, seconds: float) -> None:
            guard.settle(ticket, outcome.usage, seconds, outcome.error)

        return settle

    return admit


@contextmanager
def gateway_seat(
    *,
    trial_id: str,
    key: str,
    config: ModelConfig,
    role: Role,
    wire: Wire,
    brief: TaskBrief,
    seed: int,
    scratch: Path,
    confined: bool,
    admit: Admit | None = None,
) -> Iterator[Seat]:
    """A gateway (and, for a sim, its serve-sim) for one trial's calls to model `key`."""
    name = config.model or key
    price_as = (config.provider, name)
    with ExitStack() as stack:
        sim: SimServer | None = None
        if isinstance(config, SimModelConfig):
            faults = [parse_fault(spec) for spec in config.faults]
            sim = SimServer(wire, brief=brief, models={name: config}, seed=seed, faults=faults)
            stack.enter_context(sim)
            upstream = Upstream(wire, sim.sdk_base_url, None, price_as=price_as)
        else:
            assert config.provider in ("anthropic", "openai")  # the config refuses the others
            base = config.base_url or OFFICIAL[config.provider]
            upstream = Upstream(wire, base, config.api_key_env, price_as=price_as)
        socket: str | None = None
        if confined:
            folder = scratch / "gateway"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(relay_module.__file__, folder / "relay.py")
            socket = str(folder / "gateway.sock")
        gateway = stack.enter_context(Gateway(socket_path=socket))
        refusals: list[LimitReached] = []
        checked: Admit | None = None
        if admit is not None:
            inner = admit

            def checked(body: bytes, request: Any) -> Settle:
                try:
                    return inner(body, request)
                except LimitReached as refused:
                    refusals.append(refused)
                    raise

        issued = gateway.issue(trial_id, role, upstream, checked)
        stack.callback(gateway.revoke, issued)
        readable: tuple[Path, ...] = ()
        if confined:
            prelude, readable = relay_prelude(folder), (folder,)
            url = f"http://127.0.0.1:{RELAY_PORT}{SDK_PATH[wire]}"
        else:
            url, prelude, readable = gateway.sdk_base_url(wire), "", ()
        yield Seat(url, issued, name, prelude, readable, gateway, trial_id, sim, refusals)
