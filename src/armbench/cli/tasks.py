"""`armbench tasks list|validate` and `armbench inject`: packs, their tasks, and breaking a
green repository on purpose."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from armbench.cli.app import app, err, fail, out, tasks_app


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


@tasks_app.command("list")
def tasks_list(
    pack: Annotated[
        str | None, typer.Argument(help="A pack name or folder; all built-in packs if absent.")
    ] = None,
) -> None:
    """List packs and their tasks."""
    from armbench.analysis.render_terminal import print_packs
    from armbench.tasks import TaskFileError, builtin_pack_names, load_pack

    try:
        packs = [load_pack(name) for name in ([pack] if pack else builtin_pack_names())]
    except TaskFileError as exc:
        fail(str(exc), code=2)
    print_packs(packs, out)


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
    from armbench.tasks import TaskFileError, load_pack

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
