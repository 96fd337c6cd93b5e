"""Pack sources: fetched once, checked by hash, unpacked with a baseline, reused, refused when
anything differs (offline: archives made here; pip's download is replaced by a fake)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from armbench.tasks import ArchiveSource, PathSource, PypiSource, SourceError, materialize
from armbench.tasks import sources as sources_module


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ARMBENCH_CACHE", str(cache))
    return cache


def _tarball(path: Path, files: dict[str, str], top: str = "proj-1.0") -> str:
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


FILES = {"proj/__init__.py": "X = 1\n", "tests/test_x.py": "def test_x() -> None:\n    pass\n"}


def test_an_archive_is_unpacked_without_its_top_folder_with_a_gitignore_and_a_baseline(
    tmp_path: Path,
) -> None:
    digest = _tarball(tmp_path / "proj-1.0.tar.gz", FILES)
    source = ArchiveSource(kind="archive", archive="proj-1.0.tar.gz", sha256=digest)
    tree = materialize(source, tmp_path, ignored=("out/",))
    assert (tree / "proj" / "__init__.py").read_text() == "X = 1\n"
    ignore = (tree / ".gitignore").read_text().splitlines()
    assert {"coverage/", ".coverage.*", "__pycache__/", "out/"} <= set(ignore)
    if shutil.which("git"):
        log = subprocess.run(
            ["git", "-C", str(tree), "log", "--oneline"], capture_output=True, text=True
        )
        assert "baseline" in log.stdout
        status = subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain"], capture_output=True, text=True
        )
        assert status.stdout == ""
    # Reused, not fetched again: the archive may be gone.
    (tmp_path / "proj-1.0.tar.gz").unlink()
    assert materialize(source, tmp_path) == tree


def test_a_hash_that_differs_is_refused_and_nothing_is_cached(tmp_path: Path, _cache: Path) -> None:
    _tarball(tmp_path / "proj-1.0.tar.gz", FILES)
    source = ArchiveSource(kind="archive", archive="proj-1.0.tar.gz", sha256="0" * 64)
    with pytest.raises(SourceError, match=r"has sha256 .* but the pack pins 0{64}"):
        materialize(source, tmp_path)
    assert not list((_cache / "sources").glob("archive-*/tree"))


def test_a_cached_tree_that_changed_is_refused(tmp_path: Path) -> None:
    digest = _tarball(tmp_path / "proj-1.0.tar.gz", FILES)
    source = ArchiveSource(kind="archive", archive="proj-1.0.tar.gz", sha256=digest)
    tree = materialize(source, tmp_path)
    (tree / "proj" / "__init__.py").write_text("X = 2\n")
    with pytest.raises(SourceError, match=r"changed since it was fetched.*delete"):
        materialize(source, tmp_path)


def test_a_missing_archive_or_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        materialize(ArchiveSource(kind="archive", archive="nope.tar.gz", sha256="0" * 64), tmp_path)
    with pytest.raises(SourceError, match="no such folder"):
        materialize(PathSource(kind="path", path="nowhere"), tmp_path)
    (tmp_path / "here").mkdir()
    assert materialize(PathSource(kind="path", path="here"), tmp_path) == tmp_path / "here"


def test_a_zip_member_that_leaves_the_archive_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.py", "x = 1\n")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(SourceError, match="leaves the archive"):
        materialize(ArchiveSource(kind="archive", archive="evil.zip", sha256=digest), tmp_path)
    assert not (tmp_path / "outside.py").exists()


def _fake_pip(archive: Path | None, code: int = 0) -> Any:
    real_run = subprocess.run

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if argv[0] == "git":
            return real_run(argv, **kwargs)
        assert argv[1:5] == ["-m", "pip", "download", "--no-deps"]
        assert "--no-binary" in argv and argv[-1] == "proj==1.0"
        if archive is not None:
            target = Path(argv[argv.index("-d") + 1])
            shutil.copyfile(archive, target / archive.name)
        return subprocess.CompletedProcess(argv, code, "", "ERROR: No matching distribution")

    return run


def test_a_pypi_sdist_is_downloaded_with_pip_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = _tarball(tmp_path / "proj-1.0.tar.gz", FILES)
    monkeypatch.setattr(sources_module.subprocess, "run", _fake_pip(tmp_path / "proj-1.0.tar.gz"))
    source = PypiSource(kind="pypi", name="proj", version="1.0", sha256=digest)
    tree = materialize(source, tmp_path)
    assert (tree / "tests" / "test_x.py").is_file()


def test_a_download_that_fails_names_the_source_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module.subprocess, "run", _fake_pip(None, code=1))
    source = PypiSource(kind="pypi", name="proj", version="1.0", sha256="1" * 64)
    with pytest.raises(SourceError) as caught:
        materialize(source, tmp_path)
    message = str(caught.value)
    assert "PyPI sdist proj==1.0" in message and "No matching distribution" in message
    assert "kind: archive" in message
