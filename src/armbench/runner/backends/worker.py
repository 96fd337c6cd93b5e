"""A trial on another machine: how a Ray worker process runs it and what it hands back.
Nothing here imports Ray (armbench.runner.backends.ray does).

A worker is told the run's `Settings` (armbench.runner.backends.node) and handed a `PlanRef`,
not a TrialPlan: a plan holds its task's pack with its on-disk state (a fetched fixture, a
lock), which is each machine's own, so the worker loads the packs from their paths, plans the
run again and takes the trial named, checking that it planned the same seeds.

Before its first trial of an execution a worker process checks its node (`node.Node`), reads
the keys of the run's models from its own environment and builds them, then takes the keys
out of its environment (and out of `/proc/<pid>/environ`), as the driver does, so no command
it starts can read them; everything it hands back passes its redactor. A failed check is the
trial's `infra_error` (class `sandbox` for the sandbox, `harness` otherwise) naming the node
and what differs, never a `fail`.

Each worker process holds a lease for its part of the run on its node (`node.NodeLease`): its
trials' workspaces, its commands' marker. Templates come from the node's `Templates` actor
(prepared once per node), or, on a node that joined after the execution started, are
prepared by the worker itself in its leased folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from armbench.checks import ToolchainError
from armbench.core import InfraClass, Redactor, looks_secret, process_environ, withdraw_secrets
from armbench.env import SandboxUnavailable
from armbench.models.factory import ModelFactory
from armbench.runner.backends.accounts import Calls, RemoteBudget, RemoteLimiters, relay
from armbench.runner.backends.node import Node, NodeLease, Settings, WorkerError, node_slots
from armbench.runner.capacity import Capacity
from armbench.runner.events import Activity
from armbench.runner.plan import TrialPlan
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.trial import TrialContext, TrialResult, run_trial
from armbench.tasks import Prepared, SourceError, Task, TaskFileError


@dataclass(frozen=True)
class PlanRef:
    """A trial by name, with the seeds its plan must have wherever it is planned again."""

    trial_id: str
    seed: int
    inject_seed: int

    @classmethod
    def of(cls, plan: TrialPlan) -> PlanRef:
        return cls(plan.trial_id, plan.seed, plan.inject_seed)


@dataclass(frozen=True)
class NodeFailure:
    """A trial this node could not start; the driver records it as an infra error."""

    infra_class: InfraClass
    error: str
    """Already redacted."""


class Worker:
    """One worker process's part of one execution: its node checked, its models built, its
    lease taken."""

    def __init__(self, settings: Settings, calls: Calls, templates: Fetch | None) -> None:
        self.settings, self.calls = settings, calls
        config = settings.config
        used = {k for arm in config.arms.values() for k in arm.model_keys().values()}
        self.models = ModelFactory({k: m for k, m in config.models.items() if k in used})
        # The keys are read: out of this process's environment (and /proc/<pid>/environ)
        # before it runs any command; every secret-looking value it started with is redacted.
        withdraw_secrets(also=self.models.key_variables)
        started_with = process_environ()
        self.redact = Redactor(
            [*self.models.secrets, *(v for k, v in started_with.items() if looks_secret(k))]
        )
        self.node = Node(settings)
        self.lease = NodeLease(settings.run_id)
        self.environments = self.lease.own(self.node.environments)
        self.cpu = node_slots(self.lease.folder, config, settings.run_id)
        self.current = ""
        self.prepared: PreparedCache = (
            SharedTemplates(templates, python=self.node.python)
            if templates is not None
            else PreparedCache(
                self.lease.scratch / "prepared",
                python=self.node.python,
                environments=self.environments,
                cpu=self.cpu,
                on_activity=self._tell,
            )
        )

    def _tell(self, activity: Activity) -> None:
        relay(self.calls, self.current)(activity)

    def run(self, ref: PlanRef) -> TrialResult | NodeFailure | None:
        plan = self.node.plans.get(ref.trial_id)
        if plan is None or (plan.seed, plan.inject_seed) != (ref.seed, ref.inject_seed):
            return NodeFailure(
                "harness",
                f"node {self.node.host} plans trial {ref.trial_id} otherwise than the driver "
                "(its config or packs differ)",
            )
        config = self.settings.config
        budget = RemoteBudget(self.calls, config.budget_usd, ref.trial_id)
        if budget.exhausted:
            return None
        self.current = ref.trial_id
        ctx = TrialContext(
            config=config,
            work_root=self.lease.scratch / "trials",
            prepared=self.prepared,
            python=self.node.python,
            models=self.models,
            redact=self.redact,
            environments=self.environments,
            prompts=self.settings.prompts,
            capacity=Capacity(
                budget, RemoteLimiters(self.calls, ref.trial_id), self.cpu, self.settings.card
            ),
        )
        return run_trial(plan, ctx)

    def close(self) -> None:
        """Release the lease (its scratch folder removed) and close the model clients."""
        self.models.close()
        self.lease.close()


Fetch = Callable[[str, int], Prepared]
"""The node's template of (task id, injection seed), its task left out (`node.Templates`)."""


class SharedTemplates(PreparedCache):
    """The worker's template cache when the node's `Templates` actor prepares them: the
    record asked for once per process, this process's own task put back in it."""

    def __init__(self, fetch: Fetch, *, python: str) -> None:
        super().__init__(Path("/nonexistent"), python=python)  # nothing is prepared here
        self._fetch = fetch
        self._records: dict[tuple[str, int], Prepared] = {}

    def get(self, task: Task, inject_seed: int) -> Prepared:
        key = (task.id, inject_seed)
        if key not in self._records:
            self._records[key] = self._fetch(task.id, inject_seed)
        return dataclasses.replace(self._records[key], task=task)


_WORKER: dict[str, Worker | NodeFailure] = {}
"""This process's part of the execution it works for (one at a time: a Ray worker process runs
one task at a time, and serves one driver). Process state on purpose: it is what lets a worker
process check the node, build models and prepare templates once for all its trials."""


def run_on_node(
    settings: Settings, ref: PlanRef, calls: Calls, templates: Fetch | None = None
) -> TrialResult | NodeFailure | None:
    """Run trial `ref` of the run in this process (the body of the Ray task): its result, a
    NodeFailure if this node cannot run the run's trials, None if the budget is gone.
    `templates` fetches from the node's `Templates` (None: this process prepares its own)."""
    worker = _WORKER.get(settings.execution)
    if worker is None:
        for previous in _WORKER.values():
            if isinstance(previous, Worker):
                previous.close()
        _WORKER.clear()
        try:
            worker = Worker(settings, calls, templates)
        except (SandboxUnavailable, WorkerError, TaskFileError, SourceError, ToolchainError) as exc:
            infra: InfraClass = "sandbox" if isinstance(exc, SandboxUnavailable) else "harness"
            worker = NodeFailure(infra, _redacted(f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # a bug must not leave a trial unrecorded
            worker = NodeFailure("harness", _redacted(f"{type(exc).__name__}: {exc}"))
        _WORKER[settings.execution] = worker
    if isinstance(worker, NodeFailure):
        return worker
    return worker.run(ref)


def _redacted(text: str) -> str:
    secrets = [v for k, v in process_environ().items() if looks_secret(k)]
    return Redactor(secrets)(text)
