"""Keeping API keys out of everything armbench writes and everything its commands can read.

Keys are read from the environment only, handed to SDK clients in memory, and never passed to
the agent's shell (see armbench.env.local). Once read, every secret-looking variable is taken
out of armbench's own environment (`withdraw_secrets`), including the copy the kernel shows in
`/proc/<pid>/environ`, so a command that runs as the same user cannot read it there. As a last
line of defence every text a run writes — transcripts, error messages, checker output — passes
through a Redactor that knows every secret-looking value armbench was started with, so even a
provider that echoes a key back cannot put it on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
from collections.abc import Iterable, MutableMapping
from pathlib import Path

SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)", re.IGNORECASE
)
"""Variable names that look like they hold a credential."""


_WITHDRAWN: dict[str, str] = {}
"""What `withdraw_secrets` took out of this process's environment: armbench still reads keys
from here (a second run in the same process needs them), its commands cannot."""


def looks_secret(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def process_environ() -> dict[str, str]:
    """The process's environment as it was for armbench: what is in it now, plus the secrets
    withdrawn from it (the current value wins)."""
    return {**_WITHDRAWN, **os.environ}


def withdraw_secrets(
    environ: MutableMapping[str, str] | None = None, *, also: Iterable[str] = ()
) -> dict[str, str]:
    """Take every secret-looking variable (and those named in `also`) out of `environ` (the
    process's own environment when None) and return them, name → value.

    For the process's own environment the values are also erased from the block the kernel
    reports as `/proc/self/environ` (Linux): unsetting a variable alone leaves it readable
    there to any process of the same user."""
    env = os.environ if environ is None else environ
    names = {n for n in env if looks_secret(n)} | {n for n in also if n in env}
    taken = {name: env.pop(name) for name in sorted(names)}
    if environ is None and taken:
        _WITHDRAWN.update(taken)
        _erase_from_initial_environment(taken)
    return taken


def _erase_from_initial_environment(taken: dict[str, str]) -> None:
    """Overwrite `NAME=value` entries of the environment the process was started with (the
    memory `/proc/self/environ` reads) with NUL bytes. Best effort: nothing where that memory
    cannot be found (not Linux, an unreadable /proc)."""
    try:
        stat = Path("/proc/self/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50 and 51)
    except (OSError, ValueError, IndexError):
        return
    if not 0 < start < end:
        return
    block = ctypes.string_at(start, end - start)
    entries = {f"{name}={value}".encode() for name, value in taken.items()}
    offset = 0
    for entry in block.split(b"\0"):
        if entry in entries:
            with contextlib.suppress(ValueError, OSError):
                ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


MASK = "[REDACTED]"
GATEWAY_KEY_PREFIX = "armbench-gw-"
"""How a key armbench's metering gateway issued begins. Such a key stands for one trial, is
revoked when its trial ends and is worth nothing elsewhere: it is what an external agent is
given in place of a real key, under the variable its SDK reads (`OPENAI_API_KEY`)."""
_MIN_SECRET = 8
"""Shorter values are not treated as secrets: masking them would garble ordinary text."""


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if len(s) >= _MIN_SECRET}
        self._secrets = sorted(unique, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
