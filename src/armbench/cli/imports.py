"""`armbench import fep|hce`: published per-trial data of other projects as armbench runs.

The importers (armbench.importers) are loaded when a command runs, so the CLI starts as fast
without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from armbench.cli.app import err, fail, import_app, writable_folder

if TYPE_CHECKING:
    from armbench.importers.common import ImportedRun

OutOption = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Folder to create the run directory in (like `armbench run --out`).",
        callback=writable_folder,
    ),
]


def _write(run: ImportedRun, out_dir: Path) -> None:
    from collections import Counter

    from armbench.importers.common import ImportDataError, write_run

    try:
        run_dir = write_run(run, out_dir)
    except ImportDataError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {out_dir}: cannot write the run ({exc.strerror or exc})")
    statuses = Counter(t.status for t in run.trials)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    err.print(f"imported {len(run.trials)} trials ({summary})", highlight=False)
    for note in run.notes:
        err.print(f"  note: {note}", highlight=False, soft_wrap=True)
    typer.echo(str(run_dir.path))


@import_app.command()
def fep(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="The data folder (its *.jsonl files, else its trials.csv), trials.csv, or "
            "one or more of A.jsonl … D.jsonl."
        ),
    ],
    out_dir: OutOption,
) -> None:
    """Import free-executor-paradox's trials (arms A–D × tasks T1–T3) as a run.

    Every row becomes a trial priced with the study's own rate card; rows that are API
    failures become infra errors with their class. Prints the run directory. Exit 2 on bad
    input, naming the file, line and field; nothing is written then.
    """
    from armbench.importers import fep as importer
    from armbench.importers.common import ImportDataError

    try:
        run = importer.load(paths)
    except ImportDataError as exc:
        fail(str(exc))
    _write(run, out_dir)


@import_app.command()
def hce(
    path: Annotated[
        Path,
        typer.Argument(
            help="A raw.jsonl, or the folder holding it; a pricing_tables.json beside it "
            "prices the run."
        ),
    ],
    out_dir: OutOption,
) -> None:
    """Import a hybrid-coding-eval sweep (routes R1… × tasks) as a run.

    Each route is a routed arm; its local and cloud tokens become ledger rows priced with the
    study's pricing_tables.json when present. Rows without a functional verdict are left out
    and listed in the manifest. Prints the run directory. Exit 2 on bad input, naming the
    file, line and field; nothing is written then.
    """
    from armbench.importers import hce as importer
    from armbench.importers.common import ImportDataError

    try:
        run = importer.load(path)
    except ImportDataError as exc:
        fail(str(exc))
    _write(run, out_dir)
