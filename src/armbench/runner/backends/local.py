"""`local`: the run's trials on a thread pool in this process, `concurrency` at a time.

Trials mostly wait for models, so threads are enough: the CPU-bound parts (judging, preparing
templates) take the run's CPU slots (armbench.runner.capacity). Every plan is queued on the
pool at once; a queued trial checks, in its thread, whether the run was stopped (a fatal
provider error, `stop`) or its budget exhausted before it starts, so a trial queued behind the
stop is never started — and a fatal error stops the queue from the thread that met it, before
the driver has even read it, so no trial slips in between.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from armbench.config import RunConfig
from armbench.core import FATAL
from armbench.runner.backends.base import Backend, BackendUnavailable, Finished, Job
from armbench.runner.capacity import Capacity
from armbench.runner.events import Activity
from armbench.runner.plan import TrialPlan
from armbench.runner.trial import TrialResult, run_trial


class Pool:
    """The executor: one pool of `concurrency` threads for one execution."""

    def __init__(self, job: Job, pool: ThreadPoolExecutor) -> None:
        self._job = job
        self._pool = pool
        self._futures: dict[Future[TrialResult | None], TrialPlan] = {}
        self._stopped = threading.Event()

    def submit(self, plan: TrialPlan) -> None:
        self._futures[self._pool.submit(self._guarded, plan)] = plan

    def _guarded(self, plan: TrialPlan) -> TrialResult | None:
        """Run a trial unless the run was stopped or its budget is gone."""
        ctx = self._job.context
        budget = ctx.capacity.budget if ctx.capacity is not None else None
        if self._stopped.is_set() or (budget is not None and budget.exhausted):
            return None
        self._job.on_activity(Activity("trial_started", plan.trial_id))
        try:
            result = run_trial(plan, ctx)
        finally:
            self._job.on_activity(Activity("trial_ended", plan.trial_id))
        if result is not None and result.record.infra_class in FATAL:
            self._stopped.set()
        return result

    def finished(self) -> Iterator[Finished]:
        for future in as_completed(list(self._futures)):
            plan = self._futures[future]
            yield Finished(plan, None if future.cancelled() else future.result())

    def stop(self) -> None:
        self._stopped.set()
        for future in self._futures:
            future.cancel()


class LocalBackend:
    name = "local"

    def share(self, config: RunConfig, capacity: Capacity) -> Capacity:
        return capacity

    @contextlib.contextmanager
    def executor(self, job: Job) -> Iterator[Pool]:
        with ThreadPoolExecutor(max_workers=job.pre.config.concurrency) as threads:
            pool = Pool(job, threads)
            try:
                yield pool
            finally:
                pool.stop()  # queued trials never start; those under way are waited for


class LocalKind:
    name = "local"

    def check(self, config: RunConfig, address: str | None) -> None:
        if address is not None:
            raise BackendUnavailable(
                "--address names a Ray cluster: it goes with --backend ray, not local"
            )

    def record(self, address: str | None) -> dict[str, Any]:
        return {"name": self.name}

    @contextlib.contextmanager
    def open(self, address: str | None, run_id: str) -> Iterator[Backend]:
        yield LocalBackend()


KIND = LocalKind()
