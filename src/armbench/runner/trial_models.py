"""The models of one trial, built on demand for the role each plays (`arms.ModelSeats`).

API and script models come from the run's `ModelFactory`. Simulated models are built here:
the sim must be told the task's reference solution (its brief), which only the runner knows.
Seeds are derived so that a trial replays exactly: the single-shot model takes the trial's own
seed (one model, one call); every other model derives its seed from the trial's, its role, its
key and how many models the trial built before it; a routed pair shares the trial's seed.
"""

from __future__ import annotations

import itertools

from armbench.config import RunConfig, SimModelConfig
from armbench.core import Role, derive_seed
from armbench.models import Model, ModelFactory
from armbench.prompts import PromptSet
from armbench.sim import SimModel, SimPolicy, TaskBrief


class TrialModels:
    def __init__(
        self,
        config: RunConfig,
        factory: ModelFactory,
        *,
        brief: TaskBrief,
        seed: int,
        prompts: PromptSet,
    ) -> None:
        self._config = config
        self._factory = factory
        self._brief = brief
        self._seed = seed
        self._prompts = prompts
        self._builds = itertools.count()

    def _build(self, key: str, role: Role, seed: int, policy: SimPolicy | None = None) -> Model:
        settings = self._config.models[key]
        if isinstance(settings, SimModelConfig):
            name = settings.model or key
            return SimModel(
                name, settings, self._brief, seed, role=role, policy=policy, prompts=self._prompts
            )
        return self._factory.build(key)

    def model(self, key: str, role: Role) -> Model:
        if role == "single_shot":
            return self._build(key, role, self._seed)
        return self._build(key, role, derive_seed(self._seed, role, key, next(self._builds)))

    def pair(self, local: str, cloud: str) -> tuple[Model, Model]:
        """Two sims share one policy: they play one coder, each call at the skill of the model
        that answers it (the cloud model's settings decide the rest)."""
        local_settings, cloud_settings = self._config.models[local], self._config.models[cloud]
        policy = None
        if isinstance(local_settings, SimModelConfig) and isinstance(
            cloud_settings, SimModelConfig
        ):
            policy = SimPolicy(cloud_settings, self._brief, self._seed)
        return (
            self._build(local, "solo", self._seed, policy),
            self._build(cloud, "solo", self._seed, policy),
        )
