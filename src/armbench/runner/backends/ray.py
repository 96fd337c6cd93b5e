"""`ray`: a run's trials as Ray tasks on the machines of a Ray cluster — the only module of
armbench that imports Ray (the optional extra `armbench[ray]`).

The driver (this process, `runner.run.execute`) keeps the run directory and the decisions;
each trial is a Ray task that runs the whole trial on one node (armbench.runner.backends.
worker: the agent's model work, the judge) and hands back its record and transcript text,
which the driver writes. What the tasks share lives in one actor of the run, on the driver's
node (armbench.runner.backends.accounts: the budget, the endpoint limiters, the activity a
progress display shows); each node's templates in one actor on that node
(armbench.runner.backends.node.Templates), so a template is prepared once per node.

How the trials are laid out:

- the driver submits at most `concurrency` trials at a time and submits the next as one ends,
  so "stop" (a fatal provider error, an exhausted budget) is simply submitting no more: no
  trial is queued inside Ray that would have to be cancelled, and those under way finish;
- a trial task takes no CPU of Ray's (`num_cpus=0`): a trial mostly waits for models, so Ray's
  CPU count must not bound how many run; `concurrency` does. The `SPREAD` strategy spreads them
  over the nodes. What is CPU-bound — judging, preparing templates — takes one of its node's
  CPU slots (`NodeSlots`: `judge_concurrency`, else the node's CPU count, per node), shared by
  the run's worker processes on that node;
- a trial is never retried by Ray (`max_retries=0`): a worker that dies (its node lost, its
  process killed) becomes the trial's `infra_error` of class `harness`, with what Ray said;
  the actor counts what it held as spent; `armbench resume --retry-infra harness` runs it again.

Ray is joined at `--address` (a running cluster: `auto`, `HOST:PORT`, `ray://HOST:10001`), or
started here when there is none (a local one, for one execution). A local Ray is started
before the driver withdraws the keys from its environment, so its workers inherit them and
read them as the driver did; it runs under a lease of its own (armbench.runner.leases) whose
marker every Ray process carries, so if the driver is killed the lease's watchdog ends them
all within moments. A Ray this process already joined (a notebook's, a test's) is used as it
is and left running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import ray
from ray.exceptions import RayError, RayTaskError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from armbench.config import RunConfig
from armbench.env.process import OWNER_VARIABLE
from armbench.runner import leases
from armbench.runner.backends.accounts import Accounts, RemoteBudget, RemoteLimiters
from armbench.runner.backends.base import Backend, BackendUnavailable, Finished, Job
from armbench.runner.backends.node import Settings, Templates, remove_slots
from armbench.runner.backends.worker import NodeFailure, PlanRef, run_on_node
from armbench.runner.capacity import Capacity
from armbench.runner.cleanup import base_tempdir
from armbench.runner.events import Activity
from armbench.runner.plan import TrialPlan
from armbench.runner.trial import TrialResult, infra_failure, redacted

MAX_REASON = 600
"""Characters of what Ray said kept in a lost trial's error."""
POLL_S = 0.5
"""How often the driver passes on what workers told (templates being prepared) while it waits."""


class RayCalls:
    """`accounts.Calls` through an actor handle."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def call(self, method: str, *args: Any) -> Any:
        return ray.get(getattr(self.handle, method).remote(*args))

    def tell(self, method: str, *args: Any) -> None:
        getattr(self.handle, method).remote(*args)


@ray.remote(num_cpus=0, max_retries=0)
def _trial(
    settings: Settings, ref: PlanRef, handle: Any, templates: dict[str, Any]
) -> TrialResult | NodeFailure | None:
    here: Any = templates.get(ray.get_runtime_context().get_node_id())

    def fetch(task_id: str, inject_seed: int) -> Any:
        return ray.get(here.get.remote(task_id, inject_seed))

    return run_on_node(settings, ref, RayCalls(handle), fetch if here is not None else None)


_Accounts = ray.remote(Accounts)


class _NodeTemplates(Templates):
    def __init__(self, settings: Settings, handle: Any) -> None:
        super().__init__(settings, RayCalls(handle))


_Templates = ray.remote(_NodeTemplates)
_nodes: Callable[[], list[dict[str, Any]]] = ray.nodes
"""The cluster's nodes (Ray leaves `ray.nodes` untyped)."""


