"""What every armbench process on a Ray node shares and checks: the run's `Settings`, the node's
checks (`Node`), a lease for what the process makes there (`NodeLease`), the node's CPU slots
(`NodeSlots`) and its templates (`Templates`, the body of one actor per node). Nothing here
imports Ray (armbench.runner.backends.ray does).

The checks a node passes before it runs a trial, once per process: the same armbench version
as the driver's; every pack readable at the path the driver read it from (a user's pack must
be at the same path on every node) with the same sha256; each pack's source fetched and
toolchain built through the same cached, hash-checked code (armbench.tasks.sources,
tasks.toolchains); the judge's checkers at the pinned versions; the sandbox the driver chose
able to run here (SandboxUnavailable otherwise). The worker turns a failed check into the
trial's `infra_error`, naming the node and what differs.

Templates are prepared once per node and execution, by the node's `Templates` actor: every
worker process of the run on the node asks it, and it prepares each (task, injection seed)
once in its own leased scratch folder, so eight workers on a machine do not prepare the same
template eight times. What it hands back is the `Prepared` record (fingerprints, reference
tests, the injection) with its task left out: a task holds its pack's on-disk state, which
each process has its own of; the worker puts its own back. The record comes from the actor,
never from a file an agent could have written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from armbench.checks import verify_toolchain
from armbench.config import RunConfig
from armbench.core import VERSION, withdraw_secrets
from armbench.env import EnvironmentFactory, SandboxChoice
from armbench.env.limits import GROUP_PREFIX, pids_root
from armbench.env.process import OWNER_VARIABLE
from armbench.pricing.ratecard import RateCard
from armbench.prompts import PromptSet
from armbench.runner import leases
from armbench.runner.backends.accounts import Calls, relay
from armbench.runner.capacity import cpu_slots
from armbench.runner.cleanup import base_tempdir, temporary_folders_in
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.run import (
    Preflight,
    pack_digest,
    pack_setups,
    plan_uses_default,
    sandbox_for,
)
from armbench.tasks import Prepared, Task, TaskFileError
from armbench.tasks.packs import Pack, combine, load_pack


@dataclass(frozen=True)
class Settings:
    """What every process of a run on a node is told (put in Ray's object store once per
    execution): never a key, never a path of the run directory."""

    run_id: str
    execution: str
    """This execution of the run (a resume is another): what a process's state is kept for,
    since the accounts it calls are this execution's."""
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


class WorkerError(RuntimeError):
    """This node cannot run the run's trials as the driver planned them."""


class Node:
    """This node, checked against the driver's settings (see the module)."""

    def __init__(self, settings: Settings) -> None:
        self.host = host = socket.gethostname()
        if settings.version != VERSION:
            raise WorkerError(
                f"node {host} has armbench {VERSION}, the driver {settings.version}: install "
                "the same version on every node"
            )
        config = settings.config
        packs = [_pack(settings, name, host) for name in config.packs]
        plans = plan_trials(config, combine(packs))
        self.plans: dict[str, TrialPlan] = {p.trial_id: p for p in plans}
        self.tasks = {p.task.id: p.task for p in plans if isinstance(p.task, Task)}
        self.python = python = sys.executable
        pythons = sorted({s.python(python) for s in pack_setups(packs, plans)} | {python})
        self.environments: EnvironmentFactory
        self.environments, _ = sandbox_for(
            settings.sandbox, config.command_limits, python, also=pythons
        )
        if any(plan_uses_default(p) for p in plans):
            with tempfile.TemporaryDirectory(prefix=leases.probe_prefix()) as probe:
                found = verify_toolchain(python, Path(probe), environments=self.environments)
            if found != settings.checkers:
                raise WorkerError(
                    f"node {host}: checkers {found}, the driver's {settings.checkers}"
                )


def _pack(settings: Settings, name: str, host: str) -> Pack:
    try:
        pack = load_pack(name)
    except TaskFileError as exc:
        raise WorkerError(
            f"pack {name}: not readable on node {host} ({exc}); a pack given by path must be "
            "at the same path on every node"
        ) from exc
    digest = pack_digest(pack)
    here, driver = f"{digest['sha256']} {digest['folder']}", settings.packs.get(pack.name)
    if here != driver:
        raise WorkerError(
            f"pack {pack.name} on node {host} is not the driver's (sha256 and folder here "
            f"{here}, the driver's {driver}): every node needs the same pack at the same path"
        )
    return pack


