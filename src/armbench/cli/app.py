"""The Typer application every verb module registers on, and what they share: the consoles,
the exit statuses, failing with a message, checking an output path before anything is written,
and the options several verbs take."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_RUN_PROBLEM = 3
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "the command ran and reports a failure it found",
    EXIT_BAD_INPUT: "bad input or usage, and nothing was written",
    EXIT_RUN_PROBLEM: "the run ended with more infra errors than allowed, or was stopped early",
}
"""armbench's exit statuses, the same for every verb. The README's "Exit statuses" explains
each (a test holds the two together); each verb's `--help` says which apply to it."""

app = typer.Typer(
    help="armbench: what agentic-coding configurations really cost, and how reliably they work.",
    epilog="Exit status, for every command: "
    + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items())
    + ".",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
tasks_app = typer.Typer(
    help="List and validate task packs.", no_args_is_help=True, rich_markup_mode="markdown"
)
import_app = typer.Typer(
    help="Turn per-trial data published by other projects into armbench runs.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
agents_app = typer.Typer(
    help="The external agents an `external` arm can run: list them, install them.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(tasks_app, name="tasks")
app.add_typer(agents_app, name="agents")
app.add_typer(import_app, name="import")

# Piped output is not cut to 80 columns: tables stay whole in files and logs.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One `error:` line on stderr, then exit with `code` (bad input unless told otherwise)."""
    # soft_wrap: a path in the message must survive copy and paste, whatever the width.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def check_writable(option: str, path: Path, *, folder: bool = False) -> None:
    """Exit 2 unless `path` can be written (as a file, or with `folder` a folder that may not
    exist yet): checked before any work, so a bad output path never leaves half a result, a
    mutated repository or a run directory behind."""
    target = path.absolute()
    if target.exists() and target.is_dir() != folder:
        what = "a folder" if target.is_dir() else "a file"
        fail(f"{option} {path}: is {what}; give a {'folder' if folder else 'file'} path")
    parent = target if folder and target.exists() else target.parent
    while not parent.exists():
        if not folder:
            fail(f"{option} {path}: the folder {parent} does not exist; create it first")
        parent = parent.parent
    if not parent.is_dir():
        fail(f"{option} {path}: {parent} is not a folder; give a path inside a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"{option} {path}: the folder {parent} is not writable; give another path")


def incomplete_line(run_dir: Path, recorded: int, planned: int) -> str | None:
    """`6 of 9 trials recorded; ...` for a run that has not recorded every planned trial (a
    run stopped early, killed, or still going), else None."""
    if recorded >= planned:
        return None
    return (
        f"{recorded} of {planned} trials recorded; run `armbench resume {run_dir}` to run the rest"
    )


RateCardOption = Annotated[
    Path | None,
    typer.Option("--rate-card", help="Price with this TOML rate card instead of the run's own."),
]


def writable_folder(value: Path) -> Path:
    """`--out` checked while the command line is parsed: before a config is read or a pack
    fetched, and long before a run directory would fail to appear."""
    check_writable("--out", value, folder=True)
    return value


def writable_file(param: typer.CallbackParam, value: Path | None) -> Path | None:
    """An output file option checked while the command line is parsed (see check_writable)."""
    if value is not None:
        check_writable(param.opts[0] if param.opts else str(param.name), value)
    return value


OutOption = Annotated[
    Path,
    typer.Option("--out", help="Folder to create the run directory in.", callback=writable_folder),
]
MaxInfraOption = Annotated[
    int,
    typer.Option(
        "--max-infra-errors",
        min=0,
        help="Exit 3 when more trials than this end as infra_error (default: any).",
    ),
]
