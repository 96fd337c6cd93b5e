"""Who made a model call (its role) and, in routed arms, which model it went to (its route)."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["solo", "orchestrator", "executor", "router", "single_shot"]
"""`solo`: a model working alone (also both models of a routed arm); `orchestrator` and
`executor`: the two models of an orchestrated arm; `router`: a routed arm's classifier;
`single_shot`: the one completion of a single-shot arm."""
ROLES: tuple[Role, ...] = get_args(Role)
"""Every role, in the order tables show them."""

Route = Literal["local", "cloud"]
"""Which of a routed arm's two models a call went to."""
ROUTES: tuple[Route, ...] = get_args(Route)
