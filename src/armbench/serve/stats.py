"""The counters behind `GET /_armbench/stats`: what a test or a user checks a run against."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from armbench.core import TOKEN_KINDS, Usage
from armbench.serve.brain import BrainCall
from armbench.serve.faults import FaultRule


class ServerStats:
    """Requests, answers and faults, and the usage reported per model; thread-safe.

    A streamed answer counts as a plain one does: it is the same answer, sent differently.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.models: dict[str, Counter[str]] = {}

    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def fault(self, rule: FaultRule) -> None:
        with self._lock:
            self.faults[rule.kind] += 1

    def answered(self, call: BrainCall, reported: Usage | None) -> None:
        """Count an answer and the usage it reported (None: a fault withheld it)."""
        with self._lock:
            self.counts["answered"] += 1
            model = self.models.setdefault(call.model, Counter())
            model["answered"] += 1
            if reported is not None:
                model.update(reported.as_dict())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                **{k: self.counts[k] for k in ("requests", "answered", "invalid", "errors")},
                "faults_applied": dict(self.faults),
                "models": {
                    name: {k: c[k] for k in ("answered", *TOKEN_KINDS)}
                    for name, c in sorted(self.models.items())
                },
            }
