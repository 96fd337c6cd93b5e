"""`armbench run`, `resume` and `demo`: execute a config, show progress, summarise, exit with
the status the outcome deserves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from armbench.cli.app import MaxInfraOption, OutOption, app, err, fail, out

if TYPE_CHECKING:  # the verbs import what they use when they run: `armbench --help` stays fast
    from armbench.analysis.facts import RunFacts
    from armbench.config import RunConfig
    from armbench.env import SandboxChoice
    from armbench.runner import Preflight, RunOutcome
    from armbench.store import RunDirectory

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "demo.yaml"

SandboxOption = Annotated[
    str | None,
    typer.Option(
        "--sandbox",
        help=(
            "Where the agent's and the judge's commands run: `bwrap` (a bubblewrap sandbox: "
            "no network, only the workspace writable; the run fails before any trial where it "
            "cannot work), `local` (plain processes: isolation by convention), or `auto` "
            "(bwrap wherever it works). Default: the config's `sandbox`, else auto."
        ),
        show_default=False,
    ),
]
SANDBOX_CHOICES = ("auto", "bwrap", "local")


def _sandbox_override(sandbox: str | None) -> list[str]:
    """`--sandbox X` as the config override `sandbox=X` (so the manifest's config says it)."""
    if sandbox is None:
        return []
    if sandbox not in SANDBOX_CHOICES:
        fail(f"--sandbox {sandbox}: not a backend (choose {', '.join(SANDBOX_CHOICES)})", code=2)
    return [f"sandbox={sandbox}"]


def open_facts(path: Path, rate_card: Path | None) -> RunFacts:
    from armbench.analysis.facts import load_run_facts
    from armbench.pricing import UnknownPriceError
    from armbench.store import RunDirectoryError

    try:
        return load_run_facts(path, rate_card=rate_card)
    except (RunDirectoryError, UnknownPriceError, ValueError) as exc:
        fail(str(exc))


def _execute(pre: Preflight, run_dir: RunDirectory, todo: int) -> RunOutcome:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from armbench.core import TrialRecord
    from armbench.runner import execute

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        bar = progress.add_task(pre.config.name, total=todo, last="")

        def on_trial(record: TrialRecord) -> None:
            progress.update(bar, advance=1, last=f"{record.trial_id}: {record.status}")

        return execute(pre, run_dir, on_trial=on_trial)


def _finish(
    run_dir: RunDirectory, outcome: RunOutcome, max_infra_errors: int, html: bool = False
) -> None:
    """Summary (and with `html`, `report.html` in the run directory), every infra error of
    this execution with its trial, class and reason, the run directory on the last line, then
    the exit status the outcome deserves: 3 when a fatal provider error stopped the run or
    infra errors exceed the threshold."""
    from armbench.analysis.render_terminal import print_summary
    from armbench.cli.app import EXIT_RUN_PROBLEM, incomplete_line
    from armbench.store import write_atomic

    facts = open_facts(run_dir.path, None)
    print_summary(facts, out)
    if html:
        from armbench.analysis.facts import prompt_growth
        from armbench.analysis.render_html import render_html
        from armbench.analysis.report import build_report

        page = run_dir.path / "report.html"
        write_atomic(page, render_html(build_report(run_dir.path), prompt_growth(run_dir.path)))
        err.print(f"report: {page}", highlight=False, soft_wrap=True)
    failed = [r for r in outcome.records if r.status == "infra_error"]
    for record in sorted(failed, key=lambda r: r.trial_id):
        lines = (record.error or "").splitlines()
        reason = " ".join(line.strip() for line in lines if line.strip()) or "no reason recorded"
        err.print(
            f"[yellow]infra_error[/] {escape(record.trial_id)}: "
            f"{escape(record.infra_class or 'unknown')}: {escape(reason)}",
            highlight=False,
            soft_wrap=True,
        )
    infra = outcome.infra_errors()
    problems = []
    if outcome.stopped_early:
        problems.append(f"the run stopped early: {outcome.stopped_early}")
    if sum(infra.values()) > max_infra_errors:
        by_class = ", ".join(f"{n} {name}" for name, n in sorted(infra.items()))
        problems.append(
            f"{sum(infra.values())} infra errors ({by_class}); at most {max_infra_errors} allowed"
        )
    left = incomplete_line(run_dir.path, len(facts.trials), facts.manifest.trials_planned)
    if left is not None:
        problems.append(left)
    for problem in problems:
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    out.print(str(run_dir.path), highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(EXIT_RUN_PROBLEM)


def _preflight(config: RunConfig, sandbox: SandboxChoice | None = None) -> Preflight:
    """Everything checked before a trial runs (exit 2 naming what is wrong); the warning of a
    run on plain processes is shown every time."""
    from armbench.checks import ToolchainError
    from armbench.env import SandboxUnavailable
    from armbench.pricing import UnknownPriceError
    from armbench.runner import preflight
    from armbench.tasks import SourceError, TaskFileError

    try:
        pre = preflight(config, sandbox=sandbox)
    except (
        TaskFileError,
        SourceError,
        KeyError,
        ValueError,
        ToolchainError,
        UnknownPriceError,
        SandboxUnavailable,
    ) as exc:
        fail(str(exc).strip("'\""), code=2)
    if pre.sandbox_warning:
        err.print(
            f"[yellow]warning:[/] {escape(pre.sandbox_warning)}", highlight=False, soft_wrap=True
        )
    return pre


def _run(
    config: RunConfig, out_dir: Path, source: str, max_infra_errors: int = 0, html: bool = False
) -> None:
    from armbench.runner import create_run

    pre = _preflight(config)
    run_dir = create_run(pre, out_parent=out_dir, config_source=source)
    err.print(f"run {run_dir.run_id}: {len(pre.plans)} trials → {run_dir.path}")
    _finish(run_dir, _execute(pre, run_dir, len(pre.plans)), max_infra_errors, html)


@app.command()
def run(
    config: Annotated[
        Path, typer.Argument(help="The run's YAML config.", exists=True, dir_okay=False)
    ],
    out_dir: OutOption = Path("runs"),
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a config value, given as YAML (repeatable): --set replicates=5, "
            "--set 'sweep.0.grid.returns.max_chars=[1000, 4000]' (a number indexes a list).",
        ),
    ] = None,
    max_infra_errors: MaxInfraOption = 0,
    sandbox: SandboxOption = None,
) -> None:
    """Run every arm of CONFIG on every task, for each replicate, and record it all.

    The config is validated before anything runs; a bad one exits 2 naming the field. The run
    directory (printed on the last line) holds the manifest, the database and transcripts; every
    infra error is listed with its reason at the end. Exit status: 0 done; 2 bad config, pack,
    price, script, key or --out (nothing written); 3 infra errors over the threshold or a run
    stopped by an auth or quota error.
    """
    from armbench.config import ConfigError, load_config

    try:
        cfg = load_config(config, [*(overrides or []), *_sandbox_override(sandbox)])
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(cfg, out_dir, str(config.resolve()), max_infra_errors)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `armbench run`.")],
    max_infra_errors: MaxInfraOption = 0,
) -> None:
    """Finish an interrupted run: trials already recorded are kept and not run again.

    The remaining trials run on the backend the run started with (refused, exit 2, where it
    cannot run now), and the resume is refused when a prompt the run renders changed since.
    Exit status: 0 done; 2 not a run, its database empty or damaged, or its config no longer
    valid (nothing run); 3 infra errors over the threshold or stopped by an auth or quota error.
    """
    from armbench.config import ConfigError
    from armbench.runner import reopen_config
    from armbench.store import RunDirectory, RunDirectoryError

    try:
        directory = RunDirectory.open(run_dir)
        config = reopen_config(directory)
    except (RunDirectoryError, ConfigError) as exc:
        fail(str(exc), code=2)
    recorded = directory.read_manifest().sandbox.get("backend")
    pre = _preflight(config, sandbox=recorded if recorded in ("bwrap", "local") else None)
    with directory.database() as db:
        todo = len([p for p in pre.plans if p.trial_id not in db.trial_ids()])
    err.print(f"run {directory.run_id}: {todo} of {len(pre.plans)} trials left")
    _finish(directory, _execute(pre, directory, todo), max_infra_errors)


@app.command()
def demo(out_dir: OutOption = Path("runs"), sandbox: SandboxOption = None) -> None:
    """Run the demo: every kind of arm on simulated models (src/armbench/examples/demo.yaml),
    then write its HTML report to `report.html` in the run directory.

    Runs offline in a few minutes; everything is real (workspaces, tools, checkers, judge,
    ledger, statistics) except the models, which are simulated and labelled so. Exit status as
    `run`'s.
    """
    from armbench.config import ConfigError, load_config

    try:
        cfg = load_config(DEMO_CONFIG, _sandbox_override(sandbox))
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(cfg, out_dir, str(DEMO_CONFIG), html=True)
