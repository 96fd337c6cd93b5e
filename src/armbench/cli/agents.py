"""`armbench agents list|install`: the external agents an `external` arm can run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from armbench.cli.app import agents_app, err, fail, out


@agents_app.command("list")
def list_agents(
    names: Annotated[
        list[str] | None, typer.Argument(help="Agents to list (default: all).")
    ] = None,
) -> None:
    """Each agent: how it is installed, the version armbench pins, and whether that version
    is installed in the cache. Exit status: 0; 2 an unknown agent."""
    from armbench.arms.external import ADAPTERS, AgentInstallError, installed

    unknown = sorted(set(names or ()) - set(ADAPTERS))
    if unknown:
        fail(f"unknown agent {', '.join(unknown)} (known: {', '.join(ADAPTERS)})")
    for adapter in (ADAPTERS[n] for n in names or ADAPTERS):
        if adapter.installer == "none":
            out.print(f"{adapter.name}\t(your own command; nothing to install)", highlight=False)
            continue
        try:
            where = str(installed(adapter, adapter.version))
        except AgentInstallError:
            where = "not installed"
        requirement = adapter.requirement(adapter.version)
        out.print(f"{adapter.name}\t{adapter.installer} {requirement}\t{where}", highlight=False)


@agents_app.command("install")
def install(
    names: Annotated[
        list[str] | None, typer.Argument(help="Agents to install (default: every one).")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="A version other than the pinned one.")
    ] = None,
) -> None:
    """Install agents into their cached environments (a run does it too, before its first
    trial; this does it ahead, e.g. before going offline). Needs the package registry (PyPI,
    npm). Exit status: 0 installed; 2 an unknown agent or a failed install."""
    from armbench.arms.external import ADAPTERS, AgentInstallError, ensure

    chosen = names or [n for n, a in ADAPTERS.items() if a.installer != "none"]
    unknown = sorted(set(chosen) - set(ADAPTERS))
    if unknown:
        fail(f"unknown agent {', '.join(unknown)} (known: {', '.join(ADAPTERS)})")
    for name in chosen:
        adapter = ADAPTERS[name]
        pinned = version or adapter.version
        err.print(f"installing {escape(name)} {escape(pinned)} ...", highlight=False)
        try:
            folder = ensure(adapter, pinned)
        except AgentInstallError as exc:
            fail(str(exc))
        out.print(f"{name}\t{folder}", highlight=False)
