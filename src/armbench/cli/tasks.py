"""`armbench tasks list|validate` and `armbench inject`: packs, their tasks, and breaking a
green repository on purpose."""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from armbench.checks import CheckArgs
from armbench.cli.app import (
    EXIT_FAILED,
    app,
    check_writable,
    err,
    fail,
    out,
    tasks_app,
    writable_file,
)


def interpreter(value: str) -> str:
    """`--python` checked while the command line is parsed: an interpreter that cannot be
    started is bad input (exit 2) before anything is copied, prepared or changed."""
    if shutil.which(value) is None:
        fail(
            f"--python {value}: no such interpreter (or not executable); give the path of a "
            f"Python that has the project's checkers, e.g. {sys.executable}"
        )
    return value


MypyArgsOption = Annotated[
    str | None,
    typer.Option(
        "--mypy-args",
        help="Arguments after `python -m mypy` (one string), e.g. `typer`. Default: the "
        "project's configured `files`.",
    ),
]
RuffArgsOption = Annotated[
    str | None,
    typer.Option(
        "--ruff-args",
        help="Arguments after `python -m ruff check`, e.g. `typer tests`. Default: `.`.",
    ),
]
PytestArgsOption = Annotated[
    str | None,
    typer.Option(
        "--pytest-args", help="Arguments after `python -m pytest`, e.g. `-p xdist -n auto`."
    ),
]
EnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        help="NAME=VALUE the project's tests need (repeatable); `${WORKDIR}` and `${HOME}` in a "
        "value become the command's folder and HOME. Names that look like secrets are refused.",
    ),
]
ChecksFileOption = Annotated[
    Path | None,
    typer.Option(
        "--checks",
        help="A YAML file with `checks:` (mypy/ruff/pytest argument lists) and `env:`, as in a "
        "pack.yaml (a pack.yaml itself will do); the flags above override it.",
        exists=True,
        dir_okay=False,
    ),
]


def checker_setup(
    checks_file: Path | None,
    mypy_args: str | None,
    ruff_args: str | None,
    pytest_args: str | None,
    env: list[str] | None,
) -> tuple[CheckArgs, dict[str, str]]:
    """The checker arguments and test variables the flags (over `--checks FILE`) give; exit 2
    naming the flag or the file's field when one is wrong."""
    from armbench.core import format_validation_error
    from armbench.tasks import PackSpec, TaskFileError
    from armbench.tasks.packs import read_yaml

    spec = PackSpec()
    if checks_file is not None:
        try:
            raw = read_yaml(checks_file) or {}
            if not isinstance(raw, dict):
                fail(f"--checks {checks_file}: not a mapping with `checks:` and `env:`")
            spec = PackSpec.model_validate({k: v for k, v in raw.items() if k in ("checks", "env")})
        except TaskFileError as exc:
            fail(f"--checks {exc}")
        except ValidationError as exc:
            fail(f"--checks {checks_file}: {format_validation_error(exc)}")
    args = spec.checks.args()
    for name, value in {"mypy": mypy_args, "ruff": ruff_args, "pytest": pytest_args}.items():
        if value is not None:
            try:
                args = dataclasses.replace(args, **{name: tuple(shlex.split(value))})
            except ValueError as exc:
                fail(f"--{name}-args {value!r}: {exc}")
    variables = dict(spec.env)
    for item in env or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"--env {item!r}: give NAME=VALUE")
        variables[name] = value
    try:
        PackSpec(env=variables)
    except ValidationError as exc:
        fail(f"--env: {format_validation_error(exc)}")
    return args, variables


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
        str,
        typer.Option("--python", help="Interpreter that runs the checkers.", callback=interpreter),
    ] = sys.executable,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="Write the mutations and their inverses here (JSON).",
            callback=writable_file,
        ),
    ] = None,
    checks_file: ChecksFileOption = None,
    mypy_args: MypyArgsOption = None,
    ruff_args: RuffArgsOption = None,
    pytest_args: PytestArgsOption = None,
    env: EnvOption = None,
) -> None:
    """Break REPO with exactly the requested mypy, ruff and pytest-collection errors.

    Mutations come from a catalogue of realistic mistakes; the checkers are run to confirm each
    adds exactly one error of its kind (mypy and ruff, then `pytest --collect-only`: the tests
    themselves are not run). The same repo and seed give byte-identical results. On failure the
    repo is left untouched; --manifest records every mutation and its inverse. A real project
    usually needs its checker arguments and test variables, e.g. typer:

        armbench inject typer-0.26.8 --mypy 10 --ruff 10 --collect 5 --python PY
            --mypy-args typer --ruff-args "typer tests docs_src scripts"
            --env TERMINAL_WIDTH=3000 --env 'PYTHONPATH=${WORKDIR}'

    Exit status: 0 done; 1 the repository is not green or cannot take the errors asked for
    (left untouched); 2 bad flags, --python or --manifest (checked before REPO is touched).
    """
    from armbench.checks import JUDGED_ENV
    from armbench.store import write_atomic
    from armbench.tasks.inject import InjectionError, InjectionRequest, restore
    from armbench.tasks.inject import inject as do_inject

    if mypy + ruff + collect == 0:
        fail("nothing to inject: give --mypy, --ruff and/or --collect")
    args, variables = checker_setup(checks_file, mypy_args, ruff_args, pytest_args, env)
    try:
        result = do_inject(
            repo,
            InjectionRequest(mypy=mypy, ruff=ruff, collect=collect, seed=seed),
            python=python,
            extra_env={**JUDGED_ENV, **variables},
            args=args,
        )
    except InjectionError as exc:
        fail(str(exc), code=EXIT_FAILED)
    if manifest is not None:
        try:
            write_atomic(manifest, result.model_dump_json(indent=2) + "\n")
        except OSError as exc:  # checked up front; still, never leave REPO broken without it
            restore(repo, result)
            fail(f"--manifest {manifest}: cannot write it ({exc.strerror}); {repo} was restored")
    for m in result.mutations:
        out.print(f"{m.kind:8} {m.path}:{m.line}  {m.operator}: {m.description}", highlight=False)
    if manifest is not None:
        err.print(f"manifest: {manifest}")


