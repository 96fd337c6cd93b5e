"""A run: check everything that can be checked up front, then execute the trials and record
each one as it completes. A run can be resumed: recorded trials are never run twice."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import socket
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from itertools import chain
from pathlib import Path
from typing import Any

from armbench.arms.external import AgentInstallError, adapter_for, ensure
from armbench.checks import verify_toolchain
from armbench.config import ConfigError, ExternalArm, RunConfig
from armbench.core import (
    FATAL,
    VERSION,
    CommandLimits,
    Redactor,
    TrialRecord,
    fingerprint_tree,
    looks_secret,
    process_environ,
    withdraw_secrets,
)
from armbench.env import (
    EnvironmentFactory,
    SandboxChoice,
    SandboxMounts,
    choose_backend,
)
from armbench.judge.single_shot.execution import python_folder
from armbench.models import BudgetState
from armbench.models.factory import ModelFactory, identity_of
from armbench.pricing.effective import card_record, effective_card, priced_models
from armbench.pricing.ratecard import RateCard
from armbench.prompts import PromptSet, override
from armbench.runner.backends.base import Backend, Job, open_backend
from armbench.runner.capacity import Capacity, capacity_for
from armbench.runner.cleanup import WORK, Execution, execution
from armbench.runner.events import OnActivity, OnTrial, ignore
from armbench.runner.leases import probe_prefix
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.trial import TrialContext, TrialResult
from armbench.store import RunDatabase
from armbench.store.attempts import iter_attempts
from armbench.store.rundir import Manifest, RunDirectory, utc_now
from armbench.tasks import PackSetup, PackSpec, Task
from armbench.tasks.packs import Pack, combine, load_pack


@dataclass(frozen=True)
class Preflight:
    """Everything a run needs, checked before any directory is created."""

    config: RunConfig
    pack: Pack
    """All the config's packs as one (see tasks.packs.combine)."""
    packs: list[Pack]
    plans: list[TrialPlan]
    rate_card: RateCard
    """The effective prices: the config's card over genai-prices (see pricing.effective)."""
    provenance: dict[str, str]
    """Where each model's prices came from."""
    checkers: dict[str, str]
    python: str
    models: ModelFactory
    environments: EnvironmentFactory
    """The backend every command of the run goes through."""
    sandbox_warning: str | None
    prompts: dict[str, PromptSet]
    """Each arm's prompts, by arm name."""


def preflight(
    config: RunConfig, *, python: str = sys.executable, sandbox: SandboxChoice | None = None
) -> Preflight:
    """Load the pack, plan the trials, check prices, the sandbox and the judge's toolchain.

    `sandbox` overrides the config's choice (a resumed run keeps the backend it started with).
    SandboxUnavailable, before anything runs, when the backend asked for cannot run here."""
    packs = [load_pack(name) for name in config.packs]
    pack = combine(packs)
    if config.tasks is not None:
        for task_id in config.tasks:
            pack.task(task_id)  # raises naming the known tasks
    plans = plan_trials(config, pack)
    idle = sorted(set(config.arms) - {p.arm_name for p in plans})
    if idle:
        raise ConfigError(
            f"arms {', '.join(idle)}: no task of their kind in the packs and tasks chosen "
            "(single-shot arms need single-shot tasks such as pack `oneshot`; the others "
            "agentic ones such as pack `demo`)"
        )
    override = RateCard.load(config.rate_card) if config.rate_card is not None else None
    used = {key for arm in config.arms.values() for key in arm.model_keys().values()}
    models = config.model_dump(mode="json")["models"]
    configured = priced_models({k: v for k, v in models.items() if k in used})
    card, provenance = effective_card(configured, override, at=datetime.now(UTC))
    # Each pack's source fetched and toolchain built (once, cached) and checked now: a hash or
    # a version that differs is an error before any directory exists.
    setups = pack_setups(packs, plans)
    install_agents(config)
    pythons = sorted({setup.python(python) for setup in setups} | {python})
    environments, warning = sandbox_for(
        sandbox or config.sandbox, config.command_limits, python, also=pythons
    )
    checkers: dict[str, str] = {}
    if any(plan_uses_default(plan) for plan in plans):
        # Named after this process: a killed preflight's probe is removed by the next run.
        with tempfile.TemporaryDirectory(prefix=probe_prefix()) as probe:
            checkers = verify_toolchain(python, Path(probe), environments=environments)
    # Raises MissingKeyError before anything runs; models no arm uses need no key.
    models = ModelFactory({k: m for k, m in config.models.items() if k in used})
    return Preflight(
        config,
        pack,
        packs,
        plans,
        card,
        provenance,
        checkers,
        python,
        models,
        environments,
        warning,
        arm_prompts(config),
    )


