"""Leases: a killed execution's leftovers are found and removed — by its watchdog, or by the
next run — and nothing of a live execution, or of another user, is ever touched.

Each "execution" here is a small process that takes a lease in a private temporary folder,
fills its scratch folder, and starts a `sleep` carrying the lease's marker in a session of its
own, as a checker's child or an agent's background shell would be: SIGKILL the holder and the
`sleep` lives on, as it did before leases.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from armbench.runner import leases
from armbench.runner.cleanup import base_tempdir, temporary_folders_in

HOLDER = """
import os, subprocess, sys, time
from pathlib import Path
from armbench.runner import leases

tempdir, mode, mark = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
lease = leases.take(
    tempdir, run_id="run-x", run_dir=tempdir, variable="ARMBENCH_RUN", groups=None,
    group_prefix="cmd-", watchdog=mode != "bare",
)
(lease.scratch / "repo").mkdir()
(lease.scratch / "repo" / "big").write_bytes(b"x" * 3 * 2**20)
child = subprocess.Popen(
    ["sleep", mark], env={**os.environ, "ARMBENCH_RUN": lease.id}, start_new_session=True
)
print(lease.id, lease.scratch, child.pid, flush=True)
if mode == "release":
    child.kill()
    child.wait()
    leases.release(lease)
    print("released", flush=True)
time.sleep(600)
"""


@dataclass
class Holder:
    proc: subprocess.Popen[str]
    lease_id: str
    scratch: Path
    child: int


@pytest.fixture
def holders(tmp_path: Path) -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        for pid in (holder.proc.pid, holder.child):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        holder.proc.wait()


def _hold(tempdir: Path, mode: str, mark: str, started: list[Holder]) -> Holder:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tempdir), mode, mark], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lease_id, scratch, child = proc.stdout.readline().split()
    holder = Holder(proc, lease_id, Path(scratch), int(child))
    started.append(holder)
    return holder


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _until(condition: object, deadline_s: float = 30) -> bool:
    """Poll `condition` until it holds or `deadline_s` passes (a generous bound: this is not
    a timing assertion)."""
    assert callable(condition)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _kill(holder: Holder) -> None:
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait()


def test_a_dead_executions_leftovers_are_removed_and_a_live_ones_kept(
    tmp_path: Path, holders: list[Holder]
) -> None:
    dead = _hold(tmp_path, "bare", "4242.1", holders)
    live = _hold(tmp_path, "bare", "4242.2", holders)
    _kill(dead)
    assert _alive(dead.child) and dead.scratch.is_dir()  # what SIGKILL used to leave
    [cleaned] = leases.clean_dead(tmp_path)
    assert (cleaned.run_id, cleaned.pid, cleaned.killed) == ("run-x", dead.proc.pid, 1)
    assert [path for path, _size in cleaned.removed] == [str(dead.scratch)]
    assert cleaned.removed[0][1] == 3 * 2**20
    assert "1 process killed" in str(cleaned) and "3.0 MB" in str(cleaned)
    assert _until(lambda: not _alive(dead.child))
    assert not dead.scratch.exists()
    assert not (tmp_path / f"armbench-leases-{os.getuid()}" / f"{dead.lease_id}.lease").exists()
    # The live execution: its lock is held, so nothing of it is touched.
    assert _alive(live.child) and live.scratch.is_dir()
    assert leases.clean_dead(tmp_path) == []
    assert _alive(live.child) and live.scratch.is_dir()


def test_the_watchdog_cleans_up_as_soon_as_its_execution_is_killed(
    tmp_path: Path, holders: list[Holder]
) -> None:
    holder = _hold(tmp_path, "watch", "4242.3", holders)
    assert _alive(holder.child)
    _kill(holder)
    # Nobody calls clean_dead: the watchdog, blocked on the lease's lock, does it.
    assert _until(lambda: not _alive(holder.child) and not holder.scratch.exists())
    folder = tmp_path / f"armbench-leases-{os.getuid()}"
    assert _until(lambda: not list(folder.iterdir()))


def test_a_lease_released_normally_leaves_nothing_and_its_watchdog_ends(
    tmp_path: Path, holders: list[Holder]
) -> None:
    holder = _hold(tmp_path, "release", "4242.4", holders)
    assert holder.proc.stdout is not None and holder.proc.stdout.readline() == "released\n"
    assert not holder.scratch.exists()
    assert not list((tmp_path / f"armbench-leases-{os.getuid()}").iterdir())
    watchdogs = [
        p.name
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and holder.lease_id.encode() in _cmdline(p)
    ]
    assert watchdogs == []


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to start a process as another user")
def test_another_users_process_is_never_killed_even_with_the_marker(
    tmp_path: Path, holders: list[Holder]
) -> None:
    holder = _hold(tmp_path, "bare", "4242.5", holders)
    other = subprocess.Popen(
        ["sleep", "4242.6"],
        env={"ARMBENCH_RUN": holder.lease_id},
        preexec_fn=lambda: os.setuid(65534),  # nobody
    )
    try:
        _kill(holder)
        [cleaned] = leases.clean_dead(tmp_path)
        assert cleaned.killed == 1 and _until(lambda: not _alive(holder.child))
        assert _alive(other.pid)
    finally:
        other.kill()
        other.wait()


def test_probe_folders_of_dead_preflights_are_removed_and_no_other(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])  # a pid that has just ended
    finished.wait()
    dead = tmp_path / f"armbench-probe-{finished.pid}-abc"
    mine = tmp_path / f"{leases.probe_prefix()}def"
    other = tmp_path / "armbench-probe-12345678"  # another module's probe: no pid in its name
    for folder in (dead, mine, other):
        folder.mkdir()
    leases.clean_dead(tmp_path)
    assert not dead.exists() and mine.exists() and other.exists()


def test_the_lease_folder_must_be_this_users_and_private(tmp_path: Path) -> None:
    folder = tmp_path / f"armbench-leases-{os.getuid()}"
    (tmp_path / "elsewhere").mkdir()
    folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(leases.LeaseError, match="not a private folder"):
        leases.registry(tmp_path)
    folder.unlink()
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(leases.LeaseError, match="not a private folder"):
        leases.clean_dead(tmp_path)


def test_temporary_folders_go_to_the_executions_folder_until_the_last_one_ends(
    tmp_path: Path,
) -> None:
    before = tempfile.gettempdir()
    first, second = tmp_path / "first", tmp_path / "second"
    with temporary_folders_in(first) as used:
        assert used == first and tempfile.gettempdir() == str(first)
        assert base_tempdir() == Path(before)
        with temporary_folders_in(second) as shared:  # a second run in this process
            assert shared == first and not second.exists()
            made = Path(tempfile.mkdtemp())
            assert made.parent == first
        assert made.exists()  # the first is still running: its folder stays
    assert not first.exists() and tempfile.gettempdir() == before


def test_a_read_only_tree_is_removed(tmp_path: Path) -> None:
    tree = tmp_path / "judged"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("x = 1\n")
    for path in (tree / "pkg" / "mod.py", tree / "pkg", tree):
        path.chmod(0o500 if path.is_dir() else 0o400)
    leases.remove_tree(tree)
    assert not tree.exists()