class RayExecutor:
    """Runs trials as Ray tasks, `concurrency` at a time (see the module)."""

    def __init__(self, job: Job, handle: Any) -> None:
        self._job = job
        self._handle = handle
        self._calls = RayCalls(handle)
        config = job.pre.config
        self._budget = RemoteBudget(self._calls, config.budget_usd, "driver")
        settings = Settings.of(job.pre, job.run_id)
        self._settings = ray.put(settings)
        # One template agent per node alive now (a node that joins later has its workers
        # prepare their own), each owned by this process: it ends with the driver.
        self._templates: dict[str, Any] = {
            node["NodeID"]: _Templates.options(
                num_cpus=0,
                max_concurrency=16,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], False),
            ).remote(self._settings, handle)
            for node in _nodes()
            if node.get("Alive")
        }
        self._concurrency = config.concurrency
        self._pending: deque[TrialPlan] = deque()
        self._running: dict[Any, tuple[TrialPlan, float]] = {}
        self._stopped = False

    def submit(self, plan: TrialPlan) -> None:
        self._pending.append(plan)

    def stop(self) -> None:
        self._stopped = True

    def _fill(self) -> None:
        while not self._stopped and self._pending and len(self._running) < self._concurrency:
            if self._budget.exhausted:
                self._stopped = True
                break
            plan = self._pending.popleft()
            task = _trial.options(scheduling_strategy="SPREAD")
            ref = task.remote(self._settings, PlanRef.of(plan), self._handle, self._templates)
            self._running[ref] = (plan, time.time())
            self._job.on_activity(Activity("trial_started", plan.trial_id))

    def finished(self) -> Iterator[Finished]:
        self._fill()
        while self._running:
            ready, _ = ray.wait(list(self._running), num_returns=1, timeout=POLL_S)
            self._relay()
            for ref in ready:
                plan, started = self._running.pop(ref)
                result = self._result(ref, plan, started)
                self._job.on_activity(Activity("trial_ended", plan.trial_id))
                yield Finished(plan, result)
                self._fill()  # after the driver has read it (and perhaps stopped the run)
        self._relay()
        while self._pending:
            yield Finished(self._pending.popleft(), None)

    def _relay(self) -> None:
        for kind, subject in self._calls.call("events"):
            self._job.on_activity(Activity(kind, subject))

    def _result(self, ref: Any, plan: TrialPlan, started: float) -> TrialResult | None:
        try:
            out: TrialResult | NodeFailure | None = ray.get(ref)
        except RayError as exc:
            self._calls.call("abandon", plan.trial_id)
            record = infra_failure(plan, "harness", lost(exc), started)
            return TrialResult(redacted(record, self._job.context.redact), None)
        if isinstance(out, NodeFailure):
            record = infra_failure(plan, out.infra_class, out.error, started)
            return TrialResult(redacted(record, self._job.context.redact), None)
        return out

    def close(self) -> None:
        """End the trials under way (the driver is leaving early: their workers are killed,
        and their leases' watchdogs clean up after them) and the template agents (their
        folders removed)."""
        for ref in self._running:
            with contextlib.suppress(RayError):
                ray.cancel(ref, force=True)
        self._running.clear()
        closing = [agent.close.remote() for agent in self._templates.values()]
        with contextlib.suppress(RayError):
            ray.wait(closing, num_returns=len(closing), timeout=30)
        for agent in self._templates.values():
            with contextlib.suppress(RayError):
                ray.kill(agent)


