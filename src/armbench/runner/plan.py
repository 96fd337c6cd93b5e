"""Expanding a config into trials, each with its own reproducible seeds."""

from __future__ import annotations

from dataclasses import dataclass

from armbench.arms import arm_kind
from armbench.config import ArmConfig, RunConfig
from armbench.core import derive_seed
from armbench.tasks import AnyTask, task_kind
from armbench.tasks.packs import Pack


@dataclass(frozen=True)
class TrialPlan:
    trial_id: str
    arm_name: str
    arm: ArmConfig
    task: AnyTask
    replicate: int
    seed: int
    """Seeds the models of this trial."""
    inject_seed: int
    """Seeds the task's breakage; shared by every arm of the same replicate, so arms are
    compared on identical workspaces (and can be paired in the analysis)."""


def runs_on(arm: ArmConfig, task: AnyTask) -> bool:
    """Whether the arm's kind runs on tasks of this kind (single-shot arms on single-shot
    tasks, the others on agentic ones)."""
    return arm_kind(arm.kind).tasks == task_kind(task)


def plan_trials(config: RunConfig, pack: Pack) -> list[TrialPlan]:
    """Every (arm, task of its kind, replicate) of the run, in a deterministic order."""
    task_ids = config.tasks if config.tasks is not None else tuple(t.id for t in pack.tasks)
    plans = []
    for replicate in range(1, config.replicates + 1):
        for task_id in task_ids:
            task = pack.task(task_id)
            for arm_name, arm in config.arms.items():
                if not runs_on(arm, task):
                    continue
                plans.append(
                    TrialPlan(
                        trial_id=f"{arm_name}.{task_id}.r{replicate}",
                        arm_name=arm_name,
                        arm=arm,
                        task=task,
                        replicate=replicate,
                        seed=derive_seed(config.seed, arm_name, task_id, replicate),
                        inject_seed=derive_seed(config.seed, "inject", task_id, replicate),
                    )
                )
    return plans
