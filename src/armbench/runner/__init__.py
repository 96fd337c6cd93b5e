"""Executing runs: check everything up front (preflight), plan the trials, run each in its own
workspace through the same path for every arm kind, record each as it ends, resume."""

from armbench.runner.capacity import Capacity, capacity_for
from armbench.runner.cleanup import clean_leftovers
from armbench.runner.events import Activity, OnActivity, OnTrial
from armbench.runner.plan import TrialPlan, plan_trials
from armbench.runner.resume import (
    Reopened,
    Retried,
    check_packs,
    execution_settings,
    record_settings,
    reopen,
    reopen_config,
    retry,
)
from armbench.runner.run import (
    Preflight,
    RunOutcome,
    create_run,
    execute,
    preflight,
    run_capacity,
)
from armbench.runner.trial import TrialContext, run_trial

__all__ = [
    "Activity",
    "Capacity",
    "OnActivity",
    "OnTrial",
    "Preflight",
    "Reopened",
    "Retried",
    "RunOutcome",
    "TrialContext",
    "TrialPlan",
    "capacity_for",
    "check_packs",
    "clean_leftovers",
    "create_run",
    "execute",
    "execution_settings",
    "plan_trials",
    "preflight",
    "record_settings",
    "reopen",
    "reopen_config",
    "retry",
    "run_capacity",
    "run_trial",
]
