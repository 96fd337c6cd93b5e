"""`armbench tasks make` end to end on a small fixture repository (tests/data/make/shapes):
every kind kept and validated, the pack it writes accepted by `tasks validate` and `run`; a
red repository, an existing output or a bad flag refused with nothing written.

And a pack on an upstream source with a toolchain of its own, run end to end: the fixture comes
from a hashed archive, the judge uses the pack's interpreter, the manifest records both.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from armbench.checks import pinned_versions
from armbench.tasks import load_pack

pytestmark = pytest.mark.slow

ARMBENCH = [sys.executable, "-m", "armbench.cli"]
SHAPES = Path(__file__).resolve().parents[1] / "data" / "make" / "shapes"


def _armbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARMBENCH, *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("made") / "shapes-pack"
    done = _armbench("tasks", "make", str(SHAPES), "--out", str(out), "--seed", "1")
    return out, done


def test_tasks_make_keeps_a_validated_task_of_every_kind(
    made: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = made
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kept breakage-1: validated" in done.stdout
    assert "kept move-1: validated" in done.stdout
    assert "kept implement-1: validated" in done.stdout
    pack = load_pack(str(out))
    kinds = {t.id.split("-")[0] for t in pack.tasks}
    assert kinds == {"breakage", "move", "implement"}
    move = pack.task("move-1")
    assert any(g.kind == "moved_function" for g in move.spec.gates)  # type: ignore[union-attr]
    implement = pack.task("implement-1")
    assert implement.spec.protected  # type: ignore[union-attr]


def test_the_made_pack_is_an_ordinary_pack_that_validate_accepts(
    made: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = made
    assert done.returncode == 0
    validated = _armbench("tasks", "validate", str(out), "--repeats", "1")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.count("ok ") == 3


def test_a_red_repository_is_refused_in_seconds_and_nothing_is_written(tmp_path: Path) -> None:
    repo = tmp_path / "red"
    shutil.copytree(SHAPES, repo)
    (repo / "shapes" / "units.py").write_text(
        (repo / "shapes" / "units.py").read_text() + "\n\ndef bad() -> int:\n    return 'x'\n"
    )
    out = tmp_path / "pack"
    done = _armbench("tasks", "make", str(repo), "--out", str(out))
    assert done.returncode == 1
    assert "not green under mypy" in done.stderr and "shapes/units.py" in done.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["red"]  # no staging folder left behind


def test_bad_flags_exit_2_naming_them(tmp_path: Path) -> None:
    kinds = _armbench("tasks", "make", str(SHAPES), "--out", str(tmp_path / "p"), "--kinds", "x")
    assert kinds.returncode == 2 and "--kinds" in kinds.stderr
    env = _armbench(
        "tasks", "make", str(SHAPES), "--out", str(tmp_path / "p"), "--env", "MY_TOKEN=1"
    )
    assert env.returncode == 2 and "MY_TOKEN" in env.stderr
    (tmp_path / "exists").mkdir()
    exists = _armbench("tasks", "make", str(SHAPES), "--out", str(tmp_path / "exists"))
    assert exists.returncode == 2 and "exists" in exists.stderr


def _source_pack(root: Path, sha256: str) -> Path:
    """A pack whose fixture is an archive of the shapes repository and whose judge uses an
    interpreter named in the pack, held to armbench's pinned versions."""
    pins = pinned_versions()
    task = load_pack(str(made_pack_of(root))).task("implement-1")
    pack = root / "source-pack"
    shutil.copytree(task.folder, pack / "tasks" / "implement-1")
    spec = yaml.safe_load((pack / "tasks" / "implement-1" / "task.yaml").read_text())
    del spec["fixture"]  # the pack's source
    (pack / "tasks" / "implement-1" / "task.yaml").write_text(yaml.safe_dump(spec))
    (pack / "pack.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "from-source",
                "source": {"kind": "archive", "archive": "shapes-0.1.0.tar.gz", "sha256": sha256},
                "toolchain": {"python": sys.executable, "expect": {k: pins[k] for k in pins}},
                "env": {"SHAPES_HOME": "${HOME}"},
            }
        )
    )
    return pack


def made_pack_of(root: Path) -> Path:
    return root / "made"


def test_a_source_pack_with_its_own_toolchain_runs_and_is_recorded(
    made: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, done = made
    assert done.returncode == 0
    shutil.copytree(out, made_pack_of(tmp_path))
    archive = tmp_path / "shapes-0.1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(SHAPES, arcname="shapes-0.1.0")
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    pack = _source_pack(tmp_path, sha256)
    shutil.move(archive, pack / archive.name)
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "sourced",
                "pack": str(pack),
                "replicates": 1,
                "models": {"m": {"provider": "sim", "skill": 1.0}},
                "arms": {"solo": {"kind": "solo", "model": "m"}},
                "rate_card": str(tmp_path / "prices.toml"),
            }
        )
    )
    (tmp_path / "prices.toml").write_text('[models."sim/m"]\nlocal = true\n')
    env_cache = tmp_path / "cache"
    monkeypatch.setenv("ARMBENCH_CACHE", str(env_cache))
    ran = subprocess.run(
        [*ARMBENCH, "run", str(config), "--out", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run_dir = Path(ran.stdout.strip().splitlines()[-1].split()[-1])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    recorded = manifest["toolchains"]["from-source"]
    assert recorded["source"]["sha256"] == sha256
    assert recorded["toolchain"]["python"] == sys.executable
    assert recorded["toolchain"]["versions"]["mypy"] == pinned_versions()["mypy"]
    assert recorded["fixture"].startswith(str(env_cache))
    assert manifest["checkers"] == {}  # no task used armbench's own pins
    # A pin that no longer matches is refused before any directory is made.
    text = (pack / "pack.yaml").read_text().replace(sha256, "f" * 64)
    (pack / "pack.yaml").write_text(text)
    shutil.rmtree(env_cache)
    refused = subprocess.run(
        [*ARMBENCH, "run", str(config), "--out", str(tmp_path / "runs2")],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "shapes-0.1.0.tar.gz has sha256" in refused.stderr
    assert not (tmp_path / "runs2").exists()
