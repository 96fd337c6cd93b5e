"""The gateway's bookkeeping: the keys it issued, and each trial's rows.

A key is the only thing that ties a call to a trial: external agents share one gateway, and
the key they were started with is what they present. Keys are random, issued per trial and
role, and revocable; they stand in for the real key, which the gateway reads only when it
forwards and which appears nowhere here.

Every call presented with a live key is a row, including those the gateway refused itself (a
key used on the other wire format, an upstream key that is not set): a trial whose agent
failed must say why. Calls with an unknown key belong to no trial and are not recorded.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from armbench.core import (
    GATEWAY_KEY_PREFIX,
    MASK,
    ROLES,
    ROUTES,
    CallRecord,
    ModelError,
    Role,
    Route,
    Usage,
)
from armbench.serve.gateway_usage import WireName

Endpoint = Literal["messages", "count_tokens", "chat_completions"]
KEY_PREFIX = GATEWAY_KEY_PREFIX


@dataclass(frozen=True)
class Upstream:
    """Where a key's calls go: the real API of one wire format (or a local server of it)."""

    wire: WireName
    base_url: str
    """As the official SDK takes it: Anthropic's root (`https://api.anthropic.com`), OpenAI's
    with `/v1` (`https://api.openai.com/v1`), as armbench's model configs give them."""
    key_env: str | None
    """The name of the environment variable holding the real key; None for a server that
    needs none (a local model)."""
    route: Route | None = None
    """Routed arms: which of the two models these calls go to (recorded on each row)."""
    model: str | None = None
    """The model id to ask the upstream for, in place of the request's (a routed key sends
    one conversation to two models); None: the request's as it is."""
    price_as: tuple[str, str] | None = None
    """The configured model the calls bill as: its provider and pricing name (the rate card's
    `provider/model`), whatever model name the agent asks for. None: the wire format's name
    and the request's `model`."""

    def __post_init__(self) -> None:
        if self.wire not in ("anthropic", "openai"):
            raise ValueError(f"wire must be anthropic or openai, not {self.wire!r}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {self.base_url!r}")
        if self.route is not None and self.route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {self.route!r}")


@dataclass(frozen=True)
class Binding:
    """What an issued key stands for."""

    trial_id: str
    role: Role
    upstream: Upstream
    admit: Admit | None = None
    """Asked before each model call is forwarded (the trial's caps and the run's budget):
    raises LimitReached to refuse it, else returns what to call once it has ended."""
    router: Router | None = None
    """Routed keys: picks each call's upstream from its parsed body (else `upstream`)."""

    def pick(self, request: Any) -> Upstream:
        return self.router(request) if self.router is not None else self.upstream


Settle = Callable[["CallOutcome", float], None]
"""Told how an admitted call ended and how long it took (seconds)."""
Admit = Callable[["Upstream", bytes, Any], Settle]
"""Given where a call goes and its body (raw, and parsed when it is JSON), holds what it may
spend."""
Router = Callable[[Any], "Upstream"]
"""Given a call's parsed body, the upstream it goes to (its `route` says which)."""


@dataclass(frozen=True)
class CallOutcome:
    """How one call ended, as the relay saw it."""

    usage: Usage = field(default_factory=Usage)
    model_id: str = ""
    error: ModelError | None = None
    http_status: int | None = None
    request_id: str | None = None
    streamed: bool = False
    forwarded: bool = True
    """False: the gateway refused the call itself, and the upstream never saw it."""


@dataclass(frozen=True)
class GatewayCall:
    """One call through the gateway: its ledger row and what only the gateway knows of it."""

    trial_id: str
    endpoint: Endpoint
    record: CallRecord
    http_status: int | None
    """The status the client received: the upstream's, or the gateway's own when it refused
    the call itself (then `forwarded` is False); None when no response came."""
    forwarded: bool
    streamed: bool

    @property
    def billable(self) -> bool:
        """Whether the row belongs in the trial's ledger: a token count is not a model call
        (free, and without usage)."""
        return self.endpoint != "count_tokens"


