"""A key the agent reads from a file is masked everywhere armbench writes or prints it.

The API key of a real provider is in armbench's environment; a careless repository also has it
in a file. The agent (the sim behind serve-sim, over the real OpenAI SDK) `cat`s that file as
its check command, and the task's test prints it when it fails, so the key reaches a tool
result (the transcript) and a gate's output (the trial record). Neither may hold it in clear,
nor may the export or anything the CLI prints; each shows `[REDACTED]` where the key was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from armbench.core import MASK
from armbench.serve import SimServer
from armbench.tasks.packs import load_pack

pytestmark = pytest.mark.slow

ARMBENCH = [sys.executable, "-m", "armbench.cli"]
KEY_ENV = "ARMBENCH_GUARD_KEY"
KEY = "sk-guard-" + "f00dfeed" * 4
PROMPT = "Make `greet` in app.py return 'hello NAME'. Check with `cat notes.txt`."


def make_pack(root: Path) -> Path:
    files = {
        "pack.yaml": "name: leaky\n",
        "tasks/leak/task.yaml": yaml.safe_dump(
            {
                "id": "leak",
                "title": "A repository with a key in it",
                "prompt": PROMPT,
                "fixture": "fixture",
                "solution": {"overlay": "solution"},
                "gates": [{"kind": "pytest"}],
                "check_commands": ["cat notes.txt"],
            }
        ),
        "tasks/leak/fixture/notes.txt": f"OPENAI_API_KEY={KEY}\n",
        "tasks/leak/fixture/app.py": "def greet(name):\n    return 'hi ' + name\n",
        "tasks/leak/fixture/test_notes.py": (
            "from pathlib import Path\n\n\n"
            "def test_the_notes_are_printed_when_this_fails():\n"
            "    assert False, Path('notes.txt').read_text()\n"
        ),
        "tasks/leak/solution/app.py": "def greet(name):\n    return 'hello ' + name\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pack(tmp_path_factory.mktemp("leaky"))


@pytest.fixture(scope="module")
def server(pack_dir: Path) -> Iterator[SimServer]:
    with SimServer("openai", pack=load_pack(str(pack_dir)), default_skill=1.0).start() as s:
        yield s


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ARMBENCH, *args],
        capture_output=True,
        text=True,
        env={**os.environ, KEY_ENV: KEY},
        timeout=600,
    )


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, pack_dir: Path, server: SimServer
) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    tmp = tmp_path_factory.mktemp("run")
    card = tmp / "card.toml"
    card.write_text('[models."openai/gpt-5"]\ninput = 1.25\noutput = 10.0\ncache_read = 0.125\n')
    config = tmp / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "leaky",
                "pack": str(pack_dir),
                "rate_card": str(card),
                "models": {
                    "m": {
                        "provider": "openai",
                        "model": "gpt-5",
                        "base_url": server.sdk_base_url,
                        "api_key_env": KEY_ENV,
                    }
                },
                "arms": {"solo": {"kind": "solo", "model": "m"}},
            }
        )
    )
    ran = cli("run", str(config), "--out", str(tmp / "runs"))
    assert ran.returncode == 0, ran.stderr
    run_dir = Path(ran.stdout.strip().splitlines()[-1])
    outputs = [
        ran,
        cli("show", str(run_dir)),
        cli("export", str(run_dir)),
        cli("export", str(run_dir), "--calls", "--format", "csv"),
        cli("report", str(run_dir), "--json", str(tmp / "report.json")),
    ]
    return run_dir, outputs


def test_the_agent_read_the_key_and_the_transcript_masks_it(
    run: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    run_dir, _ = run
    (transcript,) = (run_dir / "transcripts").glob("*.json")
    text = transcript.read_text()
    assert "cat notes.txt" in text  # the agent really read the file
    assert f"OPENAI_API_KEY={MASK}" in text
    assert KEY not in text


def test_the_gate_output_in_the_database_masks_it(
    run: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    run_dir, _ = run
    with sqlite3.connect(run_dir / "armbench.sqlite") as db:
        rows = db.execute("SELECT output_tail, details FROM gates WHERE name = 'pytest'").fetchall()
    ((tail, details),) = rows
    assert MASK in tail and MASK in details  # the failing test printed the notes
    assert KEY not in tail and KEY not in details


def test_no_file_of_the_run_and_nothing_printed_holds_the_key(
    run: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    run_dir, outputs = run
    for path in run_dir.rglob("*"):
        # prepared/ is the repository itself, key and all: armbench wrote what it was given.
        if path.is_file() and "prepared" not in path.relative_to(run_dir).parts:
            assert KEY.encode() not in path.read_bytes(), path
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert KEY not in result.stdout and KEY not in result.stderr, result.args
