"""A trial on another machine: what a Ray worker is told, what it checks, how it runs the trial
and what it hands back. Nothing here imports Ray (armbench.runner.backends.ray does).

A worker is told the run's `Settings` (config, effective rate card, prompts, the sandbox the
driver chose, each pack's digest, the checkers' versions): never a key, and never a path of the
run directory, which does not exist on its machine. It is handed a `PlanRef`, not a TrialPlan:
a plan holds its task's pack with its on-disk state (a fetched fixture, a lock), which is each
machine's own, so the worker loads the packs from their paths, plans the run again and takes
the trial named, checking that it planned the same seeds.

Before its first trial of a run a worker process checks, once: the same armbench version as
the driver's; every pack readable at the path the driver read it from (a user's pack must be
at the same path on every node) with the same sha256; each pack's source fetched and toolchain
built through the same cached, hash-checked code (armbench.tasks.sources, tasks.toolchains);
the judge's checkers at the pinned versions; the sandbox the driver chose able to run here; the
models' keys in its own environment. A failed check is the trial's `infra_error` (class
`sandbox` for the sandbox, `harness` otherwise) naming the node and what differs; never a
`fail`. It then takes the keys out of its own environment (armbench.core.secrets), as the
driver does, so no command it starts can read them, and redacts everything it hands back.

Each worker process holds a lease (armbench.runner.leases) for its part of the run: its
scratch folder holds its workspaces and its prepared templates (a node-local folder; each
process prepares the templates its trials need once), every command carries its marker, and
when the process dies — however: Ray ends a job's workers with it — the lease's watchdog kills
what it left running and removes the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from armbench.checks import ToolchainError, verify_toolchain
from armbench.config import RunConfig
from armbench.core import (
    VERSION,
    InfraClass,
    Redactor,
    looks_secret,
    process_environ,
    withdraw_secrets,
)
from armbench.env import SandboxChoice, SandboxUnavailable
from armbench.env.limits import GROUP_PREFIX, pids_root
from armbench.env.process import OWNER_VARIABLE
from armbench.models.factory import ModelFactory
from armbench.pricing.ratecard import RateCard
from armbench.prompts import PromptSet
from armbench.runner import leases
from armbench.runner.backends.accounts import Calls, RemoteBudget, RemoteLimiters, relay
from armbench.runner.capacity import Capacity, cpu_slots
from armbench.runner.cleanup import base_tempdir, temporary_folders_in
from armbench.runner.events import Activity
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.run import (
    Preflight,
    pack_digest,
    pack_setups,
    plan_uses_default,
    sandbox_for,
)
from armbench.runner.trial import TrialContext, TrialResult, run_trial
from armbench.tasks import SourceError, TaskFileError
from armbench.tasks.packs import Pack, combine, load_pack


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
class Settings:
    """What every worker of a run is told (put in Ray's object store once per execution)."""

    run_id: str
    execution: str
    """This execution of the run (a resume is another): what a worker process's state is
    kept for, since the accounts it calls are this execution's."""
    version: str
    config: RunConfig
    card: RateCard
    prompts: dict[str, PromptSet]
    sandbox: SandboxChoice
    """The backend the driver chose and recorded (`bwrap` or `local`): the same everywhere."""
    packs: dict[str, str]
    """Each pack's folder and sha256 as the driver read it: `{name: "sha256 folder"}`."""
    checkers: dict[str, str]

    @classmethod
    def of(cls, pre: Preflight, run_id: str) -> Settings:
        digests = {p.name: pack_digest(p) for p in pre.packs}
        return cls(
            run_id=run_id,
            execution=secrets.token_hex(8),
            version=VERSION,
            config=pre.config,
            card=pre.rate_card,
            prompts=dict(pre.prompts),
            sandbox="bwrap" if pre.environments.backend == "bwrap" else "local",
            packs={name: f"{d['sha256']} {d['folder']}" for name, d in digests.items()},
            checkers=pre.checkers,
        )


@dataclass(frozen=True)
class NodeFailure:
    """A trial this node could not start; the driver records it as an infra error."""

    infra_class: InfraClass
    error: str
    """Already redacted."""


class WorkerError(RuntimeError):
    """This node cannot run the run's trials as the driver planned them."""


class NodeSlots:
    """The node's CPU slots for checker runs (judging, preparing), shared by every worker
    process of the run on this machine: `n` lock files, each `flock`ed by the one holding it.
    The kernel lets go of a slot whose holder dies, so a lost worker never leaks one; a
    thread-local stack lets each thread hold its own."""

    def __init__(self, folder: Path, run_id: str, n: int, poll_s: float = 0.05) -> None:
        self._paths = [folder / f"{run_id}.cpu{i}" for i in range(n)]
        self._poll_s = poll_s
        self._held = threading.local()

    def __enter__(self) -> NodeSlots:
        while True:
            for path in self._paths:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self._held.__dict__.setdefault("fds", []).append(fd)
                return self
            time.sleep(self._poll_s)

    def __exit__(self, *_: object) -> None:
        os.close(self._held.fds.pop())


class Worker:
    """One worker process's part of one run: checked, leased, its models built."""

    def __init__(self, settings: Settings, calls: Calls) -> None:
        self.settings, self.calls = settings, calls
        config = settings.config
        host = socket.gethostname()
        if settings.version != VERSION:
            raise WorkerError(
                f"node {host} has armbench {VERSION}, the driver {settings.version}: install "
                "the same version on every node"
            )
        used = {k for arm in config.arms.values() for k in arm.model_keys().values()}
        self.models = ModelFactory({k: m for k, m in config.models.items() if k in used})
        # The keys are read: out of this process's environment (and /proc/<pid>/environ)
        # before it runs any command; every secret-looking value it started with is redacted.
        withdraw_secrets(also=self.models.key_variables)
        started_with = process_environ()
        self.redact = Redactor(
            [*self.models.secrets, *(v for k, v in started_with.items() if looks_secret(k))]
        )
        packs = [self._pack(name, host) for name in config.packs]
        plans = plan_trials(config, combine(packs))
        self.plans = {p.trial_id: p for p in plans}
        python = sys.executable
        pythons = sorted({s.python(python) for s in pack_setups(packs, plans)} | {python})
        environments, _ = sandbox_for(settings.sandbox, config.command_limits, python, also=pythons)
        if any(plan_uses_default(p) for p in plans):
            with tempfile.TemporaryDirectory(prefix=leases.probe_prefix()) as probe:
                found = verify_toolchain(python, Path(probe), environments=environments)
            if found != settings.checkers:
                raise WorkerError(
                    f"node {host}: checkers {found}, the driver's {settings.checkers}"
                )
        tempdir = base_tempdir()
        leases.clean_dead(tempdir)
        self.lease = leases.take(
            tempdir,
            run_id=settings.run_id,
            run_dir=Path(f"ray-worker-of-{settings.run_id}"),
            variable=OWNER_VARIABLE,
            groups=pids_root(),
            group_prefix=GROUP_PREFIX,
            watchdog=False,
        )
        detached_watchdog(self.lease.path, tempdir)
        self._temp = contextlib.ExitStack()
        self._temp.enter_context(temporary_folders_in(self.lease.temp))
        self.environments = replace(environments, owner=self.lease.id)
        self.python = python
        self.cpu = NodeSlots(leases.registry(tempdir), settings.run_id, cpu_slots(config))
        self.current = ""
        self.prepared = PreparedCache(
            self.lease.scratch / "prepared",
            python=python,
            environments=self.environments,
            cpu=self.cpu,
            on_activity=self._tell,
        )

    def _pack(self, name: str, host: str) -> Pack:
        try:
            pack = load_pack(name)
        except TaskFileError as exc:
            raise WorkerError(
                f"pack {name}: not readable on node {host} ({exc}); a pack given by path must "
                "be at the same path on every node"
            ) from exc
        digest = pack_digest(pack)
        here, driver = f"{digest['sha256']} {digest['folder']}", self.settings.packs.get(pack.name)
        if here != driver:
            raise WorkerError(
                f"pack {pack.name} on node {host} is not the driver's (sha256 and folder here "
                f"{here}, the driver's {driver}): every node needs the same pack at the same path"
            )
        return pack

    def _tell(self, activity: Activity) -> None:
        relay(self.calls, self.current)(activity)

    def run(self, ref: PlanRef) -> TrialResult | NodeFailure | None:
        plan = self.plans.get(ref.trial_id)
        if plan is None or (plan.seed, plan.inject_seed) != (ref.seed, ref.inject_seed):
            return NodeFailure(
                "harness",
                f"node {socket.gethostname()} plans trial {ref.trial_id} otherwise than the "
                "driver (its config or packs differ)",
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
            python=self.python,
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
        self._temp.close()
        self.models.close()
        leases.release(self.lease)


def detached_watchdog(lease: Path, tempdir: Path) -> None:
    """The lease's watchdog (armbench.runner.leases), started as a grandchild: Ray kills a
    worker's own children when it ends the worker, which would take the watchdog with it just
    when it has work to do. A shell starts it in the background and exits, so it is handed to
    init and outlives the worker. Its environment holds only TMPDIR, never a key."""
    script = 'exec "$0" -I -S "$1" --watch "$2" </dev/null >/dev/null 2>&1 &'
    subprocess.run(
        ["/bin/sh", "-c", script, sys.executable, str(Path(leases.__file__).resolve()), str(lease)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        env={"TMPDIR": str(tempdir)},
        start_new_session=True,
        check=True,
    )


def remove_slots(folder: Path, run_id: str) -> None:
    """Remove a run's CPU slot files on this node (its execution is over)."""
    for path in folder.glob(f"{run_id}.cpu*"):
        path.unlink(missing_ok=True)


_WORKER: dict[str, Worker | NodeFailure] = {}
"""This process's part of the execution it works for (one at a time: a Ray worker process runs
one task at a time, and serves one driver). Process state on purpose: it is what lets a worker
process check the node, build models and prepare templates once for all its trials."""


def run_on_node(settings: Settings, ref: PlanRef, calls: Calls) -> TrialResult | NodeFailure | None:
    """Run trial `ref` of the run in this process (the body of the Ray task): its result, a
    NodeFailure if this node cannot run the run's trials, None if the budget is gone."""
    worker = _WORKER.get(settings.execution)
    if worker is None:
        for previous in _WORKER.values():
            if isinstance(previous, Worker):
                previous.close()
        _WORKER.clear()
        try:
            worker = Worker(settings, calls)
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