@tasks_app.command("make")
def tasks_make(
    repo: Annotated[
        Path,
        typer.Argument(
            help="Your Python repository, green under its mypy, ruff and pytest.",
            exists=True,
            file_okay=False,
        ),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="The pack folder to write (must not exist).")
    ],
    python: Annotated[
        str,
        typer.Option(
            "--python",
            help="Interpreter with the project's checkers and test dependencies; its mypy, "
            "ruff and pytest versions are pinned in the pack. Default: armbench's own.",
            callback=interpreter,
        ),
    ] = sys.executable,
    kinds: Annotated[
        str, typer.Option("--kinds", help="Comma-separated: breakage, move, implement.")
    ] = "breakage,move,implement",
    count: Annotated[int, typer.Option("--count", min=1, help="Tasks of each kind to keep.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Chooses the candidates and injections.")] = 0,
    checks_file: ChecksFileOption = None,
    mypy_args: MypyArgsOption = None,
    ruff_args: RuffArgsOption = None,
    pytest_args: PytestArgsOption = None,
    env: EnvOption = None,
) -> None:
    """Build a pack of validated tasks from REPO: breakage (injected errors), move (a function
    moved to a new module, judged from the AST) and implement (a tested function's body
    removed, its tests protected).

    Every candidate is validated before it is kept: its prepared workspace fails the judge, its
    reference solution passes, three times each, with no flaky gate. What was kept and why the
    rest was dropped is printed; the pack is an ordinary folder for `armbench run` and `armbench
    tasks validate`. Nothing is written unless at least one task is kept. Exit status: 0 a
    pack was written; 1 the repository is not green or no candidate passed validation; 2 bad
    flags, --python or --out (an existing folder, or one that cannot be created).
    """
    from armbench.judge.make_pack import KINDS, MakeError, Outcome, make_pack

    wanted = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in wanted if k not in KINDS]
    if unknown or not wanted:
        fail(f"--kinds {kinds!r}: choose from {', '.join(KINDS)}")
    if out_dir.exists():
        fail(f"--out {out_dir}: exists; give a new folder for the pack")
    check_writable("--out", out_dir)  # its parent must exist: the pack is staged beside it
    args, variables = checker_setup(checks_file, mypy_args, ruff_args, pytest_args, env)

    def report(outcome: Outcome) -> None:
        mark = "[green]kept[/]" if outcome.kept else "[yellow]dropped[/]"
        out.print(f"{mark} {outcome.task_id}: {escape(outcome.reason)}", highlight=False)

    err.print(f"making tasks from {repo} (each candidate is validated; this takes a while)")
    try:
        outcomes = make_pack(
            repo,
            out_dir,
            python=python,
            kinds=wanted,  # type: ignore[arg-type]
            count=count,
            seed=seed,
            args=args,
            env=variables,
            on_outcome=report,
        )
    except MakeError as exc:
        fail(str(exc), code=EXIT_FAILED)
    kept = [o for o in outcomes if o.kept]
    by_kind = ", ".join(f"{sum(o.kind == k for o in kept)} {k}" for k in wanted)
    out.print(
        f"pack {out_dir}: {len(kept)} tasks kept ({by_kind}), {len(outcomes) - len(kept)} dropped"
    )


@tasks_app.command("list")
def tasks_list(
    pack: Annotated[
        str | None, typer.Argument(help="A pack name or folder; all built-in packs if absent.")
    ] = None,
) -> None:
    """List packs and their tasks. Exit status: 0; 2 a pack that cannot be loaded."""
    from armbench.analysis.render_terminal import print_packs
    from armbench.tasks import TaskFileError, builtin_pack_names, load_pack

    try:
        packs = [load_pack(name) for name in ([pack] if pack else builtin_pack_names())]
    except TaskFileError as exc:
        fail(str(exc))
    print_packs(packs, out)


@tasks_app.command("validate")
def tasks_validate(
    pack: Annotated[str, typer.Argument(help="A pack name or folder.")],
    repeats: Annotated[
        int, typer.Option("--repeats", min=1, help="Judge each state this many times.")
    ] = 3,
    python: Annotated[
        str,
        typer.Option("--python", help="Interpreter that runs the checkers.", callback=interpreter),
    ] = sys.executable,
) -> None:
    """Check that every task of PACK can discriminate: untouched fails, reference passes.

    Each state is judged REPEATS times; a gate whose verdict changes is reported as flaky.
    Exit status: 0 every task is sound; 1 a task failed validation; 2 a pack that cannot be
    loaded or a bad --python.
    """
    from armbench.judge.validate import TaskValidation, validate_pack
    from armbench.tasks import TaskFileError, load_pack

    try:
        loaded = load_pack(pack)
    except TaskFileError as exc:
        fail(str(exc))

    def on_task(result: TaskValidation) -> None:
        mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
        out.print(f"{mark} {loaded.name}/{result.task}")
        for problem in result.problems:
            out.print(f"    {problem}", highlight=False)

    results = validate_pack(loaded, python=python, repeats=repeats, on_task=on_task)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)
