"""Resuming a run: what must not have changed since it started, and what is run again.

A resume runs the config its manifest recorded, on the tasks its packs held then: anything else
would mix two experiments in one run. So before a trial runs, `reopen` and `check_packs` refuse
(ConfigError, exit 2) a resume that would:

- run a config other than the recorded one: the manifest's config must still match its hash,
  and the config file it came from (`config_source`, with the recorded `--set` overrides) must
  still give that config. A changed file is refused naming the dotted fields that differ;
  restore it, or start a new run. A file that is gone or moved is no change: the resume runs
  the recorded config and says so (the manifest is the record, the file only its source);
- render a prompt whose text changed (its sha256 is recorded per prompt);
- judge on a pack that changed: each planned task's files (task folder and fixture) are hashed
  again and compared with the manifest's digest, and a pack's shared settings (`pack.yaml`:
  source, checker arguments, environment, toolchain) with its recorded toolchain entry.

`retry` then moves the chosen infra errors' records to the history (armbench.store.attempts),
so the execution runs them again like any trial not recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.config import ConfigError, RunConfig, load_config, parse_config
from armbench.runner.cleanup import clean_run_directory, move_workspace
from armbench.runner.run import Preflight, arm_prompts, pack_digest, prompts_record
from armbench.store import Manifest, RunDirectory, utc_now
from armbench.store.attempts import earlier_attempts, retire
from armbench.tasks import PackSpec

MIX = "resuming would mix two experiments in one run"


def reopen_config(run_dir: RunDirectory) -> RunConfig:
    """The config a run was started with, checked against the hash in its manifest."""
    manifest = run_dir.read_manifest()
    if manifest.imported is not None:  # its config describes the data; nothing can run it
        raise ConfigError(
            f"{run_dir.path}: imported by `armbench import {manifest.imported.get('importer')}` "
            f"from {manifest.imported.get('source')}, not run by armbench: nothing to resume"
        )
    config = parse_config(
        manifest.config, source=str(run_dir.path / "manifest.json"), base_dir=run_dir.path
    )
    if config.canonical_hash() != manifest.config_hash:
        raise ConfigError(f"{run_dir.path}: the manifest's config no longer matches its hash")
    recorded = {(p["id"], p["sha256"]) for p in manifest.prompts}
    if recorded:  # runs made before prompts were recorded have none to compare
        now = {(p["id"], p["sha256"]) for p in prompts_record(config, arm_prompts(config))}
        changed = sorted({prompt_id for prompt_id, _ in recorded ^ now})
        if changed:
            raise ConfigError(
                f"{run_dir.path}: prompt {', '.join(changed)} changed since the run started "
                "(its sha256 differs from the manifest's); resuming would mix two experiments"
            )
    return config


@dataclass(frozen=True)
class Reopened:
    config: RunConfig
    """The recorded config, which the resume runs."""
    notes: tuple[str, ...]
    """What the user should know (a config file that is gone, not compared)."""


def reopen(run_dir: RunDirectory) -> Reopened:
    """The config to resume a run with; ConfigError if it, its file or a prompt changed."""
    config = reopen_config(run_dir)
    return Reopened(config, tuple(_check_source(run_dir, run_dir.read_manifest(), config)))


def _check_source(run_dir: RunDirectory, manifest: Manifest, config: RunConfig) -> list[str]:
    """Notes, or ConfigError when the config file now gives another config."""
    source = Path(manifest.config_source)
    if manifest.config_source == "python" or not source.is_absolute():
        return []  # made from a RunConfig in Python: the manifest is the only record
    if not source.is_file():
        return [
            f"the run's config file {source} is gone or moved: resuming on the config "
            "recorded in the manifest"
        ]
    overrides = manifest.overrides or []
    try:
        now = load_config(source, list(overrides))
    except ConfigError as exc:
        raise ConfigError(
            f"{run_dir.path}: the run's config file no longer loads ({exc}); restore it as it "
            "was, or start a new run"
        ) from exc
    if now.canonical_hash() == config.canonical_hash():
        return []
    fields = sorted(differences(config.model_dump(mode="json"), now.model_dump(mode="json")))
    shown = ", ".join(fields[:12]) + (f" and {len(fields) - 12} more" if len(fields) > 12 else "")
    with_set = f" with --set {' '.join(overrides)}" if overrides else ""
    if manifest.overrides is None:
        return [
            f"the run's config file {source} now differs from the recorded config in {shown} "
            "(the run predates recorded --set overrides, which may explain it): resuming on "
            "the recorded config"
        ]
    raise ConfigError(
        f"{run_dir.path}: the run's config file {source}{with_set} no longer gives the config "
        f"it started with: {shown} differ; {MIX}. Restore the file, or start a new run "
        "(`armbench run`)"
    )


EXECUTION_SETTINGS = ("budget_usd", "concurrency")
"""Config fields a resume may change: how trials run (spend allowed, trials at once), never
what one measures. Raising the budget is how a run the budget stopped is finished."""


def execution_settings(
    config: RunConfig, manifest: Manifest, **now: float | int | None
) -> tuple[RunConfig, dict[str, Any] | None]:
    """The recorded config with the execution settings earlier resumes chose and those given
    `now` (None: unchanged; values already checked by the caller's options), and the manifest
    entry to record for `now`'s changes (None when there are none)."""
    unknown = set(now) - set(EXECUTION_SETTINGS)
    if unknown:
        raise ValueError(f"not an execution setting: {', '.join(sorted(unknown))}")
    earlier: dict[str, Any] = {}
    for change in manifest.resumed_with:
        earlier.update({k: v for k, v in change.items() if k in EXECUTION_SETTINGS})
    current = config.model_copy(update=earlier)
    given = {k: v for k, v in now.items() if v is not None and v != getattr(current, k)}
    record = {"at": utc_now(), **given} if given else None
    return current.model_copy(update=given), record


def record_settings(run_dir: RunDirectory, change: dict[str, Any] | None) -> None:
    """Append a resume's change of execution settings to the manifest (nothing if None)."""
    if change is not None:
        manifest = run_dir.read_manifest()
        resumed_with = [*manifest.resumed_with, change]
        run_dir.write_manifest(manifest.model_copy(update={"resumed_with": resumed_with}))


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """The dotted paths where two JSON values differ (a list of another length is one)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from differences(before.get(key), after.get(key), f"{path}.{key}".lstrip("."))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from differences(a, b, f"{path}.{index}".lstrip("."))
    elif before != after:
        yield path or "(the whole config)"


def check_packs(pre: Preflight, manifest: Manifest, run_dir: RunDirectory) -> None:
    """ConfigError naming each pack whose planned tasks (or shared settings) changed since
    the run started."""
    planned = {plan.task.id for plan in pre.plans}
    problems = []
    for pack in pre.packs:
        recorded = manifest.packs.get(pack.name)
        if recorded is None:
            problems.append(f"pack {pack.name} was not in the run")
            continue
        tasks = pack_digest(pack)["tasks"]
        changed = sorted(
            t
            for t in planned & (set(tasks) | set(recorded.get("tasks", {})))
            if tasks.get(t) != recorded.get("tasks", {}).get(t)
        )
        if changed:
            problems.append(
                f"pack {pack.name} ({pack.folder}): the files of task {', '.join(changed)} "
                "changed (their sha256 differs from the manifest's)"
            )
        setup = pack.setup
        shared = setup is not None and setup.spec != PackSpec()
        if shared and setup is not None and setup.record() != manifest.toolchains.get(pack.name):
            problems.append(
                f"pack {pack.name} ({pack.folder}): its pack.yaml (source, checker "
                "arguments, environment or toolchain) changed"
            )
    if problems:
        raise ConfigError(
            f"{run_dir.path}: " + "; ".join(problems) + f" since the run started; {MIX}. "
            "Restore the pack, or start a new run (`armbench run`)"
        )


@dataclass(frozen=True)
class Retried:
    trial_id: str
    infra_class: str | None
    attempt: int
    """The number of the attempt moved to the history (the trial's next is this plus one)."""


def retry(
    run_dir: RunDirectory, classes: Collection[str] | None, max_attempts: int
) -> list[Retried]:
    """Move to the history the trials recorded as infra errors of `classes` (None: every
    class) that have had fewer than `max_attempts` attempts, so that they run again."""
    retried = []
    with run_dir.executing(), run_dir.database() as db:
        earlier = earlier_attempts(db)
        rows = db.query(
            "SELECT trial_id, infra_class FROM trials WHERE status = 'infra_error' "
            "ORDER BY trial_id"
        )
        for row in rows:
            trial_id, infra_class = row["trial_id"], row["infra_class"]
            if classes is not None and infra_class not in classes:
                continue
            if earlier.get(trial_id, 0) + 1 >= max_attempts:
                continue
            attempt = retire(run_dir, db, trial_id)
            move_workspace(run_dir, trial_id, attempt)
            retried.append(Retried(trial_id, infra_class, attempt))
    return retried


@dataclass(frozen=True)
class Settled:
    finished_at: str | None
    """When the run finished, if every planned trial is recorded."""
    cleaned: tuple[str, ...]
    """What a killed execution had left in the run directory, now removed."""


def settle(run_dir: RunDirectory) -> Settled:
    """Before a resume: remove what a killed execution left in the run directory (transcripts
    no row names, workspaces of unrecorded trials), and say whether the run is finished. A
    run whose last execution was killed after recording its last trial, before writing its
    end, gets its end written now; a finished run's is never rewritten."""
    with run_dir.executing():
        cleaned = tuple(clean_run_directory(run_dir))
        with run_dir.database() as db:
            recorded = len(db.trial_ids())
        manifest = run_dir.read_manifest()
        if recorded < manifest.trials_planned:
            return Settled(None, cleaned)
        if manifest.finished_at is None:
            manifest = manifest.model_copy(update={"finished_at": utc_now()})
            run_dir.write_manifest(manifest)
        return Settled(manifest.finished_at, cleaned)
