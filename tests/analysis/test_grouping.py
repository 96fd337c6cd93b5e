"""`report --group-by` (armbench.analysis.grouping) on trials made here; the grouped report of
the published routing study is checked in tests/importers/test_importers.py."""

from __future__ import annotations

import pytest
from facts_helpers import trial_facts

from armbench.analysis.grouping import GroupingError, group_cells, task_groups


def test_grouping_needs_every_task_to_carry_the_field_and_names_what_they_have() -> None:
    config = {"tasks": {"a": {"category": "X"}, "b": {"category": "Y", "size": "s"}}}
    assert task_groups(config, "category", {"a", "b"}) == {"a": "X", "b": "Y"}
    with pytest.raises(GroupingError, match="fields the tasks have: category, size"):
        task_groups(config, "size", {"a", "b"})
    with pytest.raises(GroupingError, match="no task metadata"):
        task_groups({"tasks": ["a", "b"]}, "category", {"a", "b"})
    trials = [trial_facts("r", i, i < 2, 1.0, task="a") for i in range(3)]
    trials += [trial_facts("r", 3 + i, True, 1.0, task="b") for i in range(3)]
    (x, y) = group_cells("category", {"a": "X", "b": "Y"}, trials)
    assert (x.group, x.n_pass, x.n_judged, x.tasks) == ("X", 2, 3, 1)
    assert y.pass_rate == 1.0 and y.pass_rate_ci is not None  # all agree: Wilson's interval