class OpenCall:
    """A call under way: its place in the trial (`seq`, in the order calls arrived) and its
    start, until `close` records it."""

    def __init__(
        self,
        ledger: Ledger,
        binding: Binding,
        seq: int,
        endpoint: Endpoint,
        request: Any,
        upstream: Upstream,
    ) -> None:
        self._ledger = ledger
        self.binding = binding
        self.upstream = upstream
        self.seq = seq
        self.endpoint: Endpoint = endpoint
        model = request.get("model") if isinstance(request, dict) else None
        self.model = model if isinstance(model, str) else ""
        self.started_at = time.time()
        self._started = time.perf_counter()

    def close(self, outcome: CallOutcome, *, mask: str | None = None) -> GatewayCall:
        """Record the call; `mask`, the real key, is taken out of the error text."""
        latency = time.perf_counter() - self._started
        upstream = self.upstream
        error = outcome.error
        text = str(error) if error is not None else None
        if text is not None and mask:
            text = text.replace(mask, MASK)
        record = CallRecord(
            seq=self.seq,
            role=self.binding.role,
            provider=upstream.price_as[0] if upstream.price_as else upstream.wire,
            model=upstream.price_as[1] if upstream.price_as else self.model,
            model_id=outcome.model_id if error is None else "",
            attempt=1,  # the agent's own retries arrive as calls of their own
            status="ok" if error is None else "error",
            usage=outcome.usage,
            latency_s=latency,
            latency_simulated=False,
            started_at=self.started_at,
            request_id=outcome.request_id,
            error_class=error.infra_class if error is not None else None,
            error=text,
            route=upstream.route,
        )
        call = GatewayCall(
            trial_id=self.binding.trial_id,
            endpoint=self.endpoint,
            record=record,
            http_status=outcome.http_status,
            forwarded=outcome.forwarded,
            streamed=outcome.streamed,
        )
        self._ledger.append(call)
        return call


class Ledger:
    """Issued keys and each trial's rows; thread-safe (every handler thread records here)."""

    def __init__(self, on_call: Callable[[GatewayCall], None] | None = None) -> None:
        self._on_call = on_call
        """Told of each row as it is recorded (`armbench gateway` writes them out)."""
        self._lock = threading.Condition()
        self._keys: dict[str, Binding] = {}
        self._rows: dict[str, list[GatewayCall]] = {}
        self._seq: dict[str, int] = {}
        self._under_way: dict[str, int] = {}

    def issue(
        self,
        trial_id: str,
        role: Role,
        upstream: Upstream,
        admit: Admit | None = None,
        router: Router | None = None,
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        key = KEY_PREFIX + secrets.token_hex(24)
        with self._lock:
            self._keys[key] = Binding(trial_id, role, upstream, admit, router)
        return key

    def revoke(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def binding(self, key: str | None) -> Binding | None:
        if key is None:
            return None
        with self._lock:
            return self._keys.get(key)

    def open(
        self, binding: Binding, endpoint: Endpoint, request: Any, upstream: Upstream | None = None
    ) -> OpenCall:
        """A call under way with `binding`'s key, going to `upstream` (its own by default)."""
        with self._lock:
            seq = self._seq.get(binding.trial_id, 0) + 1
            self._seq[binding.trial_id] = seq
            self._under_way[binding.trial_id] = self._under_way.get(binding.trial_id, 0) + 1
        return OpenCall(self, binding, seq, endpoint, request, upstream or binding.upstream)

    def append(self, call: GatewayCall) -> None:
        with self._lock:
            self._rows.setdefault(call.trial_id, []).append(call)
            self._under_way[call.trial_id] -= 1
            if self._on_call is not None:
                self._on_call(call)
            self._lock.notify_all()

    def settle(self, trial_id: str, timeout_s: float) -> bool:
        """Wait until every call of the trial that arrived is recorded; False on timeout. A
        client can see its call end (a broken stream, a hang-up) before the gateway has
        finished reading the upstream and recorded it."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._under_way.get(trial_id), timeout_s)

    def calls(self, trial_id: str) -> list[GatewayCall]:
        """The trial's rows, in `seq` order (calls that overlap end in any order)."""
        with self._lock:
            rows = list(self._rows.get(trial_id, ()))
        return sorted(rows, key=lambda call: call.record.seq)