def lost(exc: RayError) -> str:
    """What a trial's record says of a worker that failed: Ray's class and the cause's own
    message (a harness bug's exception, not Ray's coloured traceback), on one line."""
    cause = exc.cause if isinstance(exc, RayTaskError) and exc.cause is not None else exc
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(cause))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = " ".join(lines)[:MAX_REASON] or "no reason given"
    inner = f" ({type(cause).__name__})" if cause is not exc else ""
    return f"{type(exc).__name__}{inner}: the worker failed or was lost: {reason}"


class RayBackend:
    name = "ray"

    def __init__(self) -> None:
        self._handle: Any = None

    def share(self, config: RunConfig, capacity: Capacity) -> Capacity:
        """The accounts actor, on the driver's node (if that node is lost the run is lost
        anyway), with this capacity's budget as it stands (a resumed run's spend in it)."""
        if self._handle is None:
            here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), False)
            self._handle = _Accounts.options(
                num_cpus=0,
                max_concurrency=4 * config.concurrency + 16,
                scheduling_strategy=here,
            ).remote(config, capacity.budget.state().spent_usd)
        calls = RayCalls(self._handle)
        return Capacity(
            RemoteBudget(calls, config.budget_usd, "driver"),
            RemoteLimiters(calls, "driver"),
            capacity.cpu,
            capacity.card,
        )

    @contextlib.contextmanager
    def executor(self, job: Job) -> Iterator[RayExecutor]:
        capacity = job.context.capacity
        assert capacity is not None, "the driver always shares its capacity"
        self.share(job.pre.config, capacity)
        executor = RayExecutor(job, self._handle)
        try:
            yield executor
        finally:
            executor.close()
            # This node's slot files (another node's stay: a few empty files in its lease
            # folder, reused if the run is resumed).
            remove_slots(leases.registry(base_tempdir()), job.run_id)

    def close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(RayError):
                ray.kill(self._handle)
            self._handle = None


class RayKind:
    name = "ray"

    def check(self, config: RunConfig, address: str | None) -> None:
        if config.keep_workspaces:
            raise BackendUnavailable(
                "keep_workspaces: a Ray worker's workspace is on its own machine, which the "
                "driver cannot reach; keep workspaces with --backend local"
            )

    def record(self, address: str | None) -> dict[str, Any]:
        return {"name": self.name, "address": public_address(address), "ray": ray.__version__}

    @contextlib.contextmanager
    def open(self, address: str | None, run_id: str) -> Iterator[Backend]:
        with _joined(address, run_id):
            backend = RayBackend()
            try:
                yield backend
            finally:
                backend.close()


def public_address(address: str | None) -> str | None:
    """The address without any user or password in it (`ray://user:pw@host` → `ray://host`)."""
    if address is None or "@" not in address:
        return address
    parts = urlsplit(address)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=host).geturl()


def reachable(address: str) -> None:
    """ConnectionError now if a `HOST:PORT` address has nothing listening: Ray itself retries
    an unreachable cluster for minutes before it says so."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise ConnectionError(f"nothing answers at {address} ({exc})") from exc


@contextlib.contextmanager
def _joined(address: str | None, run_id: str) -> Iterator[None]:
    """Ray, joined or started for one execution (see the module)."""
    if ray.is_initialized():
        yield
        return
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is not None:
        reachable(address)
        ray.init(address=address, **quiet)
        try:
            yield
        finally:
            ray.shutdown()
        return
    tempdir = base_tempdir()
    lease = leases.take(
        tempdir,
        run_id=f"{run_id}-ray",
        run_dir=tempdir,
        variable=OWNER_VARIABLE,
        groups=None,
        group_prefix="",
    )
    marker = lease.marker.partition("=")[2]
    os.environ[OWNER_VARIABLE] = marker  # inherited by every Ray process started now
    try:
        ray.init(include_dashboard=False, **quiet)
    finally:
        os.environ.pop(OWNER_VARIABLE, None)
    try:
        yield
    finally:
        ray.shutdown()
        leases.kill_marked(lease.marker.encode())  # what shutdown leaves (its agents)
        leases.release(lease)


KIND = RayKind()
