"""The `armbench` command line: verbs only — parsing, calling, printing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from armbench.analysis.export import call_rows, text_chunks, trial_rows
from armbench.analysis.facts import RunFacts, load_run_facts
from armbench.analysis.runs import LoadedRun, load_run
from armbench.analysis.summary import contract_table, summarize
from armbench.analysis.summary import spend_by_arm as summarize_spend
from armbench.checks import ToolchainError
from armbench.cli_import import import_app
from armbench.config import ConfigError, RunConfig, load_config
from armbench.core import ROLES, TrialRecord
from armbench.pricing.ratecard import UnknownPriceError
from armbench.runner.run import (
    Preflight,
    RunOutcome,
    create_run,
    execute,
    preflight,
    reopen_config,
)
from armbench.store.rundir import RunDirectory, RunDirectoryError, write_atomic
from armbench.tasks.packs import builtin_pack_names, combine, load_pack
from armbench.tasks.spec import TaskFileError

DEMO_CONFIG = Path(__file__).resolve().parent / "examples" / "demo.yaml"

app = typer.Typer(
    help="armbench: what agentic-coding configurations really cost, and how reliably they work.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
tasks_app = typer.Typer(
    help="List and validate task packs.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(tasks_app, name="tasks")
app.add_typer(import_app, name="import")

# Piped output is not cut to 80 columns: tables stay whole in files and logs.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)

RateCardOption = Annotated[
    Path | None,
    typer.Option("--rate-card", help="Price with this TOML rate card instead of the run's own."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    # soft_wrap: a path in the message must survive copy and paste, whatever the width.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _open_run(path: Path, rate_card: Path | None) -> LoadedRun:
    try:
        return load_run(path, rate_card=rate_card)
    except (RunDirectoryError, ValueError) as exc:
        fail(str(exc))


def _open_facts(path: Path, rate_card: Path | None) -> RunFacts:
    try:
        return load_run_facts(path, rate_card=rate_card)
    except (RunDirectoryError, UnknownPriceError, ValueError) as exc:
        fail(str(exc))


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.3f}"


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def print_summary(run: RunFacts) -> None:
    if run.manifest.simulated or any(t.simulated for t in run.trials):
        out.print(
            "[bold yellow]SIMULATED[/] — the models in this run are simulated: "
            "its numbers do not measure real models."
        )
    imported = run.manifest.imported
    if imported:
        out.print(f"[bold cyan]IMPORTED[/] from {imported.get('source')}", highlight=False)
        for note in imported.get("notes") or ():
            out.print(f"note: {note}", style="dim", highlight=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        title=run.run_id,
        title_justify="left",
        caption="cost, wall and iterations: medians over passing trials; "
        "rate: passes / trials without infra errors",
        caption_justify="left",
    )
    # Numbers are never cut; on a narrow terminal long arm and task names wrap instead.
    table.add_column("arm", overflow="fold")
    table.add_column("task", overflow="fold")
    for column, width in (("n", 1), ("pass", 4), ("fail", 4), ("limit", 5), ("infra", 5)):
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for column, width in (("rate", 4), ("cost", 6), ("wall s", 6), ("iters", 5)):
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for c in summarize(run):
        rate = "—" if c.success_rate is None else f"{c.success_rate:.0%}"
        table.add_row(
            c.arm,
            c.task,
            str(c.n),
            str(c.passes),
            str(c.fails),
            str(c.limits),
            str(c.infra_errors),
            rate,
            _money(c.median_cost_usd),
            _num(c.median_wall_s),
            _num(c.median_iterations, "{:.0f}"),
        )
    out.print(table)
    print_spend(run)
    print_contract(run)
    out.print(f"costs priced with {run.rate_card.source}", style="dim", highlight=False)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def print_contract(run: RunFacts) -> None:
    """Single-shot models: format and execution rates without and with the contract."""
    rows = contract_table(run)
    if not rows:
        return
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title="single-shot: format (strict FILE blocks) and execution (lenient extraction)",
        title_justify="left",
    )
    table.add_column("model", overflow="fold")
    for column in ("n", "format", "exec", "n+c", "format+c", "exec+c", "contract effect"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r.model,
            str(r.n_without),
            _rate(r.format_without),
            _rate(r.execution_without),
            str(r.n_with),
            _rate(r.format_with),
            _rate(r.execution_with),
            r.effect or "—",
        )
    out.print(table)


def print_spend(run: RunFacts) -> None:
    """Mean cost per trial by role, delegation tax and cloud fraction — when any arm is more
    than one model working alone."""
    spends = summarize_spend(run)
    if all(s.arm_kind == "solo" for s in spends):
        return
    roles = [r for r in ROLES if any(r in s.mean_cost_by_role for s in spends)]
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title="mean cost per judged trial by role (infra errors left out)",
        title_justify="left",
        caption="tax: delegation tax, the orchestrator re-reading executor returns "
        "(~: estimated); cloud: share of calls / of tokens served by the cloud model",
        caption_justify="left",
    )
    table.add_column("arm", overflow="fold")
    table.add_column("kind", no_wrap=True)
    for role in roles:
        table.add_column(role, justify="right", no_wrap=True)
    table.add_column("tax", justify="right", no_wrap=True)
    table.add_column("cloud", justify="right", no_wrap=True)
    for s in spends:
        tax = "—" if s.arm_kind != "orchestrated" else _money(s.delegation_tax_usd)
        if s.delegation_tax_estimated:
            tax = "~" + tax
        cloud = (
            "—"
            if s.cloud_fraction_tokens is None
            else f"{_rate(s.cloud_fraction_calls)} / {s.cloud_fraction_tokens:.0%}"
        )
        costs = s.mean_cost_by_role
        cells = [_money(costs[r]) if r in costs else "" for r in roles]
        table.add_row(s.arm, s.arm_kind, *cells, tax, cloud)
    out.print(table)


def _execute(pre: Preflight, run_dir: RunDirectory, todo: int) -> RunOutcome:
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


MaxInfraOption = Annotated[
    int,
    typer.Option(
        "--max-infra-errors",
        min=0,
        help="Exit 3 when more trials than this end as infra_error (default: any).",
    ),
]


def _finish(
    run_dir: RunDirectory, outcome: RunOutcome, max_infra_errors: int, html: bool = False
) -> None:
    """Summary (and with `html`, `report.html` in the run directory), the run directory on the
    last line, then the exit status the outcome deserves: 3 when a fatal provider error stopped
    the run or infra errors exceed the threshold."""
    print_summary(_open_facts(run_dir.path, None))
    if html:
        from armbench.analysis.facts import prompt_growth
        from armbench.analysis.render_html import render_html
        from armbench.analysis.report import build_report

        page = run_dir.path / "report.html"
        write_atomic(page, render_html(build_report(run_dir.path), prompt_growth(run_dir.path)))
        err.print(f"report: {page}", highlight=False, soft_wrap=True)
    infra = outcome.infra_errors()
    problems = []
    if outcome.stopped_early:
        problems.append(f"the run stopped early: {outcome.stopped_early}")
    if sum(infra.values()) > max_infra_errors:
        by_class = ", ".join(f"{n} {name}" for name, n in sorted(infra.items()))
        problems.append(
            f"{sum(infra.values())} infra errors ({by_class}); at most {max_infra_errors} allowed"
        )
    for problem in problems:
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    out.print(str(run_dir.path), highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(3)


def _preflight(config: RunConfig) -> Preflight:
    try:
        return preflight(config)
    except (TaskFileError, KeyError, ValueError, ToolchainError, UnknownPriceError) as exc:
        fail(str(exc).strip("'\""), code=2)


def _run(
    config: RunConfig, out_dir: Path, source: str, max_infra_errors: int = 0, html: bool = False
) -> None:
    pre = _preflight(config)
    run_dir = create_run(pre, out_parent=out_dir, config_source=source)
    err.print(f"run {run_dir.run_id}: {len(pre.plans)} trials → {run_dir.path}")
    _finish(run_dir, _execute(pre, run_dir, len(pre.plans)), max_infra_errors, html)


@app.command()
def run(
    config: Annotated[
        Path, typer.Argument(help="The run's YAML config.", exists=True, dir_okay=False)
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to create the run directory in.")
    ] = Path("runs"),
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config value, e.g. --set replicates=5 (repeatable)."
        ),
    ] = None,
    max_infra_errors: MaxInfraOption = 0,
) -> None:
    """Run every arm of CONFIG on every task, for each replicate, and record it all.

    The config is validated before anything runs; a bad one exits 2 naming the field. The run
    directory (printed on the last line) holds the manifest, the database and transcripts. Exit
    status: 0 done; 2 bad config, price or key; 3 infra errors over the threshold or a run
    stopped by an auth or quota error.
    """
    try:
        cfg = load_config(config, overrides or [])
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(cfg, out_dir, str(config.resolve()), max_infra_errors)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `armbench run`.")],
    max_infra_errors: MaxInfraOption = 0,
) -> None:
    """Finish an interrupted run: trials already recorded are kept and not run again."""
    try:
        directory = RunDirectory.open(run_dir)
        config = reopen_config(directory)
    except (RunDirectoryError, ConfigError) as exc:
        fail(str(exc), code=2)
    pre = _preflight(config)
    with directory.database() as db:
        todo = len([p for p in pre.plans if p.trial_id not in db.trial_ids()])
    err.print(f"run {directory.run_id}: {todo} of {len(pre.plans)} trials left")
    _finish(directory, _execute(pre, directory, todo), max_infra_errors)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to create the run directory in.")
    ] = Path("runs"),
) -> None:
    """Run the demo: every kind of arm on simulated models (src/armbench/examples/demo.yaml),
    then write its HTML report to `report.html` in the run directory.

    Runs offline in a few minutes; everything is real (workspaces, tools, checkers, judge,
    ledger, statistics) except the models, which are simulated and labelled so.
    """
    try:
        cfg = load_config(DEMO_CONFIG)
    except ConfigError as exc:
        fail(str(exc), code=2)
    _run(cfg, out_dir, str(DEMO_CONFIG), html=True)


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    rate_card: RateCardOption = None,
) -> None:
    """Summarize a run: per arm × task, outcomes and medians among passing trials.

    Costs are computed now from the recorded tokens, with the run's rate card or --rate-card.
    """
    print_summary(_open_facts(run_dir, rate_card))


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    fmt: Annotated[
        Literal["jsonl", "csv", "parquet"],
        typer.Option("--format", help="jsonl, csv or parquet (parquet needs -o)."),
    ] = "jsonl",
    calls: Annotated[
        bool, typer.Option("--calls", help="One row per ledger row instead of per trial.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    rate_card: RateCardOption = None,
) -> None:
    """Export trials (or, with --calls, every model call) with tokens, costs and gates.

    Parquet keeps tokens, roles and gates as nested columns (see armbench.analysis.export).
    A file given with -o appears only once complete.
    """
    from armbench.analysis.export import write_rows

    if fmt == "parquet" and output is None:
        fail("--format parquet writes a binary file: name it with -o/--output", code=2)
    run = _open_run(run_dir, rate_card)
    rows = call_rows(run) if calls else trial_rows(run)
    try:
        if output is None:
            assert fmt != "parquet"
            sys.stdout.writelines(text_chunks(rows, fmt))
            return
        count = write_rows(rows, fmt, output, calls=calls)
    except (UnknownPriceError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{output}: {exc.strerror or exc}")
    err.print(f"wrote {count} rows to {output}")


@app.command()
def inject(
    repo: Annotated[
        Path,
        typer.Argument(
            help="A Python repo that is green under its own mypy, ruff and pytest.",
            exists=True,
            file_okay=False,
        ),
    ],
    mypy: Annotated[int, typer.Option("--mypy", min=0, help="mypy errors to add.")] = 0,
    ruff: Annotated[int, typer.Option("--ruff", min=0, help="ruff violations to add.")] = 0,
    collect: Annotated[
        int, typer.Option("--collect", min=0, help="pytest collection errors to add.")
    ] = 0,
    seed: Annotated[
        int, typer.Option("--seed", help="Same repo and seed, byte-identical result.")
    ] = 0,
    python: Annotated[
        str, typer.Option("--python", help="Interpreter that runs the checkers.")
    ] = sys.executable,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="Write the mutations and their inverses here (JSON)."),
    ] = None,
) -> None:
    """Break REPO with exactly the requested mypy, ruff and pytest-collection errors.

    Mutations come from a catalogue of realistic mistakes; the checkers are run to confirm each
    adds exactly one error of its kind. The same repo and seed give byte-identical results. On
    failure the repo is left untouched; --manifest records every mutation and its inverse.
    """
    from armbench.tasks.inject import InjectionError, InjectionRequest
    from armbench.tasks.inject import inject as do_inject

    if mypy + ruff + collect == 0:
        fail("nothing to inject: give --mypy, --ruff and/or --collect", code=2)
    try:
        result = do_inject(
            repo, InjectionRequest(mypy=mypy, ruff=ruff, collect=collect, seed=seed), python=python
        )
    except InjectionError as exc:
        fail(str(exc))
    for m in result.mutations:
        out.print(f"{m.kind:8} {m.path}:{m.line}  {m.operator}: {m.description}", highlight=False)
    if manifest is not None:
        manifest.write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
        err.print(f"manifest: {manifest}")


@app.command()
def reprice(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    rate_card: Annotated[
        Path | None,
        typer.Option("--rate-card", help="New prices for the models this TOML card names."),
    ] = None,
    price_date: Annotated[
        str | None,
        typer.Option("--price-date", help="genai-prices as of YYYY-MM-DD for the cloud models."),
    ] = None,
) -> None:
    """Recompute every cost of a run from its stored tokens, without running anything.

    Give exactly one of --rate-card or --price-date. The repricing is written beside the
    original (`repricings/<stamp>-.../card.toml` and `costs.json`); the run's own records stay
    as they were.
    """
    from datetime import date

    from armbench.pricing.reprice import reprice as do_reprice

    if (rate_card is None) == (price_date is None):
        fail("give exactly one of --rate-card FILE or --price-date YYYY-MM-DD", code=2)
    try:
        when = date.fromisoformat(price_date) if price_date is not None else None
    except ValueError:
        fail(f"--price-date {price_date!r}: expected YYYY-MM-DD", code=2)
    try:
        folder = do_reprice(run_dir, rate_card=rate_card, price_date=when)
    except (RunDirectoryError, UnknownPriceError, ValueError) as exc:
        fail(str(exc))
    report = json.loads((folder / "costs.json").read_text(encoding="utf-8"))
    table = Table("arm", "trials", "original", "repriced", box=box.SIMPLE_HEAD)
    for arm, row in report["arms"].items():
        table.add_row(
            arm, str(row["trials"]), _money(row["original_cost_usd"]), _money(row["cost_usd"])
        )
    total = report["total"]
    table.add_row(
        "total", str(total["trials"]), _money(total["original_cost_usd"]), _money(total["cost_usd"])
    )
    out.print(table)
    out.print(str(folder), highlight=False, soft_wrap=True)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (native or imported).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    md: Annotated[
        Path | None, typer.Option("--md", help="Write a Markdown summary (for pull requests).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the whole report as JSON here.")
    ] = None,
    rate_card: RateCardOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resamples.")] = 0,
) -> None:
    """Statistics of a run: per arm × task, pass rates with Wilson intervals, success-only
    medians with bootstrap intervals, expected cost per success; Mann-Whitney comparisons
    with Cliff's delta and Holm adjustment; Pareto frontiers judged by bootstrap support; the
    cheapest arm per task whose success is not worse than the best.

    Prints a summary; --html, --md and --json write the full report (several may be given).
    Infra errors are counted apart and never as failures.
    """
    from armbench.analysis.render_terminal import print_report
    from armbench.analysis.report import build_report

    for target in (t for t in (json_out, md, html) if t is not None):
        if target.is_dir() or not target.parent.is_dir():
            fail(
                f"{target}: cannot write a report there (a folder, or in a missing folder)",
                code=2,
            )
    try:
        result = build_report(run_dir, rate_card=rate_card, seed=seed)
    except (RunDirectoryError, UnknownPriceError, ValueError) as exc:
        fail(str(exc))
    outputs: list[tuple[Path, str]] = []
    if json_out is not None:
        outputs.append((json_out, result.model_dump_json(indent=2) + "\n"))
    if md is not None:
        from armbench.analysis.render_md import render_markdown

        outputs.append((md, render_markdown(result)))
    if html is not None:
        from armbench.analysis.facts import prompt_growth
        from armbench.analysis.render_html import render_html

        outputs.append((html, render_html(result, prompt_growth(run_dir))))
    try:
        for path, text in outputs:
            write_atomic(path, text)
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")
    print_report(result, out)
    for path, _ in outputs:
        err.print(f"wrote {path}", highlight=False, soft_wrap=True)


@app.command("serve-sim")
def serve_sim(
    api: Annotated[
        Literal["anthropic", "openai"], typer.Option("--api", help="Wire format to speak.")
    ],
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, help="Port; 0 picks a free one.")] = 8765,
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", help="Pack whose tasks the sim recognises (repeatable)."),
    ] = None,
    skill: Annotated[float, typer.Option("--skill", min=0, max=1, help="Default sim skill.")] = 0.9,
    model_skill: Annotated[
        list[str] | None,
        typer.Option("--model-skill", help="NAME=SKILL for a model name (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds every conversation's sim.")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject a fault, e.g. status=429,retry_after=2,times=3 | slow=5 | drop | "
            "malformed | no_usage, with after=K, times=N (0: always), every=N (repeatable).",
        ),
    ] = None,
) -> None:
    """Serve the sim coder over HTTP, speaking the real Anthropic or OpenAI wire format.

    Point an SDK (or an external agent) at it: Anthropic `base_url=http://HOST:PORT`, OpenAI
    `base_url=http://HOST:PORT/v1`; any key is accepted. Tasks of PACK are recognised by their
    prompt and solved like the in-process sim does. Faults are injected as configured and can
    be changed at runtime (`POST /_armbench/faults`; statistics at `GET /_armbench/stats`).
    """
    from armbench.serve import SimServer, parse_fault

    skills: dict[str, float] = {}
    for item in model_skill or []:
        name, sep, value = item.partition("=")
        try:
            skills[name] = float(value)
        except ValueError:
            fail(f"--model-skill {item!r}: expected NAME=SKILL, e.g. weak=0.5", code=2)
        if not sep or not name or not 0 <= skills[name] <= 1:
            fail(f"--model-skill {item!r}: expected NAME=SKILL with SKILL in 0..1", code=2)
    try:
        rules = [parse_fault(spec) for spec in fault or []]
        loaded = combine([load_pack(name) for name in pack or ["demo", "oneshot"]])
    except (ValueError, TaskFileError) as exc:
        fail(str(exc), code=2)
    server = SimServer(
        api,
        host=host,
        port=port,
        pack=loaded,
        default_skill=skill,
        model_skills=skills,
        seed=seed,
        faults=rules,
    )
    base = server.sdk_base_url
    err.print(f"serve-sim ({api} API, SIMULATED) on {base} — Ctrl-C to stop", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


@tasks_app.command("list")
def tasks_list(
    pack: Annotated[
        str | None, typer.Argument(help="A pack name or folder; all built-in packs if absent.")
    ] = None,
) -> None:
    """List packs and their tasks."""
    names = [pack] if pack else builtin_pack_names()
    table = Table("pack", "task", "title", "gates")
    for name in names:
        try:
            loaded = load_pack(name)
        except TaskFileError as exc:
            fail(str(exc), code=2)
        for task in loaded.tasks:
            gates = ", ".join(g.kind for g in task.spec.gates)
            table.add_row(loaded.name, task.id, task.spec.title, gates)
    out.print(table)


@tasks_app.command("validate")
def tasks_validate(
    pack: Annotated[str, typer.Argument(help="A pack name or folder.")],
    repeats: Annotated[
        int, typer.Option("--repeats", min=1, help="Judge each state this many times.")
    ] = 3,
    python: Annotated[
        str, typer.Option("--python", help="Interpreter that runs the checkers.")
    ] = sys.executable,
) -> None:
    """Check that every task of PACK can discriminate: untouched fails, reference passes.

    Each state is judged REPEATS times; a gate whose verdict changes is reported as flaky.
    """
    from armbench.judge.validate import TaskValidation, validate_pack

    try:
        loaded = load_pack(pack)
    except TaskFileError as exc:
        fail(str(exc), code=2)

    def on_task(result: TaskValidation) -> None:
        mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
        out.print(f"{mark} {loaded.name}/{result.task}")
        for problem in result.problems:
            out.print(f"    {problem}", highlight=False)

    results = validate_pack(loaded, python=python, repeats=repeats, on_task=on_task)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