def install_agents(config: RunConfig) -> None:
    """Each external arm's agent installed (once, cached, pinned) before any trial runs;
    AgentInstallError naming the agent otherwise."""
    for name, arm in config.arms.items():
        if isinstance(arm, ExternalArm):
            try:
                adapter = adapter_for(arm)
            except NotImplementedError as exc:
                raise AgentInstallError(f"arm {name}: {exc}") from None
            ensure(adapter, arm.version or adapter.version)


def pack_setups(packs: list[Pack], plans: list[TrialPlan]) -> list[PackSetup]:
    """The setups of the packs whose agentic tasks the run plans, each fixture fetched and
    toolchain built and checked (SourceError, ToolchainError otherwise)."""
    planned = {plan.task.id for plan in plans}
    setups = []
    for pack in packs:
        for task in pack.agentic_tasks:
            if task.id in planned and task.setup not in setups:
                setups.append(task.setup)
    for setup in setups:
        if setup.has_source:
            setup.fixture()
        setup.toolchain()
    return setups


def plan_uses_default(plan: TrialPlan) -> bool:
    """Whether the trial's judge uses armbench's own pinned checkers (no pack toolchain)."""
    return not isinstance(plan.task, Task) or plan.task.setup.spec.toolchain is None


def sandbox_for(
    choice: SandboxChoice, limits: CommandLimits, python: str, also: Sequence[str] = ()
) -> tuple[EnvironmentFactory, str | None]:
    """The Environment factory of a run: the backend `choice` asks for (bubblewrap wherever it
    works, for `auto`), able to read the toolchain of `python` and of the packs' own
    interpreters (`also`); and the warning every run on plain processes shows.
    SandboxUnavailable when `bwrap` was asked for and cannot run here."""
    backend, warning = choose_backend(choice)
    mounts = SandboxMounts.for_python(python, also=also)
    return EnvironmentFactory(backend, limits=limits, mounts=mounts), warning


def arm_prompts(config: RunConfig) -> dict[str, PromptSet]:
    """Each arm's prompts: the built-in ones, with its config's overrides in their place."""
    return {
        name: PromptSet(
            override(prompt_id, replacement.template(), source=f"arms.{name}.prompts.{prompt_id}")
            for prompt_id, replacement in arm.prompts.items()
        )
        for name, arm in config.arms.items()
    }


def prompts_record(config: RunConfig, prompts: dict[str, PromptSet]) -> list[dict[str, Any]]:
    """Every prompt the run renders: its id, the sha256 of its template, where it came from
    (`armbench` or the config field of an override), and the arms that render it."""
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for name, arm in config.arms.items():
        for prompt_id in type(arm).PROMPTS:
            prompt = prompts[name][prompt_id]
            key = (prompt_id, prompt.sha256)
            entry = entries.setdefault(
                key, {"id": prompt_id, "sha256": prompt.sha256, "source": prompt.source, "arms": []}
            )
            entry["arms"].append(name)
    return [entries[key] for key in sorted(entries)]


def sdk_versions() -> dict[str, str]:
    """Versions of the libraries that talk to providers and price their tokens."""
    return {name: version(name) for name in ("anthropic", "openai", "genai-prices")}


