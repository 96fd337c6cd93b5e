"""The models of one trial, built on demand for the role each plays (`arms.ModelSeats`).

API and script models come from the run's `ModelFactory`. Simulated models are built here:
the sim must be told the task's reference solution (its brief), which only the runner knows.
Seeds are derived so that a trial replays exactly: the single-shot model takes the trial's own
seed (one model, one call); every other model derives its seed from the trial's, its role, its
key and how many models the trial built before it; a routed pair shares the trial's seed.
Each model is seated with the trial's guard, which must know its config to reach its
endpoint's limiter and to bound what its calls can cost (armbench.models.guard).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from armbench.config import ExternalArm, RunConfig, SimModelConfig
from armbench.core import ModelRequest, ModelResponse, Role, Route, derive_seed
from armbench.models import CallGuard, Model, ModelFactory
from armbench.prompts import PromptSet
from armbench.runner.metering import Seat, gateway_seat
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
        guard: CallGuard | None = None,
        trial_id: str = "",
        scratch: Path | None = None,
        confined: bool = False,
    ) -> None:
        self._config = config
        self._guard = guard
        self._factory = factory
        self._brief = brief
        self._seed = seed
        self._prompts = prompts
        self._builds = itertools.count()
        self._trial_id = trial_id
        self._scratch = scratch
        self._confined = confined

    def _build(self, key: str, role: Role, seed: int, policy: SimPolicy | None = None) -> Model:
        settings = self._config.models[key]
        model: Model
        if isinstance(settings, SimModelConfig):
            name = settings.model or key
            model = SimModel(
                name, settings, self._brief, seed, role=role, policy=policy, prompts=self._prompts
            )
        else:
            model = self._factory.build(key)
        if self._guard is not None:
            self._guard.seat(model, key, settings)
        return model

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

    def gateway(
        self,
        arm: ExternalArm,
        role: Role,
        classify: Callable[[ModelRequest], ModelResponse] | None = None,
        classifier_system: str = "",
    ) -> AbstractContextManager[Seat]:
        """A gateway for an external agent's calls (see armbench.runner.metering)."""
        assert self._scratch is not None, "an external agent needs the trial's scratch folder"
        seed = derive_seed(self._seed, role, str(arm.model_keys()), next(self._builds))
        keys: dict[Route | None, str] = (
            {"local": arm.routing.local, "cloud": arm.routing.cloud}
            if arm.routing is not None
            else {None: arm.model or ""}
        )
        # The guard knows a model by the one it seats: one per route, seated here.
        models = {route: self._build(key, role, seed) for route, key in keys.items()}
        return gateway_seat(
            trial_id=self._trial_id,
            arm=arm,
            configs=self._config.models,
            role=role,
            brief=self._brief,
            seed=seed,
            scratch=self._scratch,
            confined=self._confined,
            checks=self._brief.check_commands,
            models=models,
            guard=self._guard,
            classify=classify,
            classifier_system=classifier_system,
        )