class NodeLease:
    """A lease (armbench.runner.leases) for what one process makes on this node: its scratch
    folder, the temporary folders made meanwhile, the marker of its commands. When the
    process ends, however it ends, the lease's watchdog kills what it left running and
    removes the folder; what dead processes left here before is cleaned first."""

    def __init__(self, run_id: str) -> None:
        tempdir = base_tempdir()
        leases.clean_dead(tempdir)
        self.lease = leases.take(
            tempdir,
            run_id=run_id,
            run_dir=Path(f"ray-node-of-{run_id}"),
            variable=OWNER_VARIABLE,
            groups=pids_root(),
            group_prefix=GROUP_PREFIX,
            watchdog=False,
        )
        detached_watchdog(self.lease.path, tempdir)
        self.scratch = self.lease.scratch
        self.folder = leases.registry(tempdir)
        self._temp = contextlib.ExitStack()
        self._temp.enter_context(temporary_folders_in(self.lease.temp))

    def own(self, environments: EnvironmentFactory) -> EnvironmentFactory:
        """`environments`, every command marked with this lease."""
        return dataclasses.replace(environments, owner=self.lease.id)

    def close(self) -> None:
        self._temp.close()
        leases.release(self.lease)


def detached_watchdog(lease: Path, tempdir: Path) -> None:
    """The lease's watchdog, started as a grandchild: Ray kills a worker's own children when
    it ends the worker, which would take the watchdog with it just when it has work to do. A
    shell starts it in the background and exits, so it is handed to init and outlives the
    worker. Its environment holds only TMPDIR, never a key."""
    script = 'exec "$@" </dev/null >/dev/null 2>&1 &'
    subprocess.run(
        ["/bin/sh", "-c", script, "sh", *leases.watchdog_argv(lease)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        env={"TMPDIR": str(tempdir)},
        start_new_session=True,
        check=True,
    )


class NodeSlots:
    """The node's CPU slots for checker runs (judging, preparing), shared by every process
    of the run on this machine: `n` lock files, each `flock`ed by the one holding it. The
    kernel lets go of a slot whose holder dies, so a lost worker never leaks one; a
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


def node_slots(folder: Path, config: RunConfig, run_id: str) -> NodeSlots:
    """The run's CPU slots on this node: `judge_concurrency`, else the node's CPU count."""
    return NodeSlots(folder, run_id, cpu_slots(config))


def remove_slots(folder: Path, run_id: str) -> None:
    """Remove a run's CPU slot files on this node (its execution is over)."""
    for path in folder.glob(f"{run_id}.cpu*"):
        path.unlink(missing_ok=True)


class Templates:
    """The node's prepared templates for one execution (the body of its Ray actor; calls
    come on threads, and the cache prepares each template once, the others waiting)."""

    def __init__(self, settings: Settings, calls: Calls) -> None:
        withdraw_secrets()  # it builds no model: no key stays in reach of what it runs
        self._settings, self._calls = settings, calls
        self._lock = threading.Lock()
        self._ready: tuple[Node, NodeLease, PreparedCache] | None = None

    def _cache(self) -> tuple[Node, PreparedCache]:
        with self._lock:
            if self._ready is None:
                node = Node(self._settings)
                lease = NodeLease(self._settings.run_id)
                cache = PreparedCache(
                    lease.scratch / "prepared",
                    python=node.python,
                    environments=lease.own(node.environments),
                    cpu=node_slots(lease.folder, self._settings.config, self._settings.run_id),
                    on_activity=relay(self._calls, "templates"),
                )
                self._ready = (node, lease, cache)
            node, _, cache = self._ready
            return node, cache

    def get(self, task_id: str, inject_seed: int) -> Prepared:
        """The template of `task_id` for this injection seed, its task left out."""
        node, cache = self._cache()
        prepared = cache.get(node.tasks[task_id], inject_seed)
        return dataclasses.replace(prepared, task=cast(Task, None))

    def close(self) -> None:
        with self._lock:
            if self._ready is not None:
                self._ready[1].close()
                self._ready = None
