"""Reading a run's records: its manifest, the rate card its costs are computed from, and every
trial with its ledger rows and gates (loaded whole, or streamed one trial at a time).

This is the loader for views that need every call (exports, repricing); reports and `show`
read the lighter bulk facts instead (armbench.analysis.facts), which never load a call.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from armbench.core import TrialRecord
from armbench.pricing.ratecard import RateCard
from armbench.store.attempts import earlier_attempts
from armbench.store.rundir import Manifest, RunDirectory


@dataclass
class RunRecords:
    """A run opened for reading: its manifest, the rate card its costs are computed from, and
    its trials — loaded whole on first use of `trials`, or streamed by `iter_trials`."""

    directory: RunDirectory
    manifest: Manifest
    rate_card: RateCard

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @functools.cached_property
    def trials(self) -> list[TrialRecord]:
        return list(self.iter_trials())

    def iter_trials(self, *, calls: bool = True) -> Iterator[TrialRecord]:
        """The trials one at a time (see RunDatabase.iter_trials)."""
        with self.directory.read_database() as db:
            yield from db.iter_trials(calls=calls)

    @functools.cached_property
    def earlier_attempts(self) -> dict[str, int]:
        """Trial id → its earlier attempts kept in the history (retried infra errors); the
        trials above are each one's latest attempt only."""
        with self.directory.read_database() as db:
            return earlier_attempts(db)


def load_run_records(path: Path, *, rate_card: Path | None = None) -> RunRecords:
    """A run's manifest, costed with `run_rate_card`; its trials are read when asked for."""
    directory = RunDirectory.open(path)
    manifest = directory.read_manifest()
    return RunRecords(directory, manifest, run_rate_card(manifest, path, rate_card))


def run_rate_card(manifest: Manifest, path: Path, rate_card: Path | None = None) -> RateCard:
    """The run's own card (the prices it recorded in its manifest) — or `rate_card` for the
    models that card names and the run's own prices for the rest, as `armbench reprice` does."""
    card = RateCard.from_mapping(
        manifest.rate_card, source=f"{path}/manifest.json (the run's rate card)"
    )
    if rate_card is None:
        return card
    user = RateCard.load(rate_card)
    return RateCard(
        {**card.rates, **user.rates},
        source=f"{rate_card} (the run's own prices for models it does not name)",
    )
