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
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from armbench.arms.routing import make_router
from armbench.config import ExternalArm, ModelConfig, SimModelConfig
from armbench.core import (
    TOKEN_KINDS,
    CallRecord,
    LimitReached,
    ModelError,
    ModelRequest,
    ModelResponse,
    Role,
    Route,
)
from armbench.models import CallGuard, Model
from armbench.models.worst_case import API_FRAMING_TOKENS
from armbench.serve import Gateway, SimServer, Upstream, anthropic_api, openai_api, parse_fault
from armbench.serve import relay as relay_module
from armbench.serve.brain import InvalidRequest
from armbench.serve.dialects import as_armbench
from armbench.serve.gateway_ledger import Admit, CallOutcome, Router, Settle
from armbench.serve.openai_api import DEFAULT_MAX_TOKENS
from armbench.serve.wire import WIRES
from armbench.sim import TaskBrief

OFFICIAL = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}
"""The API models' endpoints when their config gives no `base_url` (the SDKs' defaults)."""
RELAY_PORT = 8808
"""Where the relay listens on a sandbox's own loopback (each sandbox has its own)."""
SETTLE_S = 30.0
UNSET_OUTPUT_BOUND = {"sim": DEFAULT_MAX_TOKENS, "api": 128_000}
"""The output a call that sets no `max_tokens` is bounded by (OpenAI's format lets a request
leave it out): what serve-sim then allows a sim; for a real API, whose own limit for the model
armbench does not know, a bound above current models' (the gateway does not rewrite requests,
so it reserves high rather than risk a budget)."""


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
    decisions: list[dict[str, object]] = field(default_factory=list)
    failures: list[ModelError] = field(default_factory=list)

    @property
    def failure(self) -> ModelError | None:
        """The classifier's failure that stopped routing, if one did."""
        return self.failures[0] if self.failures else None

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
        models = self.sim.stats()["models"].values()
        return {kind: sum(int(counts.get(kind, 0)) for counts in models) for kind in TOKEN_KINDS}


def relay_prelude(folder: Path) -> str:
    """Bash that starts the relay in the background and waits until it listens."""
    ready = "/tmp/.armbench-relay-ready"
    return (
        f"python3 {folder / 'relay.py'} {folder / 'gateway.sock'} {RELAY_PORT} {ready} $$ "
        ">/dev/null 2>&1 &\n"
        f"for _ in $(seq 1200); do [ -e {ready} ] && break; sleep 0.025; done\n"
    )


def guarded(
    guard: CallGuard, models: Mapping[Route | None, Model], unset: Mapping[Route | None, int]
) -> Admit:
    """The gateway's admission: each call passes the trial's guard (its caps, the run's budget,
    the endpoint's limiter) as a call to the model of its route, before it is forwarded,
    bounded by its body's size (no prompt holds more tokens than its request has bytes) and
    the output it asks for (`unset` by route when it asks none), and settles at what it was
    billed."""

    def admit(upstream: Upstream, body: bytes, request: Any) -> Settle:
        asked = (
            request.get("max_completion_tokens", request.get("max_tokens"))
            if isinstance(request, dict)
            else None
        )
        output = asked if isinstance(asked, int) and asked > 0 else unset[upstream.route]
        model = models[upstream.route]
        ticket = guard.admit_bounded(model, API_FRAMING_TOKENS + len(body), output)

        def settle(outcome: CallOutcome, seconds: float) -> None:
            guard.settle(ticket, outcome.usage, seconds, outcome.error)

        return settle

    return admit


def routing(
    arm: ExternalArm,
    upstreams: Mapping[Route | None, Upstream],
    checks: Sequence[str],
    classify: Callable[[ModelRequest], ModelResponse] | None,
    classifier_system: str,
    refusals: list[LimitReached],
    failures: list[ModelError],
) -> tuple[Router, list[dict[str, object]]]:
    """The gateway's router for a routed external arm, and the decisions it records: the
    arm's strategy reads the agent's conversation as armbench's own would be
    (`serve.dialects.as_armbench`), so the same signals decide. A classifier's call that a
    cap refuses, or that fails for good, is kept (`refusals`, `failures`) and refuses the
    agent's call, as it ends armbench's own routed trial."""
    assert arm.routing is not None
    router = make_router(
        arm.routing.strategy,
        check_commands=checks,
        classify=classify,
        classifier_system=classifier_system,
    )
    parse = anthropic_api.parse_request if arm.speaks == "anthropic" else openai_api.parse_request
    decisions: list[dict[str, object]] = []
    lock = threading.Lock()

    def route(request: Any) -> Upstream:
        try:
            messages = as_armbench(parse(request).request)
        except (InvalidRequest, ValueError):
            messages = []  # a body no format reads: decided on nothing, the upstream's 400 is due
        with lock:
            try:
                decision = router.decide(messages)
            except LimitReached as refused:
                refusals.append(refused)
                raise
            except ModelError as failed:
                failures.append(failed)
                raise
            call = len(decisions) + 1
            decisions.append({"call": call, "route": decision.target, "reason": decision.reason})
        return upstreams[decision.target]

    return route, decisions


