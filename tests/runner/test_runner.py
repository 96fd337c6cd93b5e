"""Planning trials, resolving limits, preparing templates, and turning failures into records."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.config import RunConfig, parse_config
from armbench.core import Limits, Redactor
from armbench.env import LOCAL
from armbench.models.factory import ModelFactory
from armbench.runner import prepared_cache as prepared_cache_module
from armbench.runner.plan import plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.run import arm_prompts
from armbench.runner.trial import TrialContext, effective_limits, run_trial
from armbench.tasks.inject import InjectionError
from armbench.tasks.packs import BUILTIN_PACKS, load_pack
from armbench.tasks.prepare import Prepared, prepare
from armbench.tasks.spec import Task


def config(**changes: object) -> RunConfig:
    raw: dict[str, object] = {
        "name": "t",
        "pack": "demo",
        "replicates": 2,
        "models": {"a": {"provider": "sim"}, "b": {"provider": "sim", "skill": 0.5}},
        "arms": {
            "A": {"kind": "solo", "model": "a"},
            "B": {"kind": "solo", "model": "b", "limits": {"max_iterations": 7}},
        },
    }
    raw.update(changes)
    return parse_config(raw, source="test", base_dir=Path.cwd())


def test_every_arm_task_replicate_once_with_shared_injection_seeds() -> None:
    cfg = config(tasks=["breakage", "feature"])
    plans = plan_trials(cfg, load_pack("demo"))
    assert [p.trial_id for p in plans] == [
        f"{arm}.{task}.r{r}"
        for r in (1, 2)
        for task in ("breakage", "feature")
        for arm in ("A", "B")
    ]
    by_id = {p.trial_id: p for p in plans}
    # Arms of one replicate see the same breakage; replicates see different breakage.
    assert by_id["A.breakage.r1"].inject_seed == by_id["B.breakage.r1"].inject_seed
    assert by_id["A.breakage.r1"].inject_seed != by_id["A.breakage.r2"].inject_seed
    # Models get their own seeds per arm and replicate.
    assert len({p.seed for p in plans}) == len(plans)
    # Golden seeds (sha256 of "0\x1fA\x1fbreakage\x1f1" etc., checked with sha256sum):
    # planning again in this process could not show seeds differing between processes.
    first = by_id["A.breakage.r1"]
    assert (first.seed, first.inject_seed) == (391555285, 1691208986)
    assert by_id["B.breakage.r1"].seed == 1420338852


def test_limits_resolve_arm_then_config_then_task_then_defaults() -> None:
    cfg = config(limits={"wall_s": 60})
    plans = {p.trial_id: p for p in plan_trials(cfg, load_pack("demo"))}
    a = effective_limits(plans["A.feature.r1"], cfg)
    b = effective_limits(plans["B.feature.r1"], cfg)
    assert a == Limits(max_iterations=40, wall_s=60, bash_timeout_s=120)  # 40 and 120: the task's
    assert b.max_iterations == 7 and b.wall_s == 60


@pytest.fixture
def impossible_pack(tmp_path: Path) -> Path:
    """The demo's breakage task asking for more collection errors than it has test modules."""
    pack = tmp_path / "pack"
    shutil.copytree(BUILTIN_PACKS / "demo" / "fixture", pack / "fixture")
    task = yaml.safe_load((BUILTIN_PACKS / "demo" / "tasks" / "breakage" / "task.yaml").read_text())
    task["prepare"]["inject"]["collect"] = 40
    (pack / "tasks" / "breakage").mkdir(parents=True)
    (pack / "tasks" / "breakage" / "task.yaml").write_text(yaml.safe_dump(task))
    return pack


def test_a_failed_preparation_is_remembered_and_cleaned_up(
    impossible_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[Path] = []

    def counting_prepare(task: Task, folder: Path, **kwargs: Any) -> Prepared:
        prepared.append(folder)
        return prepare(task, folder, **kwargs)

    monkeypatch.setattr(prepared_cache_module, "prepare", counting_prepare)
    task = load_pack(str(impossible_pack)).task("breakage")
    cache = PreparedCache(tmp_path / "prepared", python=sys.executable)
    with pytest.raises(InjectionError, match="collect: asked for 40") as first:
        cache.get(task, inject_seed=1)
    assert not any((tmp_path / "prepared").iterdir())
    assert prepared == [tmp_path / "prepared" / "breakage-seed1"]
    with pytest.raises(InjectionError) as again:
        cache.get(task, inject_seed=1)
    assert again.value is first.value  # the remembered failure, raised again
    assert len(prepared) == 1  # not prepared again
    assert not any((tmp_path / "prepared").iterdir())


def test_a_harness_failure_becomes_an_infra_error_record(
    impossible_pack: Path, tmp_path: Path
) -> None:
    cfg = config(pack=str(impossible_pack), replicates=1)
    plan = plan_trials(cfg, load_pack(cfg.pack))[0]
    ctx = TrialContext(
        config=cfg,
        prepared=PreparedCache(tmp_path / "prepared", python=sys.executable),
        python=sys.executable,
        models=ModelFactory(cfg.models),
        redact=Redactor(),
        environments=LOCAL,
        prompts=arm_prompts(cfg),
        work_root=tmp_path / "work",
    )
    result = run_trial(plan, ctx)
    assert result is not None and result.transcript is None
    record = result.record
    assert record.status == "infra_error"
    assert record.infra_class == "harness" and record.stop_reason == "harness_error"
    assert record.error is not None and "InjectionError" in record.error
    assert record.calls == () and record.gates == ()
    assert not (tmp_path / "work" / plan.trial_id).exists()
