"""Each external agent installed once, in its own environment, pinned by version.

`~/.cache/armbench/agents/<agent>-<version>/` (under `$ARMBENCH_CACHE` when set, or in
`$ARMBENCH_AGENTS` when that is set) holds a
virtualenv (PyPI agents) or an npm prefix (Claude Code), built by `ensure` before a run starts
(the package registry is the only network it needs) and marked complete last, so a build that
was interrupted is redone, never used. Trials only look it up (`installed`): an agent is never
installed while a trial's clock runs. Its folder is readable, not writable, in the sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from armbench.arms.external.adapter import Adapter
from armbench.env import die_with_parent
from armbench.tasks import cache_root
from armbench.tasks.sources import cache_lock

MARKER = ".armbench-installed"
TIMEOUT_S = 900


class AgentInstallError(RuntimeError):
    """An agent could not be installed: the message names the agent, the version and why."""


def agents_root() -> Path:
    """Where agents are installed."""
    if os.environ.get("ARMBENCH_AGENTS"):
        return Path(os.environ["ARMBENCH_AGENTS"]).expanduser()
    return cache_root() / "agents"


def install_dir(adapter: Adapter, version: str) -> Path:
    return agents_root() / f"{adapter.name}-{version}"


def installed(adapter: Adapter, version: str) -> Path:
    """The agent's installation; AgentInstallError if `ensure` has not made it."""
    folder = install_dir(adapter, version)
    if adapter.installer != "none" and not (folder / MARKER).is_file():
        raise AgentInstallError(
            f"{adapter.name} {version} is not installed in {folder}; a run installs it before "
            "its first trial (`armbench run`)"
        )
    return folder


def ensure(adapter: Adapter, version: str) -> Path:
    """Install the agent unless its cached installation is complete; returns its folder."""
    folder = install_dir(adapter, version)
    if adapter.installer == "none":
        return folder
    with cache_lock(folder.with_name(folder.name + ".lock")):
        if (folder / MARKER).is_file():
            return folder
        shutil.rmtree(folder, ignore_errors=True)  # an interrupted build
        folder.mkdir(parents=True)
        requirement = adapter.requirement(version)
        if adapter.installer == "pip":
            _run([sys.executable, "-m", "venv", str(folder)], adapter, version)
            pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            _run([*pip, "--disable-pip-version-check", requirement], adapter, version)
        else:
            npm = shutil.which("npm")
            if npm is None:
                raise AgentInstallError(
                    f"{adapter.name} installs with npm, which is not on PATH; install Node.js "
                    "(Debian: `apt-get install nodejs npm`)"
                )
            argv = [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund"]
            _run([*argv, "--silent", requirement], adapter, version)
        (folder / MARKER).write_text(requirement + "\n")
    return folder


def _run(argv: list[str], adapter: Adapter, version: str) -> None:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            preexec_fn=die_with_parent,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentInstallError(f"installing {adapter.name} {version}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise AgentInstallError(
            f"installing {adapter.name} {version} failed ({' '.join(argv[:3])} ...): "
            + " | ".join(tail)
            + "; check the version exists and the package registry is reachable"
        )