@contextmanager
def gateway_seat(
    *,
    trial_id: str,
    arm: ExternalArm,
    configs: Mapping[str, ModelConfig],
    role: Role,
    brief: TaskBrief,
    seed: int,
    scratch: Path,
    confined: bool,
    checks: Sequence[str] = (),
    models: Mapping[Route | None, Model] | None = None,
    guard: CallGuard | None = None,
    classify: Callable[[ModelRequest], ModelResponse] | None = None,
    classifier_system: str = "",
) -> Iterator[Seat]:
    """A gateway for one trial's external agent (and a serve-sim for its sim models): its
    calls go to the arm's `model`, or to the `local` or `cloud` model its `routing` picks."""
    wire = arm.speaks
    keys: dict[Route | None, str]
    if arm.routing is not None:
        keys = {"local": arm.routing.local, "cloud": arm.routing.cloud}
    else:
        assert arm.model is not None
        keys = {None: arm.model}
    names = {route: configs[key].model or key for route, key in keys.items()}
    with ExitStack() as stack:
        sims = {names[r]: c for r, k in keys.items() if isinstance(c := configs[k], SimModelConfig)}
        sim: SimServer | None = None
        if sims:
            faults = [parse_fault(spec) for c in sims.values() for spec in c.faults]
            sim = SimServer(wire, brief=brief, models=sims, seed=seed, faults=faults)
            stack.enter_context(sim)
        upstreams: dict[Route | None, Upstream] = {}
        for route, key in keys.items():
            config = configs[key]
            price_as = (config.provider, names[route])
            asked = names[route] if route is not None else None
            if isinstance(config, SimModelConfig):
                assert sim is not None
                base, key_env = sim.sdk_base_url, None
            else:
                assert config.provider in ("anthropic", "openai")  # the config refuses others
                base = config.base_url or OFFICIAL[config.provider]
                key_env = getattr(config, "api_key_env", None)
            upstreams[route] = Upstream(wire, base, key_env, route, asked, price_as)
        socket: str | None = None
        folder = scratch / "gateway"
        if confined:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(relay_module.__file__, folder / "relay.py")
            socket = str(folder / "gateway.sock")
        gateway = stack.enter_context(Gateway(socket_path=socket))
        refusals: list[LimitReached] = []
        checked: Admit | None = None
        if guard is not None and models is not None:
            unset = {
                route: UNSET_OUTPUT_BOUND[
                    "sim" if isinstance(configs[key], SimModelConfig) else "api"
                ]
                for route, key in keys.items()
            }
            inner = guarded(guard, models, unset)

            def checked(upstream: Upstream, body: bytes, request: Any) -> Settle:
                try:
                    return inner(upstream, body, request)
                except LimitReached as refused:
                    refusals.append(refused)
                    raise

        router: Router | None = None
        decisions: list[dict[str, object]] = []
        failures: list[ModelError] = []
        if arm.routing is not None:
            router, decisions = routing(
                arm, upstreams, checks, classify, classifier_system, refusals, failures
            )
        default = upstreams.get(None) or upstreams["cloud"]
        issued = gateway.issue(trial_id, role, default, checked, router)
        stack.callback(gateway.revoke, issued)
        readable: tuple[Path, ...] = ()
        if confined:
            prelude, readable = relay_prelude(folder), (folder,)
            url = f"http://127.0.0.1:{RELAY_PORT}{WIRES[wire].sdk_path}"
        else:
            url, prelude = gateway.sdk_base_url(wire), ""
        model = names.get(None) or names["cloud"]
        yield Seat(
            url, issued, model, prelude, readable, gateway, trial_id, sim, refusals, decisions
        )
