"""Keeping API keys out of everything armbench writes.

Keys are read from the environment only, handed to SDK clients in memory, and never passed to
the agent's shell (see armbench.env.local). As a last line of defence every text a run writes
— transcripts, error messages, checker output — passes through a Redactor that knows the key
values in use, so even a provider that echoes a key back cannot put it on disk.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK = "[REDACTED]"
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
