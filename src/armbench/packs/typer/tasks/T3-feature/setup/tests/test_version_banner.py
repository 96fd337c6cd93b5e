"""The specification of `typer.get_version_banner` (written by armbench; protected)."""

import inspect

import typer
from typer import get_version_banner


def test_default_banner() -> None:
    assert get_version_banner() == f"Typer {typer.__version__}"


def test_custom_prefix() -> None:
    assert get_version_banner(prefix="mycli") == f"mycli {typer.__version__}"
    assert get_version_banner("Tool") == f"Tool {typer.__version__}"


def test_uppercase_upper_cases_the_whole_banner() -> None:
    assert get_version_banner(uppercase=True) == f"TYPER {typer.__version__}".upper()
    assert get_version_banner("my-cli", uppercase=True) == f"MY-CLI {typer.__version__}".upper()


def test_empty_prefix_gives_the_version_alone() -> None:
    assert get_version_banner(prefix="") == typer.__version__


def test_signature() -> None:
    signature = inspect.signature(get_version_banner)
    assert list(signature.parameters) == ["prefix", "uppercase"]
    assert signature.parameters["prefix"].default == "Typer"
    assert signature.parameters["uppercase"].default is False
    assert signature.return_annotation in (str, "str")


def test_re_exported_from_the_package() -> None:
    assert typer.get_version_banner is get_version_banner
    assert get_version_banner.__module__.startswith("typer")
