"""The execution backends' protocol with the local backend, and the Ray backend's parts that
need no Ray: the shared accounts, the node's CPU slots, a worker's checks of its node."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from armbench.cli import app
from armbench.cli.backends import recorded_backend
from armbench.config import RunConfig, parse_config
from armbench.core import Redactor, TrialRecord
from armbench.env import LOCAL
from armbench.models.factory import ModelFactory
from armbench.pricing import RateCard
from armbench.runner import capacity_for, preflight
from armbench.runner.backends import BackendUnavailable, Finished, Job, backend_kind
from armbench.runner.backends import local as local_backend
from armbench.runner.backends.accounts import Accounts, RemoteBudget, RemoteLimiters
from armbench.runner.backends.node import NodeSlots, Settings
from armbench.runner.backends.worker import NodeFailure, PlanRef, run_on_node
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.run import arm_prompts
from armbench.runner.trial import TrialContext, TrialResult
from armbench.store import Manifest
from armbench.tasks.packs import BUILTIN_PACKS, load_pack

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
CARD = RateCard.load(EXAMPLES / "demo-prices.toml")


def config(**changes: Any) -> RunConfig:
    raw: dict[str, Any] = {
        "name": "backends",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 3,
        "concurrency": 1,
        "rate_card": str(EXAMPLES / "demo-prices.toml"),
        "models": {"strong": {"provider": "sim"}},
        "arms": {"A": {"kind": "solo", "model": "strong"}},
        **changes,
    }
    return parse_config(raw, source="test", base_dir=Path.cwd())


# --- the registry ----------------------------------------------------------------------------


def test_an_unknown_backend_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(BackendUnavailable, match="choose local, ray"):
        backend_kind("slurm")


def test_ray_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    monkeypatch.delitem(sys.modules, "armbench.runner.backends.ray", raising=False)
    with pytest.raises(BackendUnavailable, match=r"pip install 'armbench\[ray\]'"):
        backend_kind("ray")
    assert backend_kind("local").name == "local"  # armbench itself works without Ray


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--backend", "slurm"], "no such backend"),
        (["--address", "auto"], "goes with --backend ray"),
        (["--backend", "ray", "--set", "keep_workspaces=true"], "keep_workspaces"),
    ],
)
def test_backend_options_the_run_cannot_honour_exit_2_with_nothing_written(
    argv: list[str], says: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text((EXAMPLES / "demo.yaml").read_text())
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), *argv])
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split())
    assert not out.exists()


def test_an_address_where_nothing_answers_exits_2_at_once_with_nothing_written(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "runs"
    argv = ["run", str(EXAMPLES / "demo.yaml"), "--out", str(out), "--backend", "ray"]
    result = CliRunner().invoke(app, [*argv, "--address", f"127.0.0.1:{port}"])
    assert result.exit_code == 2, result.output
    assert f"nothing answers at 127.0.0.1:{port}" in " ".join(result.output.split())
    assert not out.exists()


def test_a_resume_runs_on_the_backend_the_run_last_used() -> None:
    manifest = Manifest.model_validate(
        {
            **MANIFEST,
            "backend": {"name": "ray", "address": None},
            "resumed_with": [
                {"at": "t1", "budget_usd": 5.0},
                {"at": "t2", "backend": {"name": "ray", "address": "auto"}},
                {"at": "t3", "concurrency": 4},
            ],
        }
    )
    assert recorded_backend(manifest) == {"name": "ray", "address": "auto"}
    before = Manifest.model_validate(MANIFEST)  # made before backends were recorded
    assert recorded_backend(before) == {"name": "local"}


MANIFEST: dict[str, Any] = {
    "run_id": "r",
    "name": "r",
    "armbench_version": "0",
    "started_at": "t0",
    "config": {},
    "config_hash": "h",
    "config_source": "python",
    "checkers": {},
    "python": "3.11",
    "host": {},
    "packs": {},
    "rate_card": {},
    "simulated": True,
    "trials_planned": 1,
}


# --- the local executor ----------------------------------------------------------------------


def job(cfg: RunConfig, tmp_path: Path) -> Job:
    pre = preflight(cfg, sandbox="local")
    ctx = TrialContext(
        config=cfg,
        work_root=tmp_path / "work",
        prepared=PreparedCache(tmp_path / "prepared", python=sys.executable),
        python=sys.executable,
        models=ModelFactory({}),
        redact=Redactor(),
        environments=LOCAL,
        prompts=arm_prompts(cfg),
        capacity=capacity_for(cfg, CARD),
    )
    return Job(pre, ctx, lambda _activity: None, "run-x")


def fake_result(plan: TrialPlan, infra_class: str | None) -> TrialResult:
    record = TrialRecord(
        trial_id=plan.trial_id,
        arm=plan.arm_name,
        arm_kind="solo",
        task=plan.task.id,
        replicate=plan.replicate,
        seed=plan.seed,
        status="infra_error" if infra_class else "pass",
        stop_reason="model_error" if infra_class else "finished",
        wall_s=0.0,
        iterations=0,
        simulated=True,
        started_at=0.0,
        ended_at=0.0,
        infra_class=infra_class,  # type: ignore[arg-type]
    )
    return TrialResult(record, "{}")


def test_local_pool_yields_each_plan_once_and_a_fatal_error_starts_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config()
    ran: list[str] = []

    def fake_run_trial(plan: TrialPlan, ctx: TrialContext) -> TrialResult:
        ran.append(plan.trial_id)
        return fake_result(plan, "auth" if len(ran) == 1 else None)

    monkeypatch.setattr(local_backend, "run_trial", fake_run_trial)
    plans = plan_trials(cfg, load_pack("demo"))
    backend = local_backend.LocalBackend()
    with backend.executor(job(cfg, tmp_path)) as pool:
        for plan in plans:
            pool.submit(plan)
        finished: list[Finished] = list(pool.finished())
    assert sorted(f.plan.trial_id for f in finished) == sorted(p.trial_id for p in plans)
    assert ran == [plans[0].trial_id]  # one thread: the fatal error stopped the queue behind it
    assert [f.result is not None for f in finished].count(True) == 1


def test_stop_starts_no_queued_trial_and_the_exhausted_budget_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(budget_usd=1.0)
    ran: list[str] = []
    monkeypatch.setattr(
        local_backend, "run_trial", lambda plan, ctx: ran.append(plan.trial_id) or None
    )
    the_job = job(cfg, tmp_path)
    capacity = the_job.context.capacity
    assert capacity is not None
    with local_backend.LocalBackend().executor(the_job) as pool:
        pool.stop()
        pool.submit(plan_trials(cfg, load_pack("demo"))[0])
        assert [f.result for f in pool.finished()] == [None]
    assert capacity.budget.reserve(2.0) is None  # exhausts it
    with local_backend.LocalBackend().executor(the_job) as pool:
        pool.submit(plan_trials(cfg, load_pack("demo"))[0])
        assert [f.result for f in pool.finished()] == [None]
    assert ran == []


# --- the shared accounts ---------------------------------------------------------------------


class Direct:
    """`Calls` on an Accounts in this process (Ray's actor does the same across machines)."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.accounts, method)(*args)

    def tell(self, method: str, *args: Any) -> None:
        getattr(self.accounts, method)(*args)


def test_workers_share_one_budget_and_a_dead_workers_holds_count_as_spent() -> None:
    accounts = Accounts(config(budget_usd=1.0, rate_limits={"sim": {"max_connections": 1}}), 0.25)
    one = RemoteBudget(Direct(accounts), 1.0, "A.feature.r1")
    two = RemoteBudget(Direct(accounts), 1.0, "A.feature.r2")
    held = one.reserve(0.5)
    assert held is not None
    assert two.reserve(0.5) is None  # 0.25 spent + 0.5 held + 0.5 > 1.0: refused, exhausted
    assert two.exhausted and one.exhausted
    limiter = RemoteLimiters(Direct(accounts), "A.feature.r1").of("strong")
    limiter.acquire()
    assert accounts.limiter_state()[0].in_flight == 1
    accounts.abandon("A.feature.r1")  # its worker died holding both
    state = accounts.budget_state()
    assert state.spent_usd == pytest.approx(0.75) and state.reserved_usd == 0
    assert accounts.limiter_state()[0].in_flight == 0
    with pytest.raises(KeyError):
        one.settle(held, 0.1)  # already settled by the abandon: never counted twice


def test_a_settled_reservation_counts_its_real_cost() -> None:
    accounts = Accounts(config(budget_usd=1.0), 0.0)
    budget = RemoteBudget(Direct(accounts), 1.0, "t")
    reservation = budget.reserve(0.4)
    assert reservation is not None
    budget.settle(reservation, 0.1)
    assert accounts.budget_state().spent_usd == pytest.approx(0.1)
    with pytest.raises(ValueError, match="already settled"):
        budget.release(reservation)


# --- the node's CPU slots --------------------------------------------------------------------


def test_node_slots_hold_n_and_a_dead_holders_slot_is_free(tmp_path: Path) -> None:
    slots = NodeSlots(tmp_path, "run-x", 1, poll_s=0.01)
    entered = threading.Event()

    def second() -> None:
        with slots:
            entered.set()

    with slots:
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.3)
        assert not entered.is_set()  # the one slot is held
    thread.join()
    assert entered.is_set()
    # A process that holds the slot file and dies: the kernel lets go of its lock.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(tmp_path / "run-x.cpu0"),
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    fd = os.open(tmp_path / "run-x.cpu0", os.O_RDWR)
    with pytest.raises(BlockingIOError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    holder.kill()
    holder.wait()
    with slots:
        pass  # free again


# --- a worker's checks of its node -----------------------------------------------------------


def settings_for(cfg: RunConfig, **changes: Any) -> Settings:
    settings = Settings.of(preflight(cfg, sandbox="local"), "run-x")
    return dataclasses.replace(settings, **changes)


def test_a_user_pack_missing_on_the_node_is_a_harness_error_naming_its_path(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "mypack"
    (pack / "tasks").mkdir(parents=True)
    for name in ("fixture", "tasks/feature"):
        subprocess.run(["cp", "-r", str(BUILTIN_PACKS / "demo" / name), str(pack / name)])
    cfg = config(pack=str(pack))
    settings = settings_for(cfg)
    plan = plan_trials(cfg, load_pack(str(pack)))[0]
    subprocess.run(["mv", str(pack), str(tmp_path / "elsewhere")], check=True)
    accounts = Accounts(cfg, 0.0)
    out = run_on_node(settings, PlanRef.of(plan), Direct(accounts))
    assert isinstance(out, NodeFailure) and out.infra_class == "harness"
    assert str(pack) in out.error and "same path on every node" in out.error


def test_a_node_with_another_armbench_or_another_pack_refuses_to_run(tmp_path: Path) -> None:
    cfg = config()
    plan = plan_trials(cfg, load_pack("demo"))[0]
    other = settings_for(cfg, run_id="run-v", version="0.0.1")
    out = run_on_node(other, PlanRef.of(plan), Direct(Accounts(cfg, 0.0)))
    assert isinstance(out, NodeFailure) and "the driver 0.0.1" in out.error
    changed = settings_for(cfg, run_id="run-p", packs={"demo": "0" * 64 + " /elsewhere"})
    out = run_on_node(changed, PlanRef.of(plan), Direct(Accounts(cfg, 0.0)))
    assert isinstance(out, NodeFailure) and "is not the driver's" in out.error


def test_the_manifest_records_a_cluster_address_without_its_credentials() -> None:
    from armbench.runner.backends.ray import KIND, public_address

    assert public_address("ray://alice:pw@head:10001") == "ray://head:10001"
    assert public_address("head:6379") == "head:6379" and public_address(None) is None
    assert KIND.record("ray://alice:pw@head:10001")["address"] == "ray://head:10001"
