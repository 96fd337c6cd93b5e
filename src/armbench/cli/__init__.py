"""The `armbench` command line: verbs only — parse, call, print. Each verb module registers
its commands on the one Typer `app` (armbench.cli.app); tables are drawn by
armbench.analysis.render_terminal, beside the other renderers."""

from armbench.cli import agents, imports, reading, runs, serve, tasks
from armbench.cli.app import app

__all__ = ["agents", "app", "imports", "reading", "runs", "serve", "tasks"]


def main() -> None:  # pragma: no cover - console entry point
    app()