def pack_digest(pack: Pack) -> dict[str, Any]:
    """sha256 of each task's folder and fixture, and of the whole pack."""
    tasks = {}
    for task in pack.tasks:
        fixture = task.fixture_dir
        tree = {
            "task": fingerprint_tree(task.folder),
            "fixture": fingerprint_tree(fixture) if fixture is not None else {},
        }
        tasks[task.id] = hashlib.sha256(json.dumps(tree, sort_keys=True).encode()).hexdigest()
    whole = hashlib.sha256(json.dumps(tasks, sort_keys=True).encode()).hexdigest()
    return {"name": pack.name, "folder": str(pack.folder), "sha256": whole, "tasks": tasks}


def create_run(
    pre: Preflight,
    *,
    out_parent: Path,
    config_source: str,
    overrides: Sequence[str] = (),
    backend: dict[str, Any] | None = None,
) -> RunDirectory:
    """A new run directory with its manifest: the config came from the file `config_source`
    with `overrides` (`--set`) applied, which `resume` checks it still gives; its trials run
    on `backend` (`BackendKind.record`; None: the local pool)."""
    run_dir = RunDirectory.create(out_parent, pre.config.name)
    config = pre.config
    manifest = Manifest(
        run_id=run_dir.run_id,
        name=config.name,
        armbench_version=VERSION,
        started_at=utc_now(),
        config=config.model_dump(mode="json"),
        config_hash=config.canonical_hash(),
        config_source=config_source,
        overrides=list(overrides),
        checkers=pre.checkers,
        python=sys.version.split()[0],
        host={
            "hostname": socket.gethostname(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        packs={pack.name: pack_digest(pack) for pack in pre.packs},
        toolchains={
            pack.name: pack.setup.record()
            for pack in pre.packs
            if pack.setup is not None and pack.setup.spec != PackSpec()
        },
        rate_card=card_record(pre.rate_card, pre.provenance),
        sdks=sdk_versions(),
        simulated=any(identity_of(k, m).simulated for k, m in config.models.items()),
        trials_planned=len(pre.plans),
        prompts=prompts_record(config, pre.prompts),
        sandbox=pre.environments.record(),
        backend=backend or {"name": "local"},
    )
    run_dir.write_manifest(manifest)
    run_dir.create_database()  # the schema now, so an empty run is still a valid run
    return run_dir


@dataclass(frozen=True)
class RunOutcome:
    """What one `execute` did: its records, and why it stopped early if it did."""

    records: list[TrialRecord]
    stopped_early: str | None
    """The fatal provider error (auth, quota) that ended the run, if one did."""
    budget: BudgetState | None = None
    """The run's budget at the end (`exhausted`: trials were left unstarted for a resume)."""
    cleaned: tuple[str, ...] = ()
    """What killed runs had left and this one removed before it started (one line each)."""

    def infra_errors(self) -> Counter[str]:
        return Counter(
            r.infra_class or "unknown" for r in self.records if r.status == "infra_error"
        )


def run_capacity(pre: Preflight, db: RunDatabase) -> Capacity:
    """The shared limits of a run, its budget charged with what its ledger already holds
    (earlier attempts of retried trials were paid for too: their spend counts)."""
    spent = chain(db.iter_trials(), (record for _, record in iter_attempts(db)))
    return capacity_for(pre.config, pre.rate_card, spent)


def execute(
    pre: Preflight,
    run_dir: RunDirectory,
    *,
    on_trial: OnTrial | None = None,
    on_activity: OnActivity = ignore,
    capacity: Capacity | None = None,
    backend: Backend | None = None,
) -> RunOutcome:
    """Run every planned trial not yet recorded; record each as soon as it finishes.

    A trial that fails with an auth or quota error stops the run: trials not yet started are
    not started (every one would fail the same way); those under way finish and are recorded.
    Once the budget is exhausted no trial starts either (see armbench.runner.trial). `capacity`
    (`run_capacity` shared by `backend`; by default made here) is what a progress display can
    watch, with `on_activity` (templates being prepared, trials started) and `on_trial`.
    `backend` (an open one, armbench.runner.backends) runs the trials, the local pool when
    None; whichever runs them, this process alone writes the run directory.

    Safe to kill at any moment (armbench.runner.cleanup): one process executes a run at a time
    (RunBusy otherwise), what killed executions left is removed first, and what this one
    starts is found again if it is killed. `finished_at` is written once, when the last
    planned trial is first recorded.
    """
    # A single-shot scorer's interpreter shim lives as long as the process: made now, in the
    # temporary directory, not in this execution's folder (which is removed when it ends).
    python_folder(pre.python)
    with contextlib.ExitStack() as stack:
        if backend is None:
            backend = stack.enter_context(open_backend("local", None, run_dir.run_id))
        ex = stack.enter_context(execution(run_dir, pre.environments))
        return _execute(pre, run_dir, ex, backend, on_trial, on_activity, capacity)


def _execute(
    pre: Preflight,
    run_dir: RunDirectory,
    ex: Execution,
    backend: Backend,
    on_trial: OnTrial | None,
    on_activity: OnActivity,
    capacity: Capacity | None,
) -> RunOutcome:
    db = run_dir.database()
    try:
        # Keys were read: no command started from here on can find them in this process's
        # environment (nor in /proc/<pid>/environ); every secret-looking value is redacted.
        # (A Ray this process starts was started before: its workers read their own keys.)
        withdraw_secrets(also=pre.models.key_variables)
        started_with = process_environ()
        secrets = [*pre.models.secrets, *(v for k, v in started_with.items() if looks_secret(k))]
        done = db.trial_ids()
        todo = [p for p in pre.plans if p.trial_id not in done]
        shared = capacity or backend.share(pre.config, run_capacity(pre, db))
        ctx = TrialContext(
            config=pre.config,
            work_root=ex.work_root,
            prepared=PreparedCache(
                run_dir.path / "prepared",
                python=pre.python,
                environments=ex.environments,
                cpu=shared.cpu,
                on_activity=on_activity,
            ),
            python=pre.python,
            models=pre.models,
            redact=Redactor(secrets),
            environments=ex.environments,
            prompts=pre.prompts,
            capacity=shared,
            keep=run_dir.path / WORK if pre.config.keep_workspaces else None,
        )
        records: list[TrialRecord] = []
        stopped: str | None = None
        with backend.executor(Job(pre, ctx, on_activity, run_dir.run_id)) as trials:
            for plan in todo:
                trials.submit(plan)
            for finished in trials.finished():
                if finished.result is None:
                    continue
                record = write_trial(run_dir, db, finished.result)
                records.append(record)
                if on_trial is not None:
                    on_trial(record)
                if record.infra_class in FATAL and stopped is None:
                    stopped = f"{record.infra_class} error in {record.trial_id}: {record.error}"
                    trials.stop()
                elif shared.budget.exhausted:
                    trials.stop()
        manifest = run_dir.read_manifest()
        if manifest.finished_at is None and len(db.trial_ids()) >= manifest.trials_planned:
            run_dir.write_manifest(manifest.model_copy(update={"finished_at": utc_now()}))
        budget = shared.budget.state() if shared.budget.limit_usd is not None else None
        return RunOutcome(records, stopped, budget, ex.cleaned)
    finally:
        db.close()
        pre.models.close()


def write_trial(run_dir: RunDirectory, db: RunDatabase, result: TrialResult) -> TrialRecord:
    """Record a trial as the driver does: its transcript (if it has one) first, then its
    record in one transaction (a killed run leaves a transcript no row names, which the next
    execution removes, never a row without its transcript)."""
    record = result.record
    if result.transcript is not None:
        where = run_dir.write_transcript(record.trial_id, result.transcript)
        record = dataclasses.replace(record, transcript=where)
    db.record(record)
    return record
