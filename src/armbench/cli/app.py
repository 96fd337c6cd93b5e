"""The Typer application every verb module registers on, and what they share: the consoles,
failing with a message and an exit status, and the options several verbs take."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

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
import_app = typer.Typer(
    help="Turn per-trial data published by other projects into armbench runs.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(tasks_app, name="tasks")
app.add_typer(import_app, name="import")

# Piped output is not cut to 80 columns: tables stay whole in files and logs.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    # soft_wrap: a path in the message must survive copy and paste, whatever the width.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


RateCardOption = Annotated[
    Path | None,
    typer.Option("--rate-card", help="Price with this TOML rate card instead of the run's own."),
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder to create the run directory in.")]
MaxInfraOption = Annotated[
    int,
    typer.Option(
        "--max-infra-errors",
        min=0,
        help="Exit 3 when more trials than this end as infra_error (default: any).",
    ),
]
