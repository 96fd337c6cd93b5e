"""Routing a routed arm's calls: the signals every strategy reads, the strategies, and
`make_router`, which builds a fresh router per trial from the arm's `strategy`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from armbench.arms.routing.classifier import (
    ClassifierRouter,
    classifier_request,
    digest_signals,
    parse_classifier_answer,
)
from armbench.arms.routing.signals import Signals, read_signals
from armbench.arms.routing.strategies import (
    CascadeRouter,
    ConstantRouter,
    HeuristicRouter,
    RouteDecision,
    Router,
    heuristic_score,
    heuristic_terms,
)
from armbench.config import RoutingStrategy
from armbench.core import ModelRequest, ModelResponse

__all__ = [
    "CascadeRouter",
    "ClassifierRouter",
    "ConstantRouter",
    "HeuristicRouter",
    "RouteDecision",
    "Router",
    "Signals",
    "classifier_request",
    "digest_signals",
    "heuristic_score",
    "heuristic_terms",
    "make_router",
    "parse_classifier_answer",
    "read_signals",
]


def make_router(
    strategy: RoutingStrategy,
    *,
    check_commands: Sequence[str],
    classify: Callable[[ModelRequest], ModelResponse] | None = None,
    classifier_system: str = "",
) -> Router:
    """A fresh router for one trial. `classify` (one recorded call to the classifier model) and
    `classifier_system` (its system prompt) are required by, and only used by, the classifier
    strategy."""
    checks = tuple(check_commands)
    if strategy.name == "always-cloud":
        return ConstantRouter("cloud")
    if strategy.name == "always-local":
        return ConstantRouter("local")
    if strategy.name == "heuristic":
        return HeuristicRouter(strategy.threshold, checks)
    if strategy.name == "cascade":
        return CascadeRouter(strategy, checks)
    if classify is None or not classifier_system:
        raise ValueError("the classifier strategy needs a `classify` callable and its prompt")
    return ClassifierRouter(classify, checks, classifier_system)
