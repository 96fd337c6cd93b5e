"""The Python API: drive armbench from a notebook or a script, as the CLI does from a shell.

    import armbench

    result = armbench.run("experiment.yaml", out="runs")     # or a RunConfig
    print(result.path, result.statuses())
    report = armbench.build_report(result.path)               # the `report --json` model
    for trial in armbench.open_run(result.path).iter_trials():
        print(trial.trial_id, trial.status, trial.calls[0].usage)

Problems raise the exceptions the CLI turns into exit statuses: `ConfigError` for a bad config
(exit 2), `UnknownPriceError` for a missing price, `MissingKeyError` for a missing API key,
`ToolchainError` for checkers of the wrong version. Nothing is printed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from armbench.analysis.noninferiority import DEFAULT_MARGIN
from armbench.analysis.records import RunRecords, load_run_records
from armbench.analysis.report import build_report as _build_report
from armbench.analysis.report_model import Report
from armbench.config import RunConfig, load_config
from armbench.core import TrialRecord
from armbench.runner import (
    RunOutcome,
    check_packs,
    create_run,
    execute,
    execution_settings,
    preflight,
    record_settings,
    reopen,
    retry,
)
from armbench.store import RunDirectory

__all__ = ["RunResult", "build_report", "load_config", "open_run", "resume", "run"]


@dataclass(frozen=True)
class RunResult:
    """What one `run` or `resume` did."""

    directory: RunDirectory
    outcome: RunOutcome

    @property
    def path(self) -> Path:
        """The run directory: manifest, database, transcripts."""
        return self.directory.path

    @property
    def records(self) -> list[TrialRecord]:
        """The trials this call ran (a resume's only the ones it finished)."""
        return self.outcome.records

    @property
    def stopped_early(self) -> str | None:
        """The fatal provider error (auth, quota) that ended the run, if one did."""
        return self.outcome.stopped_early

    def statuses(self) -> Counter[str]:
        """How many of this call's trials ended as pass, fail, limit and infra_error."""
        return Counter(r.status for r in self.outcome.records)


def run(
    config: RunConfig | str | Path,
    *,
    out: str | Path = "runs",
    overrides: Sequence[str] = (),
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> RunResult:
    """Run a config to the end: every arm on every task of its kind, each replicate.

    `config` is a path to a YAML config (with `overrides` like the CLI's `--set key=value`) or
    a `RunConfig`. Everything is checked before the run directory is made inside `out`.
    `on_trial` is called with each trial's record as it is written.
    """
    if isinstance(config, RunConfig):
        if overrides:
            raise ValueError("overrides apply to a config file; change the RunConfig instead")
        loaded, source = config, "python"
    else:
        path = Path(config)
        loaded, source = load_config(path, list(overrides)), str(path.resolve())
    pre = preflight(loaded)
    directory = create_run(
        pre, out_parent=Path(out), config_source=source, overrides=list(overrides)
    )
    return RunResult(directory, execute(pre, directory, on_trial=on_trial))


def resume(
    run_dir: str | Path,
    *,
    on_trial: Callable[[TrialRecord], None] | None = None,
    retry_infra: Collection[str] | None = (),
    max_attempts: int = 3,
    budget_usd: float | None = None,
    concurrency: int | None = None,
) -> RunResult:
    """Finish an interrupted run: the trials it recorded are kept, the others are run.

    Refused (`ConfigError`) when its config file, a prompt or a pack's tasks changed since it
    started. `retry_infra` names infra classes whose trials run again (None: every class), up
    to `max_attempts` attempts per trial; earlier attempts are kept in the run's history.
    `budget_usd` and `concurrency` change how the rest runs (recorded in the manifest), never
    what a trial measures: a larger budget finishes a run the budget stopped."""
    directory = RunDirectory.open(Path(run_dir))
    manifest = directory.read_manifest()
    config, change = execution_settings(
        reopen(directory).config, manifest, budget_usd=budget_usd, concurrency=concurrency
    )
    pre = preflight(config)
    check_packs(pre, manifest, directory)
    if retry_infra is None or retry_infra:
        retry(directory, retry_infra, max_attempts)
    record_settings(directory, change)
    return RunResult(directory, execute(pre, directory, on_trial=on_trial))


def open_run(path: str | Path | RunResult, *, rate_card: str | Path | None = None) -> RunRecords:
    """A recorded run for reading: its manifest, its rate card (or `rate_card`, a TOML file
    whose prices replace the run's for the models it names), and its trials with every ledger
    row (`trials`, or `iter_trials()` one at a time)."""
    card = Path(rate_card) if rate_card is not None else None
    return load_run_records(_run_path(path), rate_card=card)


def build_report(
    run: str | Path | RunResult | RunRecords,
    *,
    rate_card: str | Path | None = None,
    seed: int = 0,
    margin: float = DEFAULT_MARGIN,
) -> Report:
    """The statistics of `armbench report`: cells, comparisons, Pareto frontiers, decisions at
    the non-inferiority `margin` — the model `report --json` writes
    (armbench.analysis.report_model)."""
    card = Path(rate_card) if rate_card is not None else None
    return _build_report(_run_path(run), rate_card=card, seed=seed, margin=margin)


def _run_path(run: str | Path | RunResult | RunRecords) -> Path:
    if isinstance(run, RunResult):
        return run.path
    if isinstance(run, RunRecords):
        return run.directory.path
    return Path(run)
