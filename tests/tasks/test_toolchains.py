"""Per-pack toolchains: a hashed lock built once into a cached virtualenv, its versions read
back and refused when they differ (offline: the lock's packages are wheels made here, found
through pip's own `PIP_FIND_LINKS` with the index off)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from armbench.checks import ToolchainError
from armbench.tasks import ToolchainSpec, lock_pins, toolchain_for
from armbench.tasks import toolchains as toolchains_module


def _wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal, valid pure-Python wheel of distribution `name`."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    records = []
    with zipfile.ZipFile(path, "w") as zf:
        for rel, text in files.items():
            data = text.encode()
            zf.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{rel},sha256={digest.decode()},{len(data)}")
        zf.writestr(f"{dist}/RECORD", "\n".join([*records, f"{dist}/RECORD,,"]) + "\n")
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def offline_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("ARMBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setattr(toolchains_module, "_READY", {})
    return wheels


def test_lock_pins_reads_every_pin_and_refuses_an_unhashed_one() -> None:
    text = (
        "# comment\nmypy==2.1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "Ruff==0.15.14 --hash=sha256:cc\n"
    )
    assert lock_pins(text) == {"mypy": "2.1.0", "ruff": "0.15.14"}
    with pytest.raises(ToolchainError, match="no --hash"):
        lock_pins("pytest==9.0.3\n")
    with pytest.raises(ToolchainError, match="not `name==version`"):
        lock_pins("pytest>=9 --hash=sha256:aa\n")


def test_the_typer_lock_pins_the_checkers_the_issue_names() -> None:
    from armbench.tasks import BUILTIN_PACKS

    pins = lock_pins((BUILTIN_PACKS / "typer" / "toolchain.lock").read_text())
    expected = {"mypy": "2.1.0", "ruff": "0.15.14", "pytest": "9.0.3", "pytest-xdist": "3.8.0"}
    assert expected.items() <= pins.items()
    assert {"pytest-cov", "coverage", "shellingham", "rich", "annotated-doc"} <= pins.keys()


def test_a_lock_is_built_once_read_back_and_refused_once_it_drifts(
    tmp_path: Path, offline_index: Path
) -> None:
    wheel = _wheel(offline_index, "dummy_checker", "1.2.3")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "toolchain.lock").write_text(f"dummy_checker==1.2.3 --hash=sha256:{_sha(wheel)}\n")
    spec = ToolchainSpec(lock="toolchain.lock")
    toolchain = toolchain_for(spec, pack)
    assert toolchain.versions == {"dummy-checker": "1.2.3"}
    assert toolchain.lock_sha256 == _sha(pack / "toolchain.lock")
    done = subprocess.run(
        [toolchain.python, "-c", "import dummy_checker, sys; print(dummy_checker.VERSION)"],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "1.2.3"
    # Drift: another version installed into the cached toolchain by hand.
    other = _wheel(offline_index, "dummy_checker", "9.9.9")
    subprocess.run(
        [toolchain.python, "-m", "pip", "install", "-q", "--no-deps", str(other)], check=True
    )
    toolchains_module._READY.clear()
    with pytest.raises(ToolchainError, match=r"dummy-checker 9\.9\.9 \(pinned 1\.2\.3\)"):
        toolchain_for(spec, pack)


def test_a_file_that_is_not_the_locked_one_stops_the_build(
    tmp_path: Path, offline_index: Path
) -> None:
    _wheel(offline_index, "dummy_checker", "1.2.3")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "toolchain.lock").write_text(f"dummy_checker==1.2.3 --hash=sha256:{'0' * 64}\n")
    with pytest.raises(ToolchainError, match=r"hash mismatch|HASHES|do not match"):
        toolchain_for(ToolchainSpec(lock="toolchain.lock"), pack)
    assert not list((tmp_path / "cache" / "toolchains").glob("*/built.txt"))


def test_an_existing_interpreter_is_held_to_its_expected_versions(offline_index: Path) -> None:
    from armbench.checks import pinned_versions

    pins = pinned_versions()
    ok = ToolchainSpec(python=sys.executable, expect={"mypy": pins["mypy"]})
    assert toolchain_for(ok, Path(".")).versions == {"mypy": pins["mypy"]}
    wrong = ToolchainSpec(python=sys.executable, expect={"mypy": "0.0.1"})
    with pytest.raises(ToolchainError, match=r"mypy .* \(pinned 0\.0\.1\)"):
        toolchain_for(wrong, Path("."))


def test_a_toolchain_spec_takes_one_way() -> None:
    with pytest.raises(ValueError, match="either"):
        ToolchainSpec()
    with pytest.raises(ValueError, match="absolute"):
        ToolchainSpec(python="python3")
