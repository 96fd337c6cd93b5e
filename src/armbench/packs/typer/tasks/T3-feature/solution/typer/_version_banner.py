"""A one-line banner naming the installed typer version."""

from . import __version__


def get_version_banner(prefix: str = "Typer", uppercase: bool = False) -> str:
    """`"<prefix> <version>"` (the version alone when `prefix` is empty), upper-cased whole
    when `uppercase`."""
    banner = f"{prefix} {__version__}" if prefix else __version__
    return banner.upper() if uppercase else banner
