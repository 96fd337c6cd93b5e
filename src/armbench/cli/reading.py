"""`armbench show`, `report`, `export` and `reprice`: reading a run (native or imported) and
viewing it, always computing cost from the recorded tokens and a rate card.

They open the run's database read-only and check it (armbench.store): a run they cannot read,
like an output they cannot write, exits 2 with one line naming the file, before anything is
written."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape

from armbench.cli.app import (
    RateCardOption,
    app,
    check_writable,
    err,
    fail,
    incomplete_line,
    out,
    writable_file,
)
from armbench.cli.runs import open_facts

if TYPE_CHECKING:  # the verbs import what they use when they run: `armbench --help` stays fast
    from armbench.analysis.records import RunRecords


def _open_records(path: Path, rate_card: Path | None) -> RunRecords:
    from armbench.analysis.records import load_run_records
    from armbench.store import RunDirectoryError

    try:
        return load_run_records(path, rate_card=rate_card)
    except (RunDirectoryError, ValueError) as exc:
        fail(str(exc))


def _say_if_incomplete(run_dir: Path, recorded: int) -> None:
    """The line saying a run has trials left to run (imported runs are always whole)."""
    from armbench.store import RunDirectory

    directory = RunDirectory(run_dir.absolute())
    manifest = directory.read_manifest()
    line = incomplete_line(directory.path, recorded, manifest.trials_planned)
    if line is not None and manifest.imported is None:
        out.print(f"[yellow]{escape(line)}[/]", highlight=False, soft_wrap=True)


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    rate_card: RateCardOption = None,
) -> None:
    """Summarize a run: per arm × task, outcomes and medians among passing trials.

    Costs are computed now from the recorded tokens, with the run's rate card or --rate-card.
    A run with trials left says so (`armbench resume` runs them). Exit status: 0; 2 when the
    run cannot be read (not a run, its database empty, damaged or of another schema) or a
    model has no price.
    """
    from armbench.analysis.render_terminal import print_summary

    facts = open_facts(run_dir, rate_card)
    print_summary(facts, out)
    _say_if_incomplete(facts.directory.path, len(facts.trials))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (native or imported).")],
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write a self-contained HTML report here.", callback=writable_file
        ),
    ] = None,
    md: Annotated[
        Path | None,
        typer.Option(
            "--md", help="Write a Markdown summary (for pull requests).", callback=writable_file
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the whole report as JSON here.", callback=writable_file),
    ] = None,
    rate_card: RateCardOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resamples.")] = 0,
    margin: Annotated[
        float,
        typer.Option(
            "--margin",
            min=0.001,
            max=0.999,
            help="Non-inferiority margin of the decisions, in pass rate (0.10: an arm may be "
            "chosen over the best only if shown to pass at most 10 points less).",
        ),
    ] = 0.10,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            metavar="FIELD",
            help="Also compare arms over groups of tasks sharing this metadata field (e.g. "
            "`category` in an imported routing study): pooled pass rates with task-clustered "
            "intervals, median cost, spend.",
        ),
    ] = None,
) -> None:
    """Statistics of a run: per arm × task, pass rates with Wilson intervals, success-only
    medians with exact order-statistic intervals, expected cost per success with
    intervals; Mann-Whitney comparisons with Cliff's delta and Holm adjustment; Pareto
    frontiers judged by bootstrap support; per task, the cheapest of the best arm and the arms
    shown non-inferior to it at --margin (README, "Statistics").

    Prints a summary; --html, --md and --json write the full report (several may be given).
    Infra errors are counted apart and never as failures; a run with trials left says so.
    Exit status: 0; 2 when the run cannot be read, a model has no price, or an output cannot
    be written (checked before anything is).
    """
    from armbench.analysis.render_terminal import print_report
    from armbench.analysis.report import build_report
    from armbench.pricing import UnknownPriceError
    from armbench.store import RunDirectoryError, write_atomic

    try:
        result = build_report(
            run_dir, rate_card=rate_card, seed=seed, margin=margin, group_by=group_by
        )
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
        fail(f"{exc.filename or path}: cannot write the report ({exc.strerror or exc})")
    print_report(result, out)
    _say_if_incomplete(run_dir, result.trials)
    for path, _ in outputs:
        err.print(f"wrote {path}", highlight=False, soft_wrap=True)


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
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here instead of stdout.", callback=writable_file
        ),
    ] = None,
    rate_card: RateCardOption = None,
) -> None:
    """Export trials (or, with --calls, every model call) with tokens, costs and gates.

    Parquet keeps tokens, roles and gates as nested columns (see armbench.analysis.export).
    A file given with -o appears only once complete. Exit status: 0; 2 when the run cannot be
    read, a model has no price, or the output cannot be written.
    """
    from armbench.analysis.export import call_rows, text_chunks, trial_rows, write_rows
    from armbench.pricing import UnknownPriceError

    if fmt == "parquet" and output is None:
        fail("--format parquet writes a binary file: name it with -o/--output")
    run = _open_records(run_dir, rate_card)
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
        fail(f"--output {output}: cannot write it ({exc.strerror or exc})")
    err.print(f"wrote {count} rows to {output}")


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
    as they were. Exit status: 0; 2 when the run cannot be read or written beside, or the new
    prices miss a model or a token kind.
    """
    from datetime import date

    from armbench.analysis.render_terminal import print_repricing
    from armbench.pricing import UnknownPriceError
    from armbench.pricing.reprice import REPRICINGS
    from armbench.pricing.reprice import reprice as do_reprice
    from armbench.store import RunDirectory, RunDirectoryError

    if (rate_card is None) == (price_date is None):
        fail("give exactly one of --rate-card FILE or --price-date YYYY-MM-DD")
    try:
        when = date.fromisoformat(price_date) if price_date is not None else None
    except ValueError:
        fail(f"--price-date {price_date!r}: expected YYYY-MM-DD")
    try:
        check_writable("RUN_DIR", RunDirectory.open(run_dir).path / REPRICINGS, folder=True)
        folder = do_reprice(run_dir, rate_card=rate_card, price_date=when)
    except (RunDirectoryError, UnknownPriceError, ValueError) as exc:
        fail(str(exc))
    print_repricing(json.loads((folder / "costs.json").read_text(encoding="utf-8")), out)
    out.print(str(folder), highlight=False, soft_wrap=True)
