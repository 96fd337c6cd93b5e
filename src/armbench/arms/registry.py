"""Every arm kind, by the name a config's `kind:` uses.

Adding a kind is its config model in armbench.config.arms (added to the `ArmConfig` union) and
a module here defining its `run` and its `ArmKind`, listed below.
"""

from __future__ import annotations

from collections.abc import Mapping

from armbench.arms.base import ArmKind
from armbench.arms.external import EXTERNAL
from armbench.arms.orchestrated import ORCHESTRATED
from armbench.arms.routed import ROUTED
from armbench.arms.single_shot import SINGLE_SHOT
from armbench.arms.solo import SOLO

ARM_KINDS: Mapping[str, ArmKind] = {
    k.kind: k for k in (SOLO, ORCHESTRATED, ROUTED, SINGLE_SHOT, EXTERNAL)
}


def arm_kind(kind: str) -> ArmKind:
    """The registered kind `kind` (the config refuses any other before anything runs)."""
    try:
        return ARM_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(ARM_KINDS))
        raise KeyError(f"no arm kind {kind!r} is registered (known: {known})") from None
