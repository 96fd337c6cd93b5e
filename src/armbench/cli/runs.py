"""`armbench run`, `resume` and `demo`: execute a config, show progress, summarise, exit with
the status the outcome deserves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from armbench.cli.app import MaxInfraOption, OutOption, app, err, fail, out
from armbench.cli.backends import (
    AddressOption,
    BackendOption,
    choose_backend,
    execute_on,
    opened,
    resume_backend,
)

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
    budget = outcome.budget
    if budget is not None and budget.exhausted and budget.limit_usd is not None:
        rest = (
            f"; `armbench resume {run_dir.path} --budget-usd N` runs the rest with a larger one"
            if left is not None
            else ""
        )
        err.print(
            f"[yellow]budget:[/] ${budget.spent_usd:.4f} of ${budget.limit_usd:.2f} spent; a "
            f"call whose worst case would have crossed it was refused, its trial ended as limit "
            f"(budget), and no trial started after{escape(rest)}",
            highlight=False,
            soft_wrap=True,
        )
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
    from armbench.arms.external import AgentInstallError
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
        AgentInstallError,
    ) as exc:
        fail(str(exc).strip("'\""), code=2)
    if pre.sandbox_warning:
        err.print(
            f"[yellow]warning:[/] {escape(pre.sandbox_warning)}", highlight=False, soft_wrap=True
        )
    return pre


def _run(
    config: RunConfig,
    out_dir: Path,
    source: str,
    max_infra_errors: int = 0,
    html: bool = False,
    overrides: list[str] | None = None,
    backend: tuple[str | None, str | None] = (None, None),
) -> None:
    from armbench.runner import create_run

    choice = choose_backend(*backend, config)
    pre = _preflight(config)
    _clean_leftovers()
    with opened(choice, config.name) as backend_open:
        run_dir = create_run(
            pre,
            out_parent=out_dir,
            config_source=source,
            overrides=overrides or [],
            backend=choice.record(),
        )
        swept = [arm.sweep.base for arm in config.arms.values() if arm.sweep is not None]
        bases = len(set(swept))
        made = f" ({len(swept)} arms made by the sweep from {bases})" if swept else ""
        on = f" on {choice.name}" if choice.name != "local" else ""
        err.print(f"run {run_dir.run_id}: {len(pre.plans)} trials{made}{on} → {run_dir.path}")
        outcome = execute_on(pre, run_dir, len(pre.plans), backend_open)
    _finish(run_dir, outcome, max_infra_errors, html)


def _clean_leftovers() -> None:
    """What killed runs left on this machine (processes, scratch folders), removed and said
    before a run starts (exit 2 if the lease folder is not safe to use)."""
    from armbench.runner import clean_leftovers
    from armbench.runner.leases import LeaseError

    try:
        notes = clean_leftovers()
    except LeaseError as exc:
        fail(str(exc), code=2)
    for note in notes:
        err.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


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
    backend: BackendOption = None,
    address: AddressOption = None,
) -> None:
    """Run every arm of CONFIG on every task, for each replicate, and record it all.

    The config is validated before anything runs; a bad one exits 2 naming the field. The run
    directory (printed on the last line) holds the manifest, the database and transcripts; every
    infra error is listed with its reason at the end. Exit status: 0 done; 2 bad config, pack,
    price, script, key or --out (nothing written); 3 infra errors over the threshold or a run
    stopped by an auth or quota error.
    """
    from armbench.config import ConfigError, load_config

    applied = [*(overrides or []), *_sandbox_override(sandbox)]
    try:
        cfg = load_config(config, applied)
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(
        cfg,
        out_dir,
        str(config.resolve()),
        max_infra_errors,
        overrides=applied,
        backend=(backend, address),
    )


RetryInfraOption = Annotated[
    str | None,
    typer.Option(
        "--retry-infra",
        help="Run again the trials recorded as infra errors of these classes (comma-separated: "
        "rate_limit, overloaded, server_error, timeout, connection, auth, quota, "
        "malformed_response, sandbox, harness; or `all`). Each earlier attempt is kept in the "
        "run's history, and its spend still counts.",
        show_default=False,
    ),
]
MaxAttemptsOption = Annotated[
    int,
    typer.Option(
        "--max-attempts",
        min=2,
        help="With --retry-infra: attempts in all per trial, counting every earlier one.",
    ),
]


def _infra_classes(option: str | None) -> frozenset[str] | None:
    """`--retry-infra`'s classes (None for `all`); exit 2 naming the known ones otherwise."""
    from typing import get_args

    from armbench.core import InfraClass

    known = get_args(InfraClass)
    names = {name.strip() for name in (option or "").split(",") if name.strip()}
    if names == {"all"}:
        return None
    unknown = sorted(names - set(known))
    if unknown or not names:
        fail(
            f"--retry-infra {option}: {', '.join(unknown) or 'no class'}: not an infra class "
            f"(choose from {', '.join(known)}, or all)",
            code=2,
        )
    return frozenset(names)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `armbench run`.")],
    max_infra_errors: MaxInfraOption = 0,
    retry_infra: RetryInfraOption = None,
    max_attempts: MaxAttemptsOption = 3,
    budget_usd: Annotated[
        float | None,
        typer.Option(
            "--budget-usd",
            min=0,
            help=(
                "A new run-wide budget in dollars (the run's recorded spend counts against "
                "it): how a run the budget stopped is finished. Recorded in the manifest."
            ),
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", min=1, help="Trials at once from now on.", show_default=False
        ),
    ] = None,
    backend: BackendOption = None,
    address: AddressOption = None,
) -> None:
    """Finish an interrupted run: trials already recorded are kept and not run again.

    What killed runs left (processes, scratch folders) is removed first. The run's recorded
    config runs, on the backend it started with; the resume is refused (exit 2) when its
    config file, a prompt or a pack's tasks changed since, naming what differs, and while
    another process runs its trials. A finished run has nothing to do, unless --retry-infra
    names infra errors to run again (up to --max-attempts attempts per trial).
    --budget-usd and --concurrency change how the remaining trials run, never what they
    measure: the config keeps its hash, and the manifest records the change.
    Exit status: 0 done; 2 not a run, its database empty or damaged, or its config, prompts or
    packs changed (nothing run); 3 infra errors over the threshold or stopped by an auth or
    quota error.
    """
    from armbench.config import ConfigError
    from armbench.runner import check_packs, execution_settings, record_settings, reopen, retry
    from armbench.runner.resume import settle
    from armbench.store import RunDirectory, RunDirectoryError

    retrying = retry_infra is not None
    classes = _infra_classes(retry_infra) if retrying else None
    try:
        directory = RunDirectory.open(run_dir)
        reopened = reopen(directory)
        settled = settle(directory)
    except (RunDirectoryError, ConfigError) as exc:
        fail(str(exc), code=2)
    for note in (*reopened.notes, *settled.cleaned):
        err.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    done = settled.finished_at
    _clean_leftovers()
    manifest = directory.read_manifest()
    if done is not None and not retrying:
        err.print(
            f"run {directory.run_id}: finished at {done}; all {manifest.trials_planned} "
            "trials are recorded: nothing to resume (--retry-infra runs infra errors again)",
            highlight=False,
            soft_wrap=True,
        )
        out.print(str(directory.path), highlight=False, soft_wrap=True)
        return
    config, change = execution_settings(
        reopened.config, manifest, budget_usd=budget_usd, concurrency=concurrency
    )
    choice, moved = resume_backend(manifest, backend, address, config)
    if moved is not None:
        change = {**(change or {"at": moved["at"]}), "backend": moved["backend"]}
    recorded = manifest.sandbox.get("backend")
    pre = _preflight(config, sandbox=recorded if recorded in ("bwrap", "local") else None)
    try:
        check_packs(pre, manifest, directory)
        retried = retry(directory, classes, max_attempts) if retrying else []
    except (RunDirectoryError, ConfigError) as exc:
        fail(str(exc), code=2)
    with directory.database() as db:
        todo = len([p for p in pre.plans if p.trial_id not in db.trial_ids()])
    again = f", {len(retried)} of them infra errors run again" if retrying else ""
    on = f" on {choice.name}" if choice.name != "local" else ""
    err.print(f"run {directory.run_id}: {todo} of {len(pre.plans)} trials left{again}{on}")
    if todo == 0:
        out.print(str(directory.path), highlight=False, soft_wrap=True)
        return
    with opened(choice, config.name) as backend_open:
        record_settings(directory, change)
        try:
            outcome = execute_on(pre, directory, todo, backend_open)
        except RunDirectoryError as exc:  # another process started running its trials meanwhile
            fail(str(exc), code=2)
    _finish(directory, outcome, max_infra_errors)


@app.command()
def demo(
    out_dir: OutOption = Path("runs"),
    sandbox: SandboxOption = None,
    backend: BackendOption = None,
    address: AddressOption = None,
) -> None:
    """Run the demo: every kind of arm on simulated models (src/armbench/examples/demo.yaml),
    then write its HTML report to `report.html` in the run directory.

    Runs offline in a few minutes; everything is real (workspaces, tools, checkers, judge,
    ledger, statistics) except the models, which are simulated and labelled so. Exit status as
    `run`'s.
    """
    from armbench.config import ConfigError, load_config

    applied = _sandbox_override(sandbox)
    try:
        cfg = load_config(DEMO_CONFIG, applied)
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(cfg, out_dir, str(DEMO_CONFIG), html=True, overrides=applied, backend=(backend, address))
