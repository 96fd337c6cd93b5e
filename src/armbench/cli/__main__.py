"""`python -m armbench.cli`: the same as the `armbench` command."""

from armbench.cli import app

app()
