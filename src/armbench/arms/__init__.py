"""Arms: each kind of configuration under test (solo, orchestrated, routed, single-shot,
external) as
one module registered by kind, the context a trial gives it, and what it hands back."""

from armbench.arms.base import ArmContext, ArmKind, ArmOutcome, GatewaySeat, ModelSeats
from armbench.arms.registry import ARM_KINDS, arm_kind

__all__ = [
    "ARM_KINDS",
    "ArmContext",
    "ArmKind",
    "ArmOutcome",
    "GatewaySeat",
    "ModelSeats",
    "arm_kind",
]
