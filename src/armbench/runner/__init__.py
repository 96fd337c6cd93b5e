"""Executing runs: check everything up front (preflight), plan the trials, run each in its own
workspace through the same path for every arm kind, record each as it ends, resume."""

from armbench.runner.capacity import Capacity, capacity_for
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.run import (
    Preflight,
    RunOutcome,
    create_run,
    execute,
    preflight,
    reopen_config,
)
from armbench.runner.trial import TrialContext, run_trial

__all__ = [
    "Capacity",
    "Preflight",
    "RunOutcome",
    "TrialContext",
    "TrialPlan",
    "capacity_for",
    "create_run",
    "execute",
    "plan_trials",
    "preflight",
    "reopen_config",
    "run_trial",
]
